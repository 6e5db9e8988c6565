// Rows and helpers shared by the contract suites (plain data: valid for every store).
import type { DeliveryRow } from "../delivery-store";
import type { MessageRow } from "../message-store";
import type { RoomRow } from "../room-store";
import type { Store } from "../store";

/** A fixed instant `ms` milliseconds after a base (sortable, distinct). */
export const at = (ms = 0): string => new Date(Date.UTC(2026, 0, 1) + ms).toISOString();

export function roomRow(tenantId: string, roomId: string, extra: Partial<RoomRow> = {}): RoomRow {
  return { tenant_id: tenantId, room_id: roomId, type: "group", name: null, metadata: null, dm_key: null, last_seq: 0, last_activity_at: at(), created_by: "u1", created_at: at(), updated_at: at(), ...extra };
}

export function messageRow(tenantId: string, roomId: string, seq: number, extra: Partial<MessageRow> = {}): MessageRow {
  return {
    tenant_id: tenantId,
    room_id: roomId,
    seq,
    message_id: Bun.randomUUIDv7(),
    sender_id: "u1",
    content: `m${seq}`,
    meta: null,
    client_msg_id: null,
    created_at: at(seq),
    edited_at: null,
    deleted_at: null,
    parent_id: null,
    reply_count: 0,
    last_reply_at: null,
    mentions: [],
    reactions: [],
    attachments: [],
    change_seq: seq,
    ...extra,
  };
}

export function deliveryRow(tenantId: string, id: string, extra: Partial<DeliveryRow> = {}): DeliveryRow {
  return {
    delivery_id: id,
    tenant_id: tenantId,
    kind: "message.new",
    payload: JSON.stringify({ event_id: id, nested: { a: [1, 2] } }),
    status: "pending",
    attempts: 0,
    next_attempt_at: at(),
    last_error: null,
    target_url: "http://hook.invalid/",
    created_at: at(),
    last_attempt_at: null,
    finished_at: null,
    ...extra,
  };
}

/** A tenant and a room with members u1..uN, committed. */
export async function tenantWithRoom(store: Store, tenantId: string, roomId: string, members = ["u1", "u2"]): Promise<void> {
  await store.transaction(async (tx) => {
    if (!(await tx.tenants.get(tenantId))) {
      await tx.tenants.insert({ tenant_id: tenantId, name: tenantId, api_key_hash: `hash-${tenantId}`, config: {}, webhook_secret: null, jwt_secret: null, jwt_public_keys: null, created_at: at(), updated_at: at() });
    }
    await tx.rooms.insertRoom(roomRow(tenantId, roomId));
    for (const [i, u] of members.entries()) await tx.rooms.addMember(tenantId, roomId, u, i === 0 ? "owner" : "member", at(i));
  });
}

/** Runs `fn` in a transaction that always rolls back; returns what it returned. */
export async function peek<T>(store: Store, fn: Parameters<Store["transaction"]>[0] extends (tx: infer X) => unknown ? (tx: X) => Promise<T> : never): Promise<T> {
  const box: { v?: T } = {};
  await store
    .transaction(async (tx) => {
      box.v = await fn(tx);
      throw new Error("peek: roll back");
    })
    .catch((err) => {
      if (String(err) !== "Error: peek: roll back") throw err;
    });
  return box.v as T;
}
