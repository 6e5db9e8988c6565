// Shared setup of the delivery tests: a tenant with a webhook, a room, a live socket, outbox idleness.
import type { ChatApi } from "../../src/main";
import { waitFor, type RestClient, type TestServer } from "../helpers";

export interface TenantRoom {
  tenantId: string;
  apiKey: string;
  roomId: string;
  /** A client acting as `users[0]` (the room's owner). */
  owner: RestClient;
  as(userId: string): RestClient;
}

/** A tenant (with the given config) and a group room owned by users[0] with the other users. */
export async function tenantWithRoom(s: TestServer, users: string[], config: Record<string, unknown> = {}, metadata?: unknown): Promise<TenantRoom> {
  const t = await s.createTenant("delivery", config);
  const owner = s.client(t.api_key, users[0]!);
  const body: Record<string, unknown> = { type: "group", members: users.slice(1) };
  if (metadata !== undefined) body.metadata = metadata;
  const r = await owner.post("/rooms", body);
  if (r.status !== 201) throw new Error(`create room: ${r.status} ${JSON.stringify(r.body)}`);
  return { tenantId: t.tenant_id, apiKey: t.api_key, roomId: r.body.room_id, owner, as: (u) => s.client(t.api_key, u) };
}

/** Sends a message; returns the Message. */
export async function send(c: RestClient, roomId: string, content: string): Promise<any> {
  const r = await c.post(`/rooms/${roomId}/messages`, { content });
  if (r.status !== 201) throw new Error(`send: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Rows of the outbox by status, through the store interfaces. */
import { deliveryCount } from "../support/store";
export { deliveryCount };

/** Waits until nothing is pending or in flight (every delivery reached delivered or dead). */
export async function outboxIdle(api: ChatApi, timeoutMs = 5000): Promise<void> {
  await waitFor(async () => (await deliveryCount(api, "pending")) === 0 && api.webhooks.inFlightCount() === 0, timeoutMs, "an idle outbox");
}

/** A live WebSocket (X-API-Key + X-User-Id handshake) collecting frames. */
export class LiveSocket {
  readonly frames: any[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (e) => this.frames.push(JSON.parse(String(e.data))));
  }

  static async open(s: TestServer, apiKey: string, userId: string): Promise<LiveSocket> {
    const ws = new WebSocket(s.wsUrl, { headers: { "x-api-key": apiKey, "x-user-id": userId } } as any);
    const sock = new LiveSocket(ws);
    await sock.next((f) => f.type === "sync.complete");
    return sock;
  }

  async next(pred: (f: any) => boolean, timeoutMs = 3000): Promise<any> {
    return waitFor(() => this.frames.find(pred), timeoutMs, "a frame");
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((r) => this.ws.addEventListener("close", r));
    this.ws.close();
    await closed;
  }
}
