import { describe, expect, test } from "bun:test";
import { ChatClient, createChatClient } from "./chat-client.ts";
import { ChatClientError } from "./errors.ts";
import {
  closeAfterEach,
  collect,
  makeMessage,
  startScriptedServer,
  waitFor,
  type ReceivedFrame,
  type Script,
  type ScriptedServer,
} from "./scripted-server.ts";

const ROOM = "room-1";
const live = closeAfterEach();

async function setup(script: Script = {}, extra: Partial<ConstructorParameters<typeof ChatClient>[0]> = {}) {
  const server = (live.server = startScriptedServer(script));
  const client = (live.client = createChatClient({ url: server.url, apiKey: "key-1", userId: "u1", ...extra } as never));
  let replayed = false;
  client.once("sync.complete", () => (replayed = true));
  await client.connect();
  // The default script ends its replay with sync.complete; tests start after it.
  if (script.onOpen === undefined) await waitFor(() => replayed, 1000, "sync.complete");
  return { server, client };
}

function seqs(c: ChatClient, roomId = ROOM): number[] {
  const list: number[] = [];
  c.on("message", (m) => {
    if (m.room_id === roomId) list.push(m.seq);
  });
  return list;
}

function syncFrames(s: ScriptedServer) {
  return s.connections.flatMap((conn) => conn.frames).filter((frame) => frame.type === "sync");
}

describe("requests", () => {
  test("connects with headers and exposes the connection", async () => {
    const { server, client } = await setup();
    const conn = server.connections[0]!;
    expect(conn.headers.get("x-api-key")).toBe("key-1");
    expect(conn.headers.get("x-user-id")).toBe("u1");
    expect(conn.url.searchParams.has("token")).toBe(false);
    expect(client.state).toBe("open");
    expect(client.connectionId).toBe("c0");
    expect(client.userId).toBe("u1");
  });

  test("replies are correlated by id, also out of order", async () => {
    const held: { frame: ReceivedFrame }[] = [];
    const { server, client } = await setup({
      onFrame(conn, frame) {
        held.push({ frame });
        if (held.length < 2) return;
        // Answer the second request first.
        for (const { frame: f } of held.reverse()) conn.reply(f, { rooms: [], next_cursor: String(f.data?.cursor) });
      },
    });
    const first = client.listRooms({ cursor: "a" });
    const second = client.listRooms({ cursor: "b" });
    expect((await first).next_cursor).toBe("a");
    expect((await second).next_cursor).toBe("b");
    const ids = server.connections[0]!.frames.map((f) => f.id);
    expect(new Set(ids).size).toBe(2);
  });

  test("an error frame rejects with its code; rate limits carry retryAfterMs", async () => {
    const { client } = await setup({
      onFrame(conn, frame) {
        if (frame.type === "send_message") {
          conn.send({ type: "error", id: frame.id, error: "forbidden", message: "not a member" });
        } else {
          conn.send({ type: "error", id: frame.id, error: "rate_limit_exceeded", message: "slow down", retry_after_ms: 1500 });
        }
      },
    });
    const denied = await client.sendMessage(ROOM, "hi").catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(ChatClientError);
    expect((denied as ChatClientError).code).toBe("forbidden");
    expect((denied as ChatClientError).message).toBe("not a member");
    const limited = (await client.ack(ROOM, 1).catch((e: unknown) => e)) as ChatClientError;
    expect(limited.code).toBe("rate_limit_exceeded");
    expect(limited.retryAfterMs).toBe(1500);
  });

  test("an error without a pending request is emitted as an event", async () => {
    const { server, client } = await setup();
    const errors = collect(client, "error");
    server.connections[0]!.send({ type: "error", error: "invalid_request", message: "invalid JSON" });
    await waitFor(() => errors.length === 1, 1000, "error event");
    expect(errors[0]!.error).toBe("invalid_request");
  });

  test("a request without a reply times out", async () => {
    const { client } = await setup({ onFrame() {} });
    const error = (await client.ping({ timeoutMs: 30 }).catch((e: unknown) => e)) as ChatClientError;
    expect(error.code).toBe("timeout");
  });

  test("requests made before the connection opens are queued, then sent", async () => {
    const server = (live.server = startScriptedServer());
    const client = (live.client = new ChatClient({ url: server.url, apiKey: "k", userId: "u1" }));
    const opened = client.connect();
    expect(client.state).toBe("connecting");
    const rtt = client.ping();
    await opened;
    expect(await rtt).toBeGreaterThanOrEqual(0);
    expect(server.connections[0]!.frames.map((f) => f.type)).toEqual(["ping"]);
  });

  test("a request on a closed client rejects with disconnected", async () => {
    const client = (live.client = new ChatClient({ url: "ws://127.0.0.1:9/ws", apiKey: "k", userId: "u1" }));
    const error = (await client.typingStart(ROOM).catch((e: unknown) => e)) as ChatClientError;
    expect(error.code).toBe("disconnected");
  });

  test("sendMessage generates a client_msg_id; frames carry exact docs/reference/rest.md field names", async () => {
    const { server, client } = await setup({
      onFrame(conn, frame) {
        conn.reply(frame, { ...makeMessage(ROOM, 1), client_msg_id: frame.data?.client_msg_id ?? null });
      },
    });
    const sent = await client.sendMessage(ROOM, "hello", { meta: { k: 1 } });
    await client.editMessage(ROOM, "m1", { meta: null });
    await client.sync(ROOM, { afterSeq: 3, limit: 10 });
    const [send, edit, sync] = server.connections[0]!.frames;
    expect(send!.data).toEqual({ room_id: ROOM, content: "hello", meta: { k: 1 }, client_msg_id: expect.any(String) });
    expect(sent.client_msg_id).toBe(send!.data!.client_msg_id as string);
    expect(edit!.data).toEqual({ room_id: ROOM, message_id: "m1", meta: null });
    expect(sync!.data).toEqual({ room_id: ROOM, after_seq: 3, limit: 10 });
  });

  test("options must name exactly one way to authenticate", () => {
    expect(() => new ChatClient({ url: "ws://x/ws" } as never)).toThrow(TypeError);
    const both = { url: "ws://x/ws", apiKey: "k", userId: "u", getToken: async () => "t" };
    expect(() => new ChatClient(both as never)).toThrow(TypeError);
  });
});

describe("per-room ordering", () => {
  test("duplicates are dropped; edits and deletes always pass through", async () => {
    const { server, client } = await setup();
    const delivered = seqs(client);
    const edits = collect(client, "message.edited");
    const deletes = collect(client, "message.deleted");
    const conn = server.connections[0]!;
    for (const seq of [1, 2, 2, 1, 3]) conn.send({ type: "message", ...makeMessage(ROOM, seq) });
    conn.send({ type: "message.edited", ...makeMessage(ROOM, 1), content: "edited" });
    conn.send({ type: "message.deleted", ...makeMessage(ROOM, 2), content: "", deleted_at: new Date().toISOString() });
    await waitFor(() => deletes.length === 1, 1000, "delete");
    expect(delivered).toEqual([1, 2, 3]);
    expect(edits.map((e) => e.content)).toEqual(["edited"]);
    expect(client.getLastSeq(ROOM)).toBe(3);
    expect(syncFrames(server)).toEqual([]);
  });

  test("the first message of an unknown room is accepted without loading history", async () => {
    const { server, client } = await setup();
    const delivered = seqs(client);
    server.connections[0]!.send({ type: "message", ...makeMessage(ROOM, 50) });
    server.connections[0]!.send({ type: "message", ...makeMessage(ROOM, 51) });
    await waitFor(() => delivered.length === 2);
    expect(delivered).toEqual([50, 51]);
    expect(syncFrames(server)).toEqual([]);
  });

  test("a gap is filled with sync before the later message is delivered", async () => {
    const { server, client } = await setup();
    server.addMessages(ROOM, 7);
    client.seed(ROOM, 3);
    const delivered = seqs(client);
    server.connections[0]!.send({ type: "message", ...makeMessage(ROOM, 7) });
    await waitFor(() => delivered.length === 4, 1000, "filled gap");
    expect(delivered).toEqual([4, 5, 6, 7]);
    expect(syncFrames(server).map((f) => f.data)).toEqual([{ room_id: ROOM, after_seq: 3, before_seq: 7, limit: 200 }]);
  });

  test("a large gap is paged 200 at a time, live messages wait in order", async () => {
    const { server, client } = await setup();
    server.addMessages(ROOM, 452);
    client.seed(ROOM, 0);
    const delivered = seqs(client);
    const conn = server.connections[0]!;
    conn.send({ type: "message", ...makeMessage(ROOM, 451) });
    conn.send({ type: "message", ...makeMessage(ROOM, 452) });
    await waitFor(() => delivered.length === 452, 1500, "452 messages");
    expect(delivered).toEqual(Array.from({ length: 452 }, (_, i) => i + 1));
    expect(syncFrames(server).map((f) => f.data?.after_seq)).toEqual([0, 200, 400]);
    expect(syncFrames(server).every((f) => f.data?.limit === 200)).toBe(true);
  });

  test("sync.gap is paged, then the replayed messages follow in order", async () => {
    const onOpen: Script["onOpen"] = (conn, s) => {
      conn.send({ type: "connected", user_id: "u1", connection_id: "c0", heartbeat_s: 30 });
      conn.send({ type: "sync.gap", room_id: ROOM, from_seq: 11, to_seq: 300 });
      for (const m of s.rooms.get(ROOM)!.slice(300)) conn.send({ type: "message", ...m });
      conn.send({ type: "sync.complete", rooms: 1 });
    };
    const server = (live.server = startScriptedServer({ onOpen }));
    server.addMessages(ROOM, 400);
    const client = (live.client = new ChatClient({ url: server.url, apiKey: "k", userId: "u1" }));
    client.seed(ROOM, 10);
    const delivered = seqs(client);
    await client.connect();
    await waitFor(() => delivered.length === 390, 1500, "390 messages");
    expect(delivered).toEqual(Array.from({ length: 390 }, (_, i) => i + 11));
    // The gap's window first; sync.complete then widens the fill to "up to the newest".
    const windows = syncFrames(server).map((f) => [f.data?.after_seq, f.data?.before_seq]);
    expect(windows).toEqual([
      [10, 301],
      [210, undefined],
    ]);
  });

  test("sync.gap of a room without lastSeq is left to the app's history load", async () => {
    const onOpen: Script["onOpen"] = (conn, s) => {
      conn.send({ type: "connected", user_id: "u1", connection_id: "c0", heartbeat_s: 30 });
      conn.send({ type: "sync.gap", room_id: ROOM, from_seq: 1, to_seq: 300 });
      for (const m of s.rooms.get(ROOM)!.slice(300)) conn.send({ type: "message", ...m });
      conn.send({ type: "sync.complete", rooms: 1 });
    };
    const server = (live.server = startScriptedServer({ onOpen }));
    server.addMessages(ROOM, 310);
    const client = (live.client = new ChatClient({ url: server.url, apiKey: "k", userId: "u1" }));
    const delivered = seqs(client);
    await client.connect();
    const s = server;
    await waitFor(() => delivered.length === 10 && syncFrames(s).length === 1, 1000, "replay");
    expect(delivered).toEqual([301, 302, 303, 304, 305, 306, 307, 308, 309, 310]);
    // Only the post-connect catch-up from lastSeq, never a fetch of older history.
    expect(syncFrames(s).map((f) => f.data?.after_seq)).toEqual([310]);
  });

  test("a failed fill keeps lastSeq and reports sync_error", async () => {
    const { server, client } = await setup({
      onFrame(conn, frame) {
        conn.send({ type: "error", id: frame.id, error: "forbidden", message: "not a member" });
      },
    });
    client.seed(ROOM, 3);
    const delivered = seqs(client);
    const failures = collect(client, "sync_error");
    server.connections[0]!.send({ type: "message", ...makeMessage(ROOM, 9) });
    await waitFor(() => failures.length === 1, 1000, "sync_error");
    expect(failures[0]!.room_id).toBe(ROOM);
    expect(delivered).toEqual([]);
    expect(client.getLastSeq(ROOM)).toBe(3);
  });

  test("leaving a room forgets its lastSeq", async () => {
    const { server, client } = await setup();
    client.seed(ROOM, 5);
    const left = collect(client, "member.left");
    server.connections[0]!.send({ type: "member.left", room_id: ROOM, user_id: "u1", role: "member" });
    await waitFor(() => left.length === 1);
    expect(client.getLastSeq(ROOM)).toBeUndefined();
  });
});
