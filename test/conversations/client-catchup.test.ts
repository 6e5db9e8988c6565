// The TypeScript client's automatic catch-up: a tracked room's local copies converge to the server's
// state across disconnects, though edits, deletions, reactions and reply counts made while the client
// was away are never replayed as frames (they come from the changes feed after each reconnect).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ChatClient } from "../../src/client/index.ts";
import type { Message, WebSocketLike } from "../../src/client/index.ts";
import { startTestServer, waitFor, type TestServer } from "../helpers";
import { convo, type Convo } from "./helpers";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.stop());

/** A client plus the app-side copy of one room that its events maintain. */
function follower(c: Convo) {
  const sockets: WebSocketLike[] = [];
  const BunWebSocket = WebSocket as unknown as new (url: string, o?: { headers?: Record<string, string> }) => WebSocketLike;
  const client = new ChatClient({
    url: s.wsUrl,
    apiKey: c.apiKey,
    userId: "dave",
    reconnectBaseDelayMs: 5,
    reconnectMaxDelayMs: 50,
    webSocketFactory: (url, headers) => {
      const ws = new BunWebSocket(url, { headers });
      sockets.push(ws);
      return ws;
    },
  });
  const local = new Map<string, Message>();
  const put = (m: Message) => {
    const { type: _t, ...rest } = m as Message & { type?: string };
    local.set(m.message_id, rest as Message);
  };
  client.on("message", put);
  client.on("message.edited", put);
  client.on("message.deleted", put);
  client.on("changes", (e) => e.messages.forEach(put));
  for (const t of ["reaction.added", "reaction.removed"] as const) {
    client.on(t, (f) => {
      const m = local.get(f.message_id);
      if (m) local.set(f.message_id, { ...m, reactions: f.reactions });
    });
  }
  client.on("thread.updated", (f) => {
    const m = local.get(f.message_id);
    if (m) local.set(f.message_id, { ...m, reply_count: f.reply_count, last_reply_at: f.last_reply_at });
  });
  return { client, local, sockets };
}

async function serverState(c: Convo): Promise<Map<string, Message>> {
  const out = new Map<string, Message>();
  let after = 0;
  for (;;) {
    const r = await c.as("alice").get(`/rooms/${c.roomId}/messages?after_seq=${after}&limit=200`);
    for (const m of r.body.messages) out.set(m.message_id, m);
    if (!r.body.has_more) return out;
    after = r.body.messages.at(-1).seq;
  }
}

const same = (a: Map<string, Message>, b: Map<string, Message>) => a.size === b.size && [...b].every(([id, m]) => Bun.deepEquals(a.get(id), m));

describe("ChatClient catch-up through the changes feed", () => {
  test("changes made while the client is disconnected reach its local state after the reconnect", async () => {
    const c = await convo(s, ["alice", "bob", "dave"]);
    const m1 = await c.send("alice", { content: "one" });
    const m2 = await c.send("alice", { content: "two" });
    const f = follower(c);
    await f.client.connect();
    await f.client.trackChanges(c.roomId);
    for (const m of (await f.client.sync(c.roomId, { afterSeq: 0 })).messages) f.local.set(m.message_id, m);
    const reconnected = new Promise<void>((resolve) => {
      let closes = 0;
      f.client.on("close", () => void closes++);
      f.client.on("connected", () => closes > 0 && resolve());
    });
    const offline = new Promise<void>((resolve) => f.client.on("close", () => resolve()));
    f.sockets.at(-1)!.close();
    await offline;
    // While away: an edit, a deletion, reactions, a reply (its root's reply_count changes).
    await c.as("alice").patch(`/rooms/${c.roomId}/messages/${m1.message_id}`, { content: "one (edited)" });
    await c.as("bob").post(`/rooms/${c.roomId}/messages/${m1.message_id}/reactions`, { reaction: "👍" });
    await c.send("bob", { content: "re", parent_id: m2.message_id });
    await c.as("alice").del(`/rooms/${c.roomId}/messages/${m2.message_id}`);
    await reconnected;
    const server = await serverState(c);
    await waitFor(() => same(f.local, server), 5000, "local state equal to the server's");
    expect(f.local.get(m1.message_id)).toMatchObject({ content: "one (edited)", reactions: [{ reaction: "👍", count: 1, user_ids: ["bob"] }] });
    expect(f.local.get(m2.message_id)).toMatchObject({ content: "", reply_count: 1 });
    expect(typeof f.client.getChangesCursor(c.roomId)).toBe("string");
    f.client.close();
  });

  test("seeded random interleavings of drops and concurrent writes converge", async () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const c = await convo(s, ["alice", "bob", "dave"]);
    const f = follower(c);
    await f.client.connect();
    await f.client.trackChanges(c.roomId);
    const ids: string[] = [(await c.send("alice", { content: "root" })).message_id];
    for (let round = 0; round < 15; round++) {
      if (rand() < 0.4) f.sockets.at(-1)?.close();
      await Promise.all(
        Array.from({ length: 1 + Math.floor(rand() * 4) }, async () => {
          const x = rand();
          const id = ids[Math.floor(rand() * ids.length)]!;
          if (x < 0.3) ids.push((await c.send("alice", { content: `m${round}` })).message_id);
          else if (x < 0.45) await c.as("bob").post(`/rooms/${c.roomId}/messages`, { content: "r", parent_id: id });
          else if (x < 0.65) await c.as("alice").patch(`/rooms/${c.roomId}/messages/${id}`, { content: `e${round}` });
          else if (x < 0.75) await c.as("alice").del(`/rooms/${c.roomId}/messages/${id}`);
          else await c.as("bob").post(`/rooms/${c.roomId}/messages/${id}/reactions`, { reaction: rand() < 0.5 ? "a" : "b" });
        }),
      );
    }
    await waitFor(() => f.client.state === "open", 5000, "open");
    // The last writes may have happened while the socket was up (frames) or down (feed): both paths end equal.
    const server = await serverState(c);
    await f.client.catchUp(c.roomId);
    await waitFor(() => same(f.local, server), 5000, "local state equal to the server's");
    f.client.close();
  });
});
