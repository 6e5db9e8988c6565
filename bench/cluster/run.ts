// `bun run bench cluster`: one node versus two nodes on PostgreSQL + Redis (cluster mode) for
//   rest-send  N REST senders through the nodes in turn, 100 rooms: messages/s, p50/p99;
//   ws-rooms   100 rooms of 10 members, members' sockets spread over the nodes, sends paced at a
//              target rate through the senders' sockets: send-to-receive latency p50/p99 (cross-node
//              deliveries separately), deliveries/s, Redis CPU (INFO cpu before/after) and
//              deliveries per Redis CPU-second; every socket checks 0 lost and 0 duplicated.
// On a 2-core machine the nodes, PostgreSQL, Redis and this load generator share the CPUs: the
// point is the cost and correctness of cross-node fan-out, not linear scaling.
//
//   bun run bench cluster [--seconds S] [--rate MSGS_PER_S] [--senders N]
import { RedisClient } from "bun";
import { request } from "../../test/helpers";
import { startCluster, type Cluster } from "../../test/cluster/harness";

interface Args {
  seconds: number;
  rate: number;
  senders: number;
}

function parse(argv: string[]): Args {
  const a: Args = { seconds: 10, rate: 2000, senders: 32 };
  for (let i = 0; i < argv.length; i++) {
    const v = Number(argv[i + 1]);
    if (argv[i] === "--seconds") (a.seconds = v), i++;
    else if (argv[i] === "--rate") (a.rate = v), i++;
    else if (argv[i] === "--senders") (a.senders = v), i++;
  }
  return a;
}

const pct = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function redisCpu(url: string): Promise<number> {
  const c = new RedisClient(url);
  await c.connect();
  const info = String(await c.send("INFO", ["cpu"]));
  c.close();
  const f = (k: string) => Number(new RegExp(`${k}:([0-9.]+)`).exec(info)?.[1] ?? 0);
  return f("used_cpu_sys") + f("used_cpu_user");
}

async function setup(c: Cluster, rooms: number, size: number) {
  const t = await c.createTenant({ rate_limit: 1_000_000, rate_limit_burst: 1_000_000, user_message_rate: 100_000 });
  const ids: string[] = [];
  for (let r = 0; r < rooms; r++) {
    const members = Array.from({ length: size - 1 }, (_, k) => `r${r}u${k + 1}`);
    const res = await c.client(c.nodes[r % c.nodes.length]!.url, t.api_key, `r${r}u0`).post("/rooms", { type: "group", name: `b${r}`, members });
    if (res.status !== 201) throw new Error(`room: ${res.status}`);
    ids.push(res.body.room_id);
  }
  return { t, ids };
}

async function restSend(c: Cluster, a: Args) {
  const { t, ids } = await setup(c, 100, 2);
  const lat: number[] = [];
  let n = 0;
  let errors = 0;
  const end = performance.now() + a.seconds * 1000;
  await Promise.all(
    Array.from({ length: a.senders }, async (_, w) => {
      for (let k = 0; performance.now() < end; k++) {
        const r = (w + k) % ids.length;
        const node = c.nodes[(w + k) % c.nodes.length]!;
        const s = performance.now();
        const res = await request(`${node.url}/rooms/${ids[r]}/messages`, "POST", { content: "x".repeat(64) }, { "x-api-key": t.api_key, "x-user-id": `r${r}u0` });
        if (res.status === 201) {
          lat.push(performance.now() - s);
          n++;
        } else errors++;
      }
    }),
  );
  return { msgs_per_s: Math.round(n / a.seconds), p50_ms: pct(lat, 50), p99_ms: pct(lat, 99), errors };
}

async function wsRooms(c: Cluster, a: Args) {
  const rooms = 100;
  const size = 10;
  const { t, ids } = await setup(c, rooms, size);
  const lat: number[] = [];
  const cross: number[] = [];
  let deliveries = 0;
  let dup = 0;
  const lastSeq = new Map<string, number>();
  const sendAt = new Map<string, { at: number; node: number }>();
  const sockets: { ws: WebSocket; room: number; node: number }[] = [];
  await Promise.all(
    ids.flatMap((roomId, r) =>
      Array.from({ length: size }, (_, k) => {
        // Members alternate between nodes: most deliveries of a send cross nodes.
        const node = (r + k) % c.nodes.length;
        const user = `r${r}u${k}`;
        const WS = WebSocket as unknown as new (u: string, o: { headers: Record<string, string> }) => WebSocket;
        const ws = new WS(c.nodes[node]!.url.replace(/^http/, "ws") + "/ws", { headers: { "x-api-key": t.api_key, "x-user-id": user } });
        const key = `${r}/${k}`;
        sockets.push({ ws, room: r, node });
        return new Promise<void>((resolve, reject) => {
          ws.onerror = () => reject(new Error("socket error"));
          ws.onmessage = (e) => {
            const f = JSON.parse(String(e.data));
            if (f.type === "sync.complete") resolve();
            if (f.type !== "message" || f.room_id !== roomId) return;
            const prev = lastSeq.get(key) ?? 0;
            if (f.seq <= prev) dup++;
            lastSeq.set(key, Math.max(prev, f.seq));
            deliveries++;
            const s = sendAt.get(f.client_msg_id);
            if (s) {
              const ms = performance.now() - s.at;
              lat.push(ms);
              if (s.node !== node) cross.push(ms);
            }
          };
        });
      }),
    ),
  );
  const senders = sockets.filter((_, i) => i % size === 0);
  const cpu0 = await redisCpu(c.redisUrl);
  const total = Math.floor(a.rate * a.seconds);
  const start = performance.now();
  let sent = 0;
  // Paced: message i leaves at start + i / rate (ms resolution), round-robin over the rooms.
  while (sent < total) {
    const due = Math.floor(((performance.now() - start) / 1000) * a.rate);
    for (; sent < Math.min(due, total); sent++) {
      const s = senders[sent % senders.length]!;
      const id = `m${sent}`;
      sendAt.set(id, { at: performance.now(), node: s.node });
      s.ws.send(JSON.stringify({ type: "send_message", data: { room_id: ids[s.room], content: "y".repeat(64), client_msg_id: id } }));
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  const sendSeconds = (performance.now() - start) / 1000;
  const expected = total * size;
  // Drained when everything arrived, or nothing more arrived for 10 s (then the rest counts as lost).
  let seen = -1;
  let stalledSince = performance.now();
  let lastAt = performance.now();
  while (deliveries < expected && performance.now() - stalledSince < 10_000) {
    if (deliveries !== seen) {
      seen = deliveries;
      stalledSince = lastAt = performance.now();
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  if (deliveries >= expected) lastAt = performance.now();
  const elapsed = (lastAt - start) / 1000;
  const cpu = (await redisCpu(c.redisUrl)) - cpu0;
  for (const s of sockets) s.ws.close();
  // Every socket must have seen each of its room's messages once: distinct deliveries = expected.
  const lost = expected - (deliveries - dup);
  return {
    offered_msgs_per_s: Math.round(total / sendSeconds),
    deliveries_per_s: Math.round(deliveries / elapsed),
    p50_ms: pct(lat, 50),
    p99_ms: pct(lat, 99),
    cross_node_p50_ms: pct(cross, 50),
    cross_node_p99_ms: pct(cross, 99),
    lost,
    duplicated: dup,
    redis_cpu_s: Number(cpu.toFixed(2)),
    deliveries_per_redis_cpu_s: cpu > 0 ? Math.round(deliveries / cpu) : null,
  };
}

/** Runs both scenarios on one node, then on two; prints a markdown table. */
export async function clusterBench(argv: string[]): Promise<number> {
  const a = parse(argv);
  const rows: string[] = [];
  // Baseline: one node on PostgreSQL without Redis (in-process bus), then cluster mode on 1 and 2 nodes.
  for (const [label, nodes, redis] of [["1, no Redis", 1, false], ["1", 1, true], ["2", 2, true]] as const) {
    const c = await startCluster({ nodes, env: { LOG_LEVEL: "error", WS_MAX_CONNECTIONS_PER_USER: "5", ...(redis ? {} : { REDIS_URL: "" }) } });
    try {
      const r = await restSend(c, a);
      process.stdout.write(`${label} node(s) rest-send: ${JSON.stringify(r)}\n`);
      rows.push(`| ${label} | rest-send, ${a.senders} clients, 100 rooms | ${r.msgs_per_s} msg/s | p50 ${r.p50_ms.toFixed(1)} ms, p99 ${r.p99_ms.toFixed(1)} ms | ${r.errors} errors |`);
      const w = await wsRooms(c, a);
      process.stdout.write(`${label} node(s) ws-rooms: ${JSON.stringify(w)}\n`);
      rows.push(
        `| ${label} | ws-rooms, 100 rooms of 10, ${w.offered_msgs_per_s} msg/s in | ${w.deliveries_per_s} deliveries/s | p50 ${w.p50_ms.toFixed(1)} ms, p99 ${w.p99_ms.toFixed(1)} ms${nodes > 1 ? `; cross-node p50 ${w.cross_node_p50_ms.toFixed(1)} ms, p99 ${w.cross_node_p99_ms.toFixed(1)} ms` : ""} | lost ${w.lost}, duplicated ${w.duplicated}; ${redis ? `Redis CPU ${w.redis_cpu_s} s (${w.deliveries_per_redis_cpu_s ?? "n/a"} deliveries per Redis CPU-second)` : "no Redis"} |`,
      );
    } finally {
      await c.stop();
    }
  }
  process.stdout.write(`\n| nodes | scenario | throughput | latency | notes |\n|---|---|---|---|---|\n${rows.join("\n")}\n`);
  return 0;
}
