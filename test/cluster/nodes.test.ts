// Nodes coming and going (docs/guides/scaling.md): each webhook delivery is sent once with three nodes
// running workers; a node SIGKILLed under concurrent sends loses no acknowledged message (seqs stay
// gapless) and its sockets replay on another node; SIGTERM drains only that node.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { waitFor } from "../helpers";
import { Receiver } from "../delivery/receiver";
import { connectWs, keyHeaders } from "../ws/ws-helpers";
import { clusterUnavailable, startCluster, type Cluster } from "./harness";

const skip = (await clusterUnavailable()) !== null;
let c: Cluster;
let rx: Receiver;
const wsUrl = (node: number) => c.nodes[node]!.url.replace(/^http/, "ws") + "/ws";

beforeAll(async () => {
  if (skip) return;
  rx = new Receiver();
  c = await startCluster({ nodes: 3, env: { WORKER_INTERVAL: "100ms", RETRY_INTERVAL: "50ms" } });
}, 60_000);
afterAll(async () => {
  if (skip) return;
  await c.stop();
  rx.stop();
}, 30_000);

describe.skipIf(skip)("nodes and workers", () => {
  test("each webhook delivery is sent once while three nodes run workers", async () => {
    const t = await c.createTenant({ webhook_url: rx.url, user_message_rate: 1000 });
    const room = (await c.client(c.url, t.api_key, "alice").post("/rooms", { type: "group", name: "g", members: ["off1", "off2"] })).body.room_id as string;
    const n = 30;
    // Through nginx: every node commits some of the outbox rows and wakes its own worker.
    await Promise.all(Array.from({ length: n }, (_, k) => c.client(c.url, t.api_key, "alice").post(`/rooms/${room}/messages`, { content: `m${k}` }).then((r) => expect(r.status).toBe(201))));
    await rx.waitForCount(2 * n, 10_000, (r) => r.body?.tenant_id === t.tenant_id);
    const ids = rx.received.filter((r) => r.body?.tenant_id === t.tenant_id).map((r) => r.body.event_id as string);
    expect(new Set(ids).size).toBe(2 * n);
    expect(ids.length).toBe(2 * n);
  });

  test("SIGKILL of a node under concurrent sends: no acknowledged message lost, seqs gapless, no retry doubled; its socket replays on another node", async () => {
    const t = await c.createTenant();
    const room = (await c.client(c.url, t.api_key, "alice").post("/rooms", { type: "group", name: "g", members: ["bob"] })).body.room_id as string;
    const victim = 1;
    const bobOnVictim = await connectWs(wsUrl(victim), { headers: keyHeaders(t.api_key, "bob") });
    const acked = new Map<string, number>();
    let stop = false;
    const sender = async (w: number) => {
      for (let k = 0; !stop || k < 5; k++) {
        const id = `w${w}-${k}`;
        // Retried with the same client_msg_id until acknowledged: a retry never doubles a message.
        for (let attempt = 0; attempt < 50; attempt++) {
          const node = c.nodes[(w + k + attempt) % c.nodes.length]!;
          const r = await c.client(node.url, t.api_key, "alice").post(`/rooms/${room}/messages`, { content: id, client_msg_id: id }).catch(() => null);
          if (r && (r.status === 201 || r.status === 200)) {
            acked.set(id, r.body.seq);
            break;
          }
        }
        if (k > 200) break;
      }
    };
    const senders = Array.from({ length: 6 }, (_, w) => sender(w));
    await waitFor(() => acked.size >= 30, 10_000, "30 acknowledged before the kill");
    c.nodes[victim]!.proc.kill("SIGKILL");
    await c.nodes[victim]!.proc.exited;
    const atKill = acked.size;
    await waitFor(() => acked.size >= atKill + 30, 10_000, "30 more acknowledged after the kill");
    stop = true;
    await Promise.all(senders);
    expect((await bobOnVictim.closed).code).not.toBe(1000);

    const history = (await c.client(c.nodes[0]!.url, t.api_key, "bob").get(`/rooms/${room}/messages?limit=200`)).body.messages as { seq: number; client_msg_id: string }[];
    const all: { seq: number; client_msg_id: string }[] = [...history];
    while (all.length && all.length % 200 === 0) {
      const more = (await c.client(c.nodes[0]!.url, t.api_key, "bob").get(`/rooms/${room}/messages?after_seq=${all.at(-1)!.seq}&limit=200`)).body.messages;
      if (!more.length) break;
      all.push(...more);
    }
    expect(all.map((m) => m.seq)).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
    const byId = new Map(all.map((m) => [m.client_msg_id, m.seq]));
    expect(byId.size).toBe(all.length);
    for (const [id, seq] of acked) expect(byId.get(id)).toBe(seq);

    // bob had acked nothing: reconnecting to another node replays every message, in order.
    const back = await connectWs(wsUrl(2), { headers: keyHeaders(t.api_key, "bob") });
    const replayed = back.messages(room).map((m) => m.seq as number);
    const gap = back.ofType("sync.gap").filter((f) => f.room_id === room);
    // SYNC_MAX_PER_ROOM (100) newest are replayed; older ones are announced by one sync.gap.
    expect(replayed).toEqual(Array.from({ length: Math.min(100, all.length) }, (_, i) => all.length - Math.min(100, all.length) + i + 1));
    if (all.length > 100) expect(gap.length).toBe(1);
    await back.close();
    await c.startNode(victim);
  }, 30_000);

  test("SIGTERM drains only that node: its sockets get server.shutdown and 1001, sockets on other nodes keep receiving", async () => {
    const t = await c.createTenant();
    const room = (await c.client(c.url, t.api_key, "alice").post("/rooms", { type: "group", name: "g", members: ["bob"] })).body.room_id as string;
    const onVictim = await connectWs(wsUrl(2), { headers: keyHeaders(t.api_key, "bob") });
    const onOther = await connectWs(wsUrl(0), { headers: keyHeaders(t.api_key, "bob") });
    c.nodes[2]!.proc.kill("SIGTERM");
    await onVictim.waitForFrame((f) => f.type === "server.shutdown", 5000, "server.shutdown");
    expect((await onVictim.closed).code).toBe(1001);
    expect(await c.nodes[2]!.proc.exited).toBe(0);
    expect((await c.client(c.nodes[1]!.url, t.api_key, "alice").post(`/rooms/${room}/messages`, { content: "still here" })).status).toBe(201);
    await onOther.waitForFrame((f) => f.type === "message" && f.content === "still here", 5000, "live on a surviving node");
    expect((await fetch(`${c.nodes[0]!.url}/health`)).status).toBe(200);
    await onOther.close();
    await c.startNode(2);
  });
});
