// Convergence of the changes feed (docs/guides/conversations.md, "Changes"): a client that keeps its cursor across
// random interleavings of disconnects and concurrent sends, replies, edits, deletes and reactions
// ends with exactly the server's state. Randomized and SEEDED: a failure prints its seed, and
// CONVERGENCE_SEED=<n> bun test test/conversations/convergence.test.ts replays that run.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers";
import type { WsConn } from "../ws/ws-helpers";
import { convo, type Convo } from "./helpers";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.stop());

/** mulberry32: a tiny deterministic PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const USERS = ["alice", "bob", "carol"];
const REACTIONS = ["👍", "🎉", "x", "y"];

/** The server's full state of the room: every message (tombstones included), by id. */
async function serverState(c: Convo): Promise<Map<string, any>> {
  const out = new Map<string, any>();
  let after = 0;
  for (;;) {
    const r = await c.as("alice").get(`/rooms/${c.roomId}/messages?after_seq=${after}&limit=200`);
    for (const m of r.body.messages) out.set(m.message_id, m);
    if (!r.body.has_more) return out;
    after = r.body.messages[r.body.messages.length - 1].seq;
  }
}

/** The client under test: local copies by id and one cursor, kept across disconnects. */
class Follower {
  readonly local = new Map<string, any>();
  cursor: string | null = null;
  ws: WsConn | null = null;
  constructor(private readonly c: Convo) {}

  async page(limit: number): Promise<boolean> {
    const body = this.ws
      ? await this.ws.call("changes", { room_id: this.c.roomId, since: this.cursor!, limit })
      : (await this.c.as("dave").get(`/rooms/${this.c.roomId}/changes?since=${encodeURIComponent(this.cursor!)}&limit=${limit}`)).body;
    for (const m of body.messages) this.local.set(m.message_id, m);
    this.cursor = body.next_cursor;
    return body.has_more;
  }
}

async function run(seed: number): Promise<void> {
  const rand = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const c = await convo(s, [...USERS, "dave"]);
  const f = new Follower(c);
  // The documented pattern: take the present cursor first, then load history; apply changes after.
  f.cursor = (await c.as("dave").get(`/rooms/${c.roomId}/changes`)).body.next_cursor;
  for (const m of (await serverState(c)).values()) f.local.set(m.message_id, m);
  const ids: { id: string; sender: string; root: boolean }[] = [];
  const op = async (): Promise<void> => {
    const u = pick(USERS);
    const r = rand();
    const target = ids.length ? pick(ids) : null;
    if (r < 0.3 || !target) {
      const m = await c.send(u, { content: `m${Math.floor(rand() * 1e6)}`, mentions: rand() < 0.3 ? [pick(USERS)] : undefined });
      ids.push({ id: m.message_id, sender: u, root: true });
    } else if (r < 0.45) {
      const res = await c.as(u).post(`/rooms/${c.roomId}/messages`, { content: "reply", parent_id: target.id });
      if (res.status === 201) ids.push({ id: res.body.message_id, sender: u, root: false });
    } else if (r < 0.6) {
      await c.as(target.sender).patch(`/rooms/${c.roomId}/messages/${target.id}`, { content: `edit${Math.floor(rand() * 1e6)}` });
    } else if (r < 0.7) {
      await c.as(target.sender).del(`/rooms/${c.roomId}/messages/${target.id}`);
    } else if (r < 0.88) {
      await c.as(u).post(`/rooms/${c.roomId}/messages/${target.id}/reactions`, { reaction: pick(REACTIONS) });
    } else {
      await c.as(u).del(`/rooms/${c.roomId}/messages/${target.id}/reactions/${encodeURIComponent(pick(REACTIONS))}`);
    }
  };
  for (let round = 0; round < 25; round++) {
    // Random connectivity: the follower reads over REST or WS, and its socket drops at random.
    const mode = rand();
    if (mode < 0.3 && f.ws) {
      f.ws.close();
      f.ws = null;
    } else if (mode < 0.6 && !f.ws) {
      f.ws = await c.connect("dave");
    }
    // Concurrent writers and a partial catch-up of the follower, interleaved.
    const writers = Array.from({ length: 1 + Math.floor(rand() * 6) }, () => op());
    const reads = (async () => {
      const pages = Math.floor(rand() * 3);
      for (let i = 0; i < pages; i++) if (!(await f.page(1 + Math.floor(rand() * 5)))) break;
    })();
    await Promise.all([...writers, reads]);
  }
  // Reconnect and catch up fully from the kept cursor.
  f.ws?.close();
  f.ws = await c.connect("dave");
  while (await f.page(1 + Math.floor(rand() * 50)));
  f.ws.close();
  const server = await serverState(c);
  expect({ seed, size: f.local.size }).toEqual({ seed, size: server.size });
  for (const [id, m] of server) expect({ seed, m: f.local.get(id) }).toEqual({ seed, m });
}

describe("changes feed convergence", () => {
  const fixed = process.env.CONVERGENCE_SEED;
  const seeds = fixed ? [Number(fixed)] : [1, 2, 3, 20261205];
  for (const seed of seeds) {
    test(`seed ${seed}: the follower's state equals the server's`, () => run(seed), 60_000);
  }
});
