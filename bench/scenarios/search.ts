// search: GET /search over a tenant with 1,000,000 messages (p50/p99 under concurrent searchers),
// and the cost of indexing: durable REST sends with the search index (product) against the same
// product with the index removed (baseline), interleaved in one run. SQLite or PostgreSQL (--store).
import { Database } from "bun:sqlite";
import { SQL } from "bun";
import { join } from "node:path";
import { createRoom, createTenant, pMap } from "../lib/api";
import type { Ctx } from "../lib/ctx";
import { drive, type DriveResult } from "../lib/drive";
import { cpuMark, cpuPercent } from "../lib/procs";
import type { RunFigures, ScenarioResult } from "../lib/report";
import { rng, seedPostgresSearch, seedSqliteSearch, vocabulary, type SearchData } from "../lib/seed-search";
import { startProduct, type ServerHandle } from "../lib/server";
import { howProduct, M, sideFrom, target, tmp, tMedian, tRatio, timing, tZero } from "./common";

/** One search request of the mix: what real users type (mostly specific words). */
function queryMix(data: SearchData): (r: () => number) => { path: string; user: string } {
  const v = vocabulary();
  const mid = (r: () => number) => v.words[50 + Math.floor(r() * 1500)]!;
  const rare = (r: () => number) => v.words[2000 + Math.floor(r() * 3000)]!;
  const common = (r: () => number) => v.words[Math.floor(r() * 10)]!;
  return (r) => {
    const x = r();
    const user = data.users[1 + Math.floor(r() * (data.users.length - 1))]!;
    let q: string;
    let room = "";
    if (x < 0.35) q = mid(r);
    else if (x < 0.5) q = rare(r);
    else if (x < 0.65) q = `${common(r)} ${mid(r)}`;
    else if (x < 0.75) q = `${mid(r).slice(0, 4)}*`;
    else if (x < 0.82) q = `"${common(r)} ${common(r)}"`;
    else if (x < 0.9) q = common(r);
    else {
      q = mid(r);
      room = data.rooms[Math.floor(r() * data.rooms.length)]!;
      return { path: `/search?q=${encodeURIComponent(q)}&room_id=${room}`, user: "s0" };
    }
    return { path: `/search?q=${encodeURIComponent(q)}`, user };
  };
}

function pct(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** `clients` concurrent searchers for `seconds`: latency percentiles, queries/s, server CPU. */
async function searchRun(srv: ServerHandle, data: SearchData, clients: number, seconds: number, seed: number): Promise<RunFigures> {
  const next = queryMix(data);
  const lat: number[] = [];
  let errors = 0;
  let hits = 0;
  const a = cpuMark(srv.pid);
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const r = rng(seed * 100 + c);
      while (performance.now() < end) {
        const { path, user } = next(r);
        const t = performance.now();
        const res = await fetch(srv.base + path, { headers: { "x-api-key": data.api_key, "x-user-id": user } });
        const body = (await res.json()) as { messages?: unknown[] };
        lat.push(performance.now() - t);
        if (res.status !== 200) errors++;
        else if (body.messages?.length) hits++;
      }
    }),
  );
  const b = cpuMark(srv.pid);
  lat.sort((x, y) => x - y);
  return { search_qps: lat.length / seconds, search_p50_ms: pct(lat, 50), search_p99_ms: pct(lat, 99), search_max_ms: lat[lat.length - 1] ?? NaN, search_hit_pct: (hits / Math.max(1, lat.length)) * 100, search_cpu_pct: cpuPercent(a, b), errors };
}

/** Removes the search index from a running product's database (the "before" side of the send cost). */
async function dropIndex(ctx: Ctx, srv: ServerHandle, dir: string, dsn: string | null): Promise<void> {
  if (dsn) {
    const sql = new SQL(dsn, { max: 1 });
    await sql`DROP INDEX messages_newest`;
    await sql`ALTER TABLE messages DROP COLUMN search_tsv`;
    await sql.close();
    return;
  }
  const db = new Database(join(dir, "chatapi.db"));
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("DROP TRIGGER messages_fts_insert; DROP TRIGGER messages_fts_update; DROP TRIGGER messages_fts_delete");
  db.close();
  void ctx;
  void srv;
}

/** search: search latency over N messages; indexed vs unindexed durable sends. */
export async function search(ctx: Ctx): Promise<ScenarioResult> {
  const S = ctx.sizes;
  const t0 = performance.now();
  const pg = ctx.store === "postgres";
  const r: ScenarioResult = {
    name: "search",
    title: `GET /search (${S.searchClients} concurrent searchers, a mix of words, AND, prefixes, phrases, one room) over a tenant with ${S.searchMessages.toLocaleString("en-US")} messages; and ${S.restClients} clients sending durably with the search index (product) vs without it (baseline)`,
    metrics: [
      { key: "search_p50_ms", label: "search p50 (ms)", unit: "ms", better: "lower" },
      { key: "search_p99_ms", label: "search p99 (ms)", unit: "ms", better: "lower" },
      { key: "search_qps", label: "searches/s", unit: "rate", better: "higher" },
      { key: "search_hit_pct", label: "searches with results", unit: "pct", better: "higher" },
      M.throughput("persisted msg/s"),
      M.p99,
      M.cpu,
      M.perCore("msg per CPU-second"),
      M.errors,
    ],
    headline: "per_core",
    product: null,
    baseline: null,
    targets: [],
    seconds: 0,
  };
  // 1. Search over the seeded tenant.
  const searches: RunFigures[] = [];
  let seedMs = 0;
  {
    let srv: ServerHandle;
    let data: SearchData;
    if (pg) ({ data, srv } = await seedPostgresSearch(ctx, S.searchMessages, S.searchRooms));
    else {
      const seeded = await seedSqliteSearch(ctx, S.searchMessages, S.searchRooms);
      data = seeded;
      srv = await startProduct(ctx, { dataDir: seeded.dir });
    }
    seedMs = data.seed_ms;
    try {
      // Warm-up: the page cache and statement caches, as a running server has them.
      await searchRun(srv, data, S.searchClients, Math.max(1, ctx.warmupSeconds), 999);
      for (let i = 0; i < ctx.runs; i++) searches.push(await searchRun(srv, data, S.searchClients, ctx.runSeconds, i + 1));
    } finally {
      await srv.stop();
    }
  }
  // 2. Send cost with and without the index, interleaved on two servers.
  const users = Array.from({ length: S.restClients }, (_, i) => `u${i}`);
  const sides: { label: string; srv: ServerHandle; rooms: string[]; key: string; runs: DriveResult[] }[] = [];
  try {
    for (const label of ["indexed", "unindexed"]) {
      const dir = tmp(ctx, `search-send-${label}`);
      const srv = await startProduct(ctx, { dataDir: dir });
      sides.push({ label, srv, rooms: [], key: "", runs: [] });
      const tenant = await createTenant(srv.base, ctx.masterKey, `bench-search-${label}`);
      const rooms = await pMap(Array.from({ length: S.restRooms }, (_, i) => i), 8, () => createRoom(srv.base, tenant.api_key, users[0]!, users));
      Object.assign(sides[sides.length - 1]!, { rooms, key: tenant.api_key });
      if (label === "unindexed") await dropIndex(ctx, srv, dir, pg ? (srv.dsn ?? null) : null);
    }
    for (let i = 0; i < ctx.runs; i++) {
      const order = i % 2 === 0 ? sides : [...sides].reverse();
      for (const s of order) {
        s.runs.push(await drive(ctx, s.srv, { mode: "rest-send", clients: S.restClients, users, pad: 64, rooms: s.rooms, target: target(s.srv, s.key), ...timing(ctx), runs: 1 }, `search send ${s.label} ${i}`));
      }
    }
  } finally {
    for (const s of sides) await s.srv.stop();
  }
  const merge = (parts: DriveResult[]): DriveResult => ({ ready: parts[0]?.ready ?? null, warmup: parts[0]?.warmup ?? null, runs: parts.flatMap((p) => p.runs).map((x, i) => ({ ...x, run: i })), done: parts[parts.length - 1]?.done ?? null });
  const setup = { search_messages: S.searchMessages, search_rooms: S.searchRooms, seed_ms: Math.round(seedMs), store: pg ? "postgres" : "sqlite" };
  r.product = sideFrom(`${howProduct(ctx)}${pg ? ", PostgreSQL" : ""}; search index on`, merge(sides[0]!.runs), setup);
  r.product.runs = r.product.runs.map((f, i) => ({ ...f, ...(searches[i] ?? {}), errors: (f.errors ?? 0) + (searches[i]?.errors ?? 0) }));
  r.baseline = sideFrom(`the same product with the search index removed (${pg ? "search_tsv column and messages_newest index dropped" : "FTS5 triggers dropped"})`, merge(sides[1]!.runs), {});
  r.targets = [
    tMedian(r, "search_p99_ms", "<=", 50, "search p99 < 50 ms", "ms"),
    tRatio(r, "per_core", ">=", 1 / 1.15, "indexing adds <= 15% to the send cost (msg per CPU-second >= 87% of unindexed)"),
    tZero(r, "errors", "0 errors"),
  ];
  r.seconds = (performance.now() - t0) / 1000;
  return r;
}
