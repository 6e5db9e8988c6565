// Faults (docs/guides/scaling.md). Redis unreachable: every node closes its sockets with 1012 and refuses
// upgrades with 503, REST keeps working (writes are in PostgreSQL), /health reports the bus down; when
// Redis returns the nodes reconnect by themselves and a client that reconnects and replays misses
// nothing. PostgreSQL unreachable: what needs it answers 503, /health is 503 with {store, bus}.
import { SQL } from "bun";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { waitFor } from "../helpers";
import { TEST_POSTGRES_URL } from "../support/postgres";
import { connectWs, keyHeaders, tryUpgrade } from "../ws/ws-helpers";
import { clusterUnavailable, startCluster, type Cluster } from "./harness";

const skip = (await clusterUnavailable()) !== null;
let c: Cluster;
const wsUrl = (node: number) => c.nodes[node]!.url.replace(/^http/, "ws") + "/ws";

beforeAll(async () => {
  if (!skip) c = await startCluster({ nodes: 2 });
}, 60_000);
afterAll(async () => {
  if (!skip) await c.stop();
}, 30_000);

const busUp = async (url: string) => {
  const r = await fetch(`${url}/health`);
  return ((await r.json()) as { bus: { connected: boolean } }).bus.connected;
};

describe.skipIf(skip)("Redis stopped and restarted", () => {
  test("sockets close with 1012, REST stays 2xx, upgrades get 503; after Redis returns, reconnect + replay misses nothing", async () => {
    const t = await c.createTenant();
    const room = (await c.client(c.url, t.api_key, "alice").post("/rooms", { type: "group", name: "g", members: ["bob"] })).body.room_id as string;
    const bob = [await connectWs(wsUrl(0), { headers: keyHeaders(t.api_key, "bob") }), await connectWs(wsUrl(1), { headers: keyHeaders(t.api_key, "bob") })];
    const api = c.client(c.url, t.api_key, "alice");
    expect((await api.post(`/rooms/${room}/messages`, { content: "before" })).status).toBe(201);
    for (const s of bob) await s.waitForFrame((f) => f.type === "message" && f.seq === 1, 5000, "live before the fault");

    await c.stopRedis();
    for (const s of bob) expect((await s.closed).code).toBe(1012);
    for (const n of c.nodes) await waitFor(async () => !(await busUp(n.url)), 5000, "bus reported down");
    // /health stays 200 (REST works); it says the bus is down.
    const h = await fetch(`${c.nodes[0]!.url}/health`);
    expect(h.status).toBe(200);
    expect(((await h.json()) as { bus: unknown }).bus).toEqual({ kind: "redis", connected: false });
    // Writes keep working through every node (round robin).
    for (let k = 0; k < 4; k++) expect((await api.post(`/rooms/${room}/messages`, { content: `during-${k}` })).status).toBe(201);
    expect((await c.client(c.url, t.api_key, "bob").get(`/rooms/${room}/messages`)).body.messages.length).toBe(5);
    for (const n of c.nodes) {
      const r = await tryUpgrade(n.url, "", keyHeaders(t.api_key, "bob"));
      expect(r.status).toBe(503);
      expect(r.body.error).toBe("unavailable");
    }

    await c.startRedis();
    for (const n of c.nodes) await waitFor(() => busUp(n.url), 10_000, "bus reconnected");
    // bob acked seq 1 before; reconnecting (to either node) replays 2..5, then live frames flow again.
    expect((await c.client(c.url, t.api_key, "bob").post("/acks", { room_id: room, seq: 1 })).status).toBe(200);
    const back = await connectWs(c.wsUrl, { headers: keyHeaders(t.api_key, "bob") });
    expect(back.messages(room).map((m) => m.seq)).toEqual([2, 3, 4, 5]);
    const other = await connectWs(wsUrl(1), { headers: keyHeaders(t.api_key, "alice") });
    expect((await api.post(`/rooms/${room}/messages`, { content: "after" })).status).toBe(201);
    await back.waitForFrame((f) => f.type === "message" && f.seq === 6, 5000, "live after Redis returned");
    await other.waitForFrame((f) => f.type === "message" && f.seq === 6, 5000, "live on node B after Redis returned");
    await back.close();
    await other.close();
  });
});

/** Refuses (or allows again) new connections to the cluster's database and ends the open ones. */
async function databaseReachable(name: string, on: boolean): Promise<void> {
  const sql = new SQL(TEST_POSTGRES_URL, { max: 1 });
  try {
    await sql.unsafe(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS ${on ? "true" : "false"}`);
    if (!on) await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${name}`;
  } finally {
    await sql.close();
  }
}

describe.skipIf(skip)("PostgreSQL unreachable", () => {
  test("requests that need the database get 503, /health is 503 with {store, bus} on every node; both recover when it returns", async () => {
    const t = await c.createTenant();
    const room = (await c.client(c.url, t.api_key, "alice").post("/rooms", { type: "group", name: "g", members: ["bob"] })).body.room_id as string;
    await databaseReachable(c.db.name, false);
    try {
      for (const n of c.nodes) {
        const h = await fetch(`${n.url}/health`);
        expect(h.status).toBe(503);
        const body = (await h.json()) as { store: unknown; bus: unknown };
        expect(body.store).toEqual({ kind: "postgres", writable: false });
        expect(body.bus).toEqual({ kind: "redis", connected: true });
        const send = await c.client(n.url, t.api_key, "alice").post(`/rooms/${room}/messages`, { content: "x" });
        expect(send.status).toBe(503);
        expect(send.body.error).toBe("unavailable");
      }
    } finally {
      await databaseReachable(c.db.name, true);
    }
    for (const n of c.nodes) await waitFor(async () => (await fetch(`${n.url}/health`)).status === 200, 10_000, "health back to 200");
    expect((await c.client(c.url, t.api_key, "alice").post(`/rooms/${room}/messages`, { content: "back" })).status).toBe(201);
  });
});
