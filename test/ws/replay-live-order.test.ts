// Regression (issue 11): the connect replay is asynchronous now, so live frames published while it
// runs are held and sent after it, in order. Sockets connecting during a stream of sends must see
// every seq of the room exactly once, strictly ascending: no live frame overtakes the replay, none
// published meanwhile is lost, none is sent twice.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, waitFor, type TestServer } from "../helpers";
import { makeTenant, range } from "./ws-helpers";

let s: TestServer;
beforeAll(async () => {
  // Every replay covers the whole room (no sync.gap), so each socket must see exactly 1..200.
  s = await startTestServer({ SYNC_MAX_PER_ROOM: "1000", SYNC_MAX_TOTAL: "1000" });
});
afterAll(() => s.stop());

test("sockets that connect while 200 messages stream in get seqs last_ack+1..200 in order, once each", async () => {
  const t = await makeTenant(s, "replay-live", { user_message_rate: 100_000, rate_limit: 100_000, rate_limit_burst: 100_000 });
  const readers = ["b0", "b1", "b2", "b3", "b4", "b5"];
  const room = await t.room("alice", readers);
  const alice = t.as("alice");
  const total = 200;
  // A steady stream: 4 concurrent senders, so commits keep landing during every connect.
  let next = 0;
  const sender = async () => {
    while (next < total) {
      const i = next++;
      const r = await alice.post(`/rooms/${room}/messages`, { content: `m${i}` });
      if (r.status !== 201) throw new Error(`send ${i}: ${r.status}`);
    }
  };
  const sending = Promise.all([sender(), sender(), sender(), sender()]);
  // Make every replay slow (as a remote database would be): its last read (notifications, after the
  // room's messages were read) waits until 5 more sends have started, so messages the replay did not
  // read are committed and published before the socket subscribes.
  const reads = s.api.store.notifications as { unackedOldestFirst: (...a: unknown[]) => Promise<unknown> };
  const unacked = reads.unackedOldestFirst;
  let delayed = 0;
  reads.unackedOldestFirst = async (...a: unknown[]) => {
    const from = next;
    await waitFor(() => next >= Math.min(total, from + 5), 10_000, "sends during the replay");
    delayed++;
    return unacked.apply(reads, a);
  };
  // Readers connect one after another while the stream runs (none acks: each replay starts at seq 1).
  const sockets = [];
  for (const [k, u] of readers.entries()) {
    await waitFor(() => next >= (k + 1) * 25, 10_000, `send #${(k + 1) * 25}`);
    // To the node whose replays were slowed (s.node); the sends go through s.url (in cluster mode,
    // half of them through the other node, their frames through Redis during the replay).
    sockets.push(await t.connect(u, { waitSync: false, url: s.node.wsUrl }));
  }
  await sending;
  reads.unackedOldestFirst = unacked;
  expect(delayed).toBe(readers.length);
  for (const c of sockets) {
    await waitFor(() => c.frames.some((f) => f.type === "message" && f.seq === total), 10_000, "the last message on every socket");
    const seqs = c.frames.filter((f) => f.type === "message" && f.room_id === room).map((f) => f.seq as number);
    expect(seqs).toEqual(range(1, total));
    // The replay ends with sync.complete; every frame before it is replay, every message after it is live and newer.
    const complete = c.frames.findIndex((f) => f.type === "sync.complete");
    expect(complete).toBeGreaterThan(0);
    c.close();
  }
}, 60_000);
