// Row builders for store-level tests (any implementation).
import type { DeliveryRow } from "../../src/storage/delivery-store";
import type { MessageRow } from "../../src/storage/message-store";
import type { Store, Tx } from "../../src/storage/store";

export const iso = (ms = Date.now()) => new Date(ms).toISOString();

/** Inserts tenant `tenantId` with room `roomId` (members: `members`, the first the owner). */
export async function seedRoom(store: Store, tenantId: string, roomId: string, members: string[] = ["u1"]): Promise<void> {
  const now = iso();
  await store.transaction(async (tx) => {
    if (!(await tx.tenants.get(tenantId))) {
      await tx.tenants.insert({ tenant_id: tenantId, name: tenantId, api_key_hash: `hash-${tenantId}`, config: {}, webhook_secret: null, jwt_secret: null, jwt_public_keys: null, created_at: now, updated_at: now });
    }
    await tx.rooms.insertRoom({ tenant_id: tenantId, room_id: roomId, type: "group", name: null, metadata: null, dm_key: null, last_seq: 0, last_activity_at: now, created_by: members[0]!, created_at: now, updated_at: now });
    for (const [i, u] of members.entries()) await tx.rooms.addMember(tenantId, roomId, u, i === 0 ? "owner" : "member", now);
  });
}

/** A message row for `seq` (ids fresh). */
export function messageRow(tenantId: string, roomId: string, seq: number, over: Partial<MessageRow> = {}): MessageRow {
  return { tenant_id: tenantId, room_id: roomId, seq, message_id: Bun.randomUUIDv7(), sender_id: "u1", content: `m${seq}`, meta: null, client_msg_id: null, created_at: iso(), edited_at: null, deleted_at: null, parent_id: null, reply_count: 0, last_reply_at: null, mentions: [], reactions: [], attachments: [], change_seq: seq, ...over };
}

/** What a send does in its transaction: next seq, insert. Returns the seq. */
export async function send(tx: Tx, tenantId: string, roomId: string, over: Partial<MessageRow> = {}): Promise<number> {
  const at = iso();
  const seq = await tx.rooms.nextSeq(tenantId, roomId, at);
  await tx.messages.insert(messageRow(tenantId, roomId, seq, { created_at: at, ...over }));
  return seq;
}

/** A pending delivery due now (or at `due`). */
export function deliveryRow(tenantId: string, over: Partial<DeliveryRow> = {}): DeliveryRow {
  const now = iso();
  return { delivery_id: Bun.randomUUIDv7(), tenant_id: tenantId, kind: "message.new", payload: '{"k":1}', status: "pending", attempts: 0, next_attempt_at: now, last_error: null, target_url: null, created_at: now, last_attempt_at: null, finished_at: null, ...over };
}
