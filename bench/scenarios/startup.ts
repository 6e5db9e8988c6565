// startup: from spawning the binary to the first 200 on /health, with a ~1 GB database (cached under
// bench/.cache/; generating it takes a while once). Each run: spawn, poll /health every 2 ms, stop.
import type { Ctx } from "../lib/ctx";
import { rssBytes } from "../lib/procs";
import type { Metric, RunFigures, ScenarioResult } from "../lib/report";
import { copyToDataDir, seededDb } from "../lib/seed";
import { startBaseline, startProduct, waitHealthy } from "../lib/server";
import { howBaseline, howProduct, tMedian } from "./common";

const METRICS: Metric[] = [
  { key: "startup_ms", label: "start to first 200 (ms)", unit: "ms", better: "lower" },
  { key: "server_rss_bytes", label: "RSS at first 200", unit: "bytes", better: "lower" },
];

export async function startup(ctx: Ctx): Promise<ScenarioResult> {
  const S = ctx.sizes;
  const t0 = performance.now();
  // 800 B of content keeps a row (~950 B) within SQLite's local payload of a WITHOUT ROWID page (no
  // overflow pages): ~1.1 KB per message with the message_id index.
  const content = 800;
  const perRoom = Math.ceil(S.startupBytes / 1100 / 100);
  const seeded = await seededDb(ctx, "startup", 100, perRoom, content, 4);
  const r: ScenarioResult = {
    name: "startup",
    title: `binary start to first 200 on /health with a ${(seeded.bytes / 1024 ** 3).toFixed(2)} GB database (${seeded.messages.toLocaleString("en-US")} messages; file in the page cache)`,
    metrics: METRICS,
    headline: "startup_ms",
    product: null,
    baseline: null,
    targets: [],
    seconds: 0,
  };
  // One copy for both servers: the product's clean shutdown leaves the file as it found it.
  const { dir, db } = copyToDataDir(ctx, seeded, "startup");
  const measure = async (start: () => Promise<{ spawnedAt: number; base: string; proc: any; pid: number; name: string; logs: () => string; stop: () => Promise<void> }>): Promise<RunFigures[]> => {
    const runs: RunFigures[] = [];
    for (let k = 0; k <= ctx.runs; k++) {
      const h = await start();
      try {
        const ready = await waitHealthy(h, 30_000, 2);
        const f = { startup_ms: ready - h.spawnedAt, server_rss_bytes: rssBytes(h.pid) };
        if (k > 0) runs.push(f);
      } finally {
        await h.stop();
      }
    }
    return runs;
  };
  r.product = {
    how: howProduct(ctx),
    runs: await measure(() => startProduct(ctx, { dataDir: dir, noWait: true })),
    setup: { db_mb: seeded.bytes / 1024 / 1024, seed_generation_ms: seeded.generation_ms },
    notes: ["first start (warm-up) discarded; shutdown checkpoints the WAL so every start sees the same file"],
  };
  r.baseline = {
    how: howBaseline(ctx, "Elysia + bun:sqlite opening the same database, GET /health"),
    runs: await measure(() => startBaseline(ctx, "rest", ["--db", db, "--sync", "full"], { noWait: true })),
    setup: {},
    notes: [],
  };
  r.targets = [tMedian(r, "startup_ms", "<=", 300, "<= 300 ms", "ms")];
  r.seconds = (performance.now() - t0) / 1000;
  return r;
}
