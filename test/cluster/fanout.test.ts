// Cluster fan-out (docs/guides/scaling.md): three nodes on PostgreSQL + Redis behind nginx. Messages sent
// through any node reach the sockets on every node in seq order, once; replay from another node;
// presence and typing across nodes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { waitFor } from "../helpers";
import { connectWs, keyHeaders, type WsConn } from "../ws/ws-helpers";
import { clusterUnavailable, startCluster, type Cluster } from "./harness";

const skip = (await clusterUnavailable()) !== null;
let c: Cluster;
let t: { tenant_id: string; api_key: string };
let roomId: string;
const ws = (node: number, user: string) => connectWs(c.nodes[node]!.url.replace(/^http/, "ws") + "/ws", { headers: keyHeaders(t.api_key, user) });
const seqs = (s: WsConn, room: string) => s.messages(room).map((m) => m.seq as number);

beforeAll(async () => {
  if (skip) return;
  c = await startCluster({ nodes: 3 });
  t = await c.createTenant();
  const r = await c.client(c.url, t.api_key, "alice").post("/rooms", { type: "group", name: "g", members: ["bob", "carol"] });
  expect(r.status).toBe(201);
  roomId = r.body.room_id;
}, 60_000);
afterAll(async () => {
  if (!skip) await c.stop();
}, 30_000);

describe.skipIf(skip)("cluster fan-out", () => {
  test("a message sent through node A reaches sockets on A, B and C in seq order, exactly once (concurrent senders on every node)", async () => {
    const socks = [await ws(0, "alice"), await ws(1, "bob"), await ws(2, "carol")];
    const users = ["alice", "bob", "carol"];
    const per = 20;
    // Each node sends through its own REST endpoint at once: Redis sees three interleaved publishers.
    await Promise.all(
      users.map(async (u, i) => {
        const api = c.client(c.nodes[i]!.url, t.api_key, u);
        for (let k = 0; k < per; k++) expect((await api.post(`/rooms/${roomId}/messages`, { content: `${u}-${k}` })).status).toBe(201);
      }),
    );
    const total = per * users.length;
    for (const s of socks) {
      await s.waitUntil((f) => f.filter((x) => x.type === "message" && x.room_id === roomId).length >= total, 10_000, `${total} messages`);
      expect(seqs(s, roomId)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    }
    // Nothing more arrives later (no duplicate after a gap fill): a ping round trip is the barrier.
    for (const s of socks) {
      await s.barrier();
      expect(seqs(s, roomId).length).toBe(total);
      await s.close();
    }
  });

  test("replay after reconnecting to another node: what was missed comes back in order, then live frames", async () => {
    const bob = await ws(1, "bob");
    const before = seqs(bob, roomId).length;
    await bob.close();
    const api = c.client(c.nodes[0]!.url, t.api_key, "alice");
    const last = (await c.client(c.url, t.api_key, "bob").get(`/rooms/${roomId}`)).body.last_seq as number;
    // bob acknowledges everything so far, then misses three messages while away.
    expect((await c.client(c.nodes[1]!.url, t.api_key, "bob").post("/acks", { room_id: roomId, seq: last })).status).toBe(200);
    for (let k = 0; k < 3; k++) expect((await api.post(`/rooms/${roomId}/messages`, { content: `missed-${k}` })).status).toBe(201);
    const back = await ws(2, "bob");
    expect(seqs(back, roomId)).toEqual([last + 1, last + 2, last + 3]);
    expect(before).toBeGreaterThanOrEqual(0);
    expect((await api.post(`/rooms/${roomId}/messages`, { content: "live" })).status).toBe(201);
    await back.waitForFrame((f) => f.type === "message" && f.seq === last + 4, 5000, "live message on the new node");
    await back.close();
  });

  test("regression: a member added through node A whose socket is on a node not yet receiving the room gets member.joined, then every later message in order", async () => {
    const room = (await c.client(c.nodes[0]!.url, t.api_key, "owner").post("/rooms", { type: "group", name: "cold", members: ["someone"] })).body.room_id as string;
    const eve = await ws(2, "eve");
    const api = c.client(c.nodes[0]!.url, t.api_key, "owner");
    expect((await api.post(`/rooms/${room}/members`, { user_ids: ["eve"] })).status).toBe(200);
    // Sent at once: node C subscribes to the room while these are published.
    for (let k = 1; k <= 3; k++) expect((await api.post(`/rooms/${room}/messages`, { content: `hot-${k}` })).status).toBe(201);
    await eve.waitForFrame((f) => f.type === "member.joined" && f.room_id === room && f.user_id === "eve", 5000, "member.joined");
    await eve.waitUntil((f) => f.filter((x) => x.type === "message" && x.room_id === room).length >= 3, 5000, "three messages");
    expect(seqs(eve, room)).toEqual([1, 2, 3]);
    const joinedAt = eve.frames.findIndex((f) => f.type === "member.joined" && f.room_id === room);
    const firstMsg = eve.frames.findIndex((f) => f.type === "message" && f.room_id === room);
    expect(joinedAt).toBeLessThan(firstMsg);
    await eve.barrier();
    expect(eve.ofType("member.joined").filter((f) => f.room_id === room).length).toBe(1);
    await eve.close();
  });

  test("presence and typing cross nodes: online/offline and typing frames reach a socket on another node", async () => {
    // dave is new to the cluster: his first socket anywhere announces him.
    expect((await c.client(c.url, t.api_key, "alice").post(`/rooms/${roomId}/members`, { user_ids: ["dave"] })).status).toBe(200);
    const alice = await ws(0, "alice");
    const mark = alice.frames.length;
    const dave = await ws(1, "dave");
    await alice.waitForFrame((f) => f.type === "presence.update" && f.user_id === "dave" && f.status === "online", 5000, "dave online", mark);
    const p = await c.client(c.nodes[2]!.url, t.api_key, "carol").get("/presence?user_ids=dave");
    expect(p.body.presence).toEqual([{ user_id: "dave", status: "online", last_seen: expect.any(String) }]);
    dave.send({ type: "typing.start", data: { room_id: roomId } });
    await alice.waitForFrame((f) => f.type === "typing" && f.user_id === "dave" && f.action === "start", 5000, "typing start from node B");
    await dave.close();
    await alice.waitForFrame((f) => f.type === "presence.update" && f.user_id === "dave" && f.status === "offline", 5000, "dave offline after grace");
    const after = await c.client(c.nodes[2]!.url, t.api_key, "carol").get("/presence?user_ids=dave");
    expect(after.body.presence[0].status).toBe("offline");
    expect(typeof after.body.presence[0].last_seen).toBe("string");
    await alice.close();
  });
});
