// jwt-history: the history scenario with signed user tokens (Authorization: Bearer <jwt>, HS256)
// against the same product with the API key (X-API-Key + X-User-Id), on one server and one copy of
// the seeded database. The "baseline" side is the API key: the ratio is the cost of JWT auth.
import { SignJWT } from "jose";
import type { Ctx } from "../lib/ctx";
import { drive, type DriveResult } from "../lib/drive";
import type { ScenarioResult } from "../lib/report";
import { copyToDataDir, seededDb } from "../lib/seed";
import { startProduct } from "../lib/server";
import { howProduct, M, sideFrom, target, tMedian, tRatio, timing, tZero } from "./common";

const SECRET = "bench-jwt-secret-0123456789abcdef-0123456789";

/** jwt-history: GET the latest 50 messages of random rooms with a JWT per client versus the API key. */
export async function jwtHistory(ctx: Ctx): Promise<ScenarioResult> {
  const S = ctx.sizes;
  const t0 = performance.now();
  // The same cached database as the history scenario.
  const seeded = await seededDb(ctx, "history", S.historyRooms, S.historyPerRoom, 100, 16);
  const r: ScenarioResult = {
    name: "jwt-history",
    title: `${S.historyClients} clients GET the latest 50 messages of random rooms, authenticated with a signed user token (HS256 JWT, one per client, reused) vs the API key, same server`,
    metrics: [M.throughput("requests/s"), M.p50, M.p99, M.max, M.cpu, M.wait, M.perCore("requests per CPU-second"), M.rss, M.errors, M.loadgen],
    headline: "throughput",
    product: null,
    baseline: null,
    targets: [],
    seconds: 0,
  };
  const users = seeded.users.slice(1);
  const cfg = { mode: "history", clients: S.historyClients, rooms: seeded.rooms, users, limit: 50, perRoom: seeded.per_room, verifyEvery: ctx.smoke ? 3 : 500, ...timing(ctx) };
  const setup = { seed_generation_ms: seeded.generation_ms, db_mb: seeded.bytes / 1024 / 1024 };
  const { dir } = copyToDataDir(ctx, seeded, "jwt-history");
  const srv = await startProduct(ctx, { dataDir: dir });
  try {
    const patched = await fetch(`${srv.base}/admin/tenants/${seeded.tenant_id}`, {
      method: "PATCH",
      headers: { "x-master-key": ctx.masterKey, "content-type": "application/json" },
      body: JSON.stringify({ config: { jwt_secret: SECRET } }),
    });
    if (patched.status !== 200) throw new Error(`PATCH jwt_secret: ${patched.status} ${await patched.text()}`);
    const key = new TextEncoder().encode(SECRET);
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const bearerTokens = await Promise.all(users.map((u) => new SignJWT({ tid: seeded.tenant_id }).setProtectedHeader({ alg: "HS256" }).setSubject(u).setExpirationTime(exp).sign(key)));
    // Interleaved, one run per load generator, alternating which side goes first: both sides see the
    // same warm server, page cache and machine load (the machine may be shared).
    const keySide = { ...cfg, runs: 1, target: target(srv, seeded.api_key) };
    const jwtSide = { ...cfg, runs: 1, bearerTokens, target: target(srv, "none") };
    const keyRuns: DriveResult[] = [];
    const jwtRuns: DriveResult[] = [];
    for (let i = 0; i < ctx.runs; i++) {
      const order = i % 2 === 0 ? (["key", "jwt"] as const) : (["jwt", "key"] as const);
      for (const side of order) {
        if (side === "key") keyRuns.push(await drive(ctx, srv, keySide, `jwt-history api-key ${i}`));
        else jwtRuns.push(await drive(ctx, srv, jwtSide, `jwt-history jwt ${i}`));
      }
    }
    r.baseline = sideFrom(`${howProduct(ctx)}; X-API-Key + X-User-Id`, merge(keyRuns), setup);
    r.product = sideFrom(`${howProduct(ctx)}; Authorization: Bearer <HS256 JWT>`, merge(jwtRuns), setup);
  } finally {
    await srv.stop();
  }
  r.targets = [tRatio(r, "throughput", ">=", 0.9, "JWT >= 90% of the API key's throughput"), tMedian(r, "p99_ms", "<=", 10, "p99 <= 10 ms", "ms"), tZero(r, "errors", "0 errors")];
  r.seconds = (performance.now() - t0) / 1000;
  return r;
}

// One side's single-run drives as one result (runs renumbered in order).
function merge(parts: DriveResult[]): DriveResult {
  return {
    ready: parts[0]?.ready ?? null,
    warmup: parts[0]?.warmup ?? null,
    runs: parts.flatMap((p) => p.runs).map((r, i) => ({ ...r, run: i })),
    done: parts[parts.length - 1]?.done ?? null,
  };
}
