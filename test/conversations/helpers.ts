// Shared setup of the conversation tests (threads, mentions, reactions, changes): a tenant with a
// group room, REST clients per user, WebSocket connections, error checks.
import { afterAll, beforeAll, expect } from "bun:test";
import { Receiver } from "../delivery/receiver";
import { startTestServer, type Res, type RestClient, type TestServer } from "../helpers";
import { connectWs, keyHeaders, type WsConn } from "../ws/ws-helpers";

/** A file's test server and webhook receiver; both set by the beforeAll that serverAndReceiver registers. */
export interface ServerAndReceiver {
  s: TestServer;
  rx: Receiver;
}

/** Registers the beforeAll/afterAll of a file that needs a test server (fast webhook retries) and a webhook receiver. */
export function serverAndReceiver(): ServerAndReceiver {
  const env = {} as ServerAndReceiver;
  beforeAll(async () => {
    env.rx = new Receiver();
    env.s = await startTestServer({ RETRY_INTERVAL: "50ms", WORKER_INTERVAL: "100ms" });
  });
  afterAll(async () => {
    await env.s.stop();
    env.rx.stop();
  });
  return env;
}

export interface Convo {
  tenantId: string;
  apiKey: string;
  roomId: string;
  as(userId: string): RestClient;
  connect(userId: string): Promise<WsConn>;
  send(userId: string, body: Record<string, unknown>): Promise<any>;
  room(owner: string, members: string[], type?: "group" | "channel"): Promise<string>;
}

/** A tenant and a group room owned by users[0] with the others as members. */
export async function convo(s: TestServer, users: string[], config?: Record<string, unknown>): Promise<Convo> {
  const t = await s.createTenant("conversations", { user_message_rate: 100000, ...config });
  const as = (u: string) => s.client(t.api_key, u);
  const room = async (owner: string, members: string[], type: "group" | "channel" = "group") => {
    const r = await as(owner).post("/rooms", { type, members });
    if (r.status !== 201) throw new Error(`create room: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.room_id as string;
  };
  const roomId = await room(users[0]!, users.slice(1));
  return {
    tenantId: t.tenant_id,
    apiKey: t.api_key,
    roomId,
    as,
    room,
    connect: (u) => connectWs(s.wsUrl, { headers: keyHeaders(t.api_key, u), waitSync: true }),
    async send(u, body) {
      const r = await as(u).post(`/rooms/${(body.room_id as string) ?? roomId}/messages`, { ...body, room_id: undefined });
      if (r.status !== 201) throw new Error(`send: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    },
  };
}

/** Asserts status and error code. */
export function expectError(r: Res, status: number, code: string): void {
  expect({ status: r.status, error: r.body?.error }).toEqual({ status, error: code });
}

/** Calls a WS request and returns the error frame it got (fails if it got a reply). */
export async function wsError(c: WsConn, type: string, data: unknown): Promise<any> {
  const f = await c.request(type, data);
  expect(f.type).toBe("error");
  return f;
}
