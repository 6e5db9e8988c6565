// rest-send and history: REST against the product and against Elysia + TypeBox + bun:sqlite.
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { createRoom, createTenant, getRoom, pMap } from "../lib/api";
import type { Ctx } from "../lib/ctx";
import { drive } from "../lib/drive";
import type { ScenarioResult } from "../lib/report";
import { copyToDataDir, seededDb } from "../lib/seed";
import { startBaseline, startProduct } from "../lib/server";
import { howBaseline, howProduct, M, sideFrom, target, tMedian, tmp, tRatio, timing, tZero } from "./common";

/** rest-send: N clients POST messages over R rooms; persisted msg/s, latency, lost/dup verified in the database. */
export async function restSend(ctx: Ctx): Promise<ScenarioResult> {
  const S = ctx.sizes;
  const t0 = performance.now();
  const r: ScenarioResult = {
    name: "rest-send",
    title: `${S.restClients} concurrent clients POST messages over ${S.restRooms} rooms (keep-alive, 1 request in flight per client)`,
    metrics: [M.throughput("persisted msg/s"), M.p50, M.p99, M.max, M.cpu, M.wait, M.perCore("msg per CPU-second"), M.disk, M.rss, M.lost, M.dup, M.errors, M.loadgen],
    headline: "throughput",
    product: null,
    baseline: null,
    targets: [],
    seconds: 0,
  };
  const users = Array.from({ length: S.restClients }, (_, i) => `u${i}`);
  const cfg = (kind: "product" | "baseline") => ({ mode: "rest-send", clients: S.restClients, users, pad: 64, ...timing(ctx) });

  // Product.
  {
    const srv = await startProduct(ctx, { dataDir: tmp(ctx, "rest-send") });
    try {
      const s0 = performance.now();
      const tenant = await createTenant(srv.base, ctx.masterKey, "bench-rest-send");
      const rooms = await pMap(Array.from({ length: S.restRooms }, (_, i) => i), 8, () => createRoom(srv.base, tenant.api_key, users[0]!, users));
      const setupMs = performance.now() - s0;
      const d = await drive(ctx, srv, { ...cfg("product"), rooms, target: target(srv, tenant.api_key) }, "rest-send product");
      const persisted = (await pMap(rooms, 8, (id) => getRoom(srv.base, tenant.api_key, users[0]!, id))).reduce((s, x) => s + x.last_seq, 0);
      const acked = d.done?.total_ok as number;
      r.product = sideFrom(howProduct(ctx), d, { setup_ms: setupMs, acked_201: acked, persisted });
      const last = r.product.runs[r.product.runs.length - 1];
      if (last) {
        // Verified once for the whole scenario (warm-up included), reported on the last run.
        last.lost = Math.max(0, acked - persisted);
        last.dup = Math.max(0, persisted - acked);
      }
    } finally {
      await srv.stop();
    }
  }
  // Baseline.
  {
    const dir = tmp(ctx, "rest-send-base");
    const db = join(dir, "base.db");
    const srv = await startBaseline(ctx, "rest", ["--db", db, "--sync", "full"]);
    const rooms = Array.from({ length: S.restRooms }, (_, i) => `r${i}`);
    let d;
    try {
      d = await drive(ctx, srv, { ...cfg("baseline"), rooms, target: target(srv, "none") }, "rest-send baseline");
    } finally {
      await srv.stop();
    }
    const check = new Database(db, { readonly: true });
    const persisted = (check.query("SELECT coalesce(sum(last_seq), 0) AS n FROM bench_rooms").get() as { n: number }).n;
    check.close();
    const acked = d.done?.total_ok as number;
    r.baseline = sideFrom(howBaseline(ctx, "Elysia + TypeBox body schema + bun:sqlite, one transaction per POST (WAL, synchronous=FULL)"), d, { acked_201: acked, persisted });
    const last = r.baseline.runs[r.baseline.runs.length - 1];
    if (last) {
      last.lost = Math.max(0, acked - persisted);
      last.dup = Math.max(0, persisted - acked);
    }
  }
  r.targets = [
    tMedian(r, "throughput", ">=", 25_000, ">= 25,000 msg/s", "rate"),
    tMedian(r, "p99_ms", "<=", 15, "p99 <= 15 ms", "ms"),
    tZero(r, "errors", "0 errors"),
    tZero(r, "lost", "0 lost"),
    tRatio(r, "throughput", ">=", 0.35, ">= 35% of raw Elysia"),
  ];
  r.seconds = (performance.now() - t0) / 1000;
  return r;
}

/** history: GET the latest 50 messages of random rooms, over a database of rooms x perRoom messages. */
export async function history(ctx: Ctx): Promise<ScenarioResult> {
  const S = ctx.sizes;
  const t0 = performance.now();
  const seeded = await seededDb(ctx, "history", S.historyRooms, S.historyPerRoom, 100, 16);
  const r: ScenarioResult = {
    name: "history",
    title: `${S.historyClients} clients GET the latest 50 messages of random rooms (${(S.historyRooms * S.historyPerRoom).toLocaleString("en-US")} messages in ${S.historyRooms} rooms, ${(seeded.bytes / 1024 / 1024).toFixed(0)} MB)`,
    metrics: [M.throughput("requests/s"), M.p50, M.p99, M.max, M.cpu, M.wait, M.perCore("requests per CPU-second"), M.rss, M.errors, M.loadgen],
    headline: "throughput",
    product: null,
    baseline: null,
    targets: [],
    seconds: 0,
  };
  const cfg = { mode: "history", clients: S.historyClients, rooms: seeded.rooms, users: seeded.users.slice(1), limit: 50, perRoom: seeded.per_room, verifyEvery: ctx.smoke ? 3 : 500, ...timing(ctx) };
  const setup = { seed_generation_ms: seeded.generation_ms, db_mb: seeded.bytes / 1024 / 1024 };
  {
    const { dir } = copyToDataDir(ctx, seeded, "history");
    const srv = await startProduct(ctx, { dataDir: dir });
    try {
      const d = await drive(ctx, srv, { ...cfg, target: target(srv, seeded.api_key) }, "history product");
      r.product = sideFrom(howProduct(ctx), d, setup);
    } finally {
      await srv.stop();
    }
  }
  {
    const { db } = copyToDataDir(ctx, seeded, "history-base");
    const srv = await startBaseline(ctx, "rest", ["--db", db, "--sync", "full", "--tenant", seeded.tenant_id]);
    try {
      const d = await drive(ctx, srv, { ...cfg, target: target(srv, "none") }, "history baseline");
      r.baseline = sideFrom(howBaseline(ctx, "Elysia + TypeBox params/query schema + bun:sqlite SELECT ... ORDER BY seq DESC LIMIT 51 on a copy of the same database"), d, setup);
    } finally {
      await srv.stop();
    }
  }
  r.targets = [tMedian(r, "throughput", ">=", 20_000, ">= 20,000 req/s", "rate"), tMedian(r, "p99_ms", "<=", 10, "p99 <= 10 ms", "ms"), tZero(r, "errors", "0 errors")];
  r.seconds = (performance.now() - t0) / 1000;
  return r;
}
