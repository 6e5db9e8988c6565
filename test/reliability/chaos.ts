// `bun run chaos`: the long variant of the reliability suite. Runs for minutes and prints figures:
// kills survived, messages checked, lost (must be 0), fuzz inputs per route and frame type, 5xx found
// (must be 0), isolation violations (must be 0). Exits 1 when any of them is not as required.
// RELIABILITY_SEED fixes the seed; CHAOS_KILLS, CHAOS_FUZZ_PER_ROUTE, CHAOS_FUZZ_PER_FRAME,
// CHAOS_ISOLATION_OPS scale the parts.
import { startTestServer } from "../helpers";
import { runCrashScenario } from "./lib/crash";
import { createFixtures, loadRoutes } from "./lib/fuzz-fixtures";
import { fuzzRest } from "./lib/fuzz-rest";
import { fuzzWs, invalidUtf8Frames, oversizedFrames } from "./lib/fuzz-ws";
import { runIsolation } from "./lib/isolation";
import { Prng, seedFromEnv } from "./lib/prng";

const num = (name: string, def: number) => Number(process.env[name] ?? def);
const seed = seedFromEnv();
const log = (l: string) => console.log(l);
const failures: string[] = [];
const started = performance.now();
console.log(`chaos: seed=${seed} (RELIABILITY_SEED=${seed} reproduces the generated inputs)`);

// 1. Crash safety against the compiled binary.
const kills = num("CHAOS_KILLS", 25);
const crash = await runCrashScenario({ seed, kills, restSenders: 4, wsSenders: 3, rooms: 4, lifeMs: [500, 2000], paceMs: 5, log: (l) => log(`  crash: ${l}`) });
for (const p of crash.problems) failures.push(`crash: ${p}`);
if (crash.kills < 20) failures.push(`crash: only ${crash.kills} kills`);

// 2. Hostile-input fuzzing of every REST route and WS frame type.
const s = await startTestServer({ MAX_BODY_BYTES: "65536", CONSOLE_ENABLED: "false" });
let restTotal = 0;
let wsTotal = 0;
let fiveXX = 0;
let isolationViolations = 0;
try {
  const routes = await loadRoutes(s.url);
  const fx = await createFixtures(s);
  const rest = await fuzzRest(s, routes, fx, new Prng(seed), { perRoute: num("CHAOS_FUZZ_PER_ROUTE", 3000), concurrency: 8 });
  console.log("\nREST fuzz inputs per route:");
  for (const [route, n] of rest.tried) {
    restTotal += n;
    console.log(`  ${String(n).padStart(6)}  ${route}`);
  }
  console.log(`  statuses: ${JSON.stringify(Object.fromEntries([...rest.statuses].sort((a, b) => a[0] - b[0])))}`);
  for (const f of rest.serverErrors) console.log(`  5xx ${f.route} [${f.label}] -> ${f.status} ${f.answer}\n    input: ${f.input}`);
  fiveXX += rest.serverErrors.length;
  for (const v of rest.violations) failures.push(`REST fuzz: ${v.route} [${v.label}] -> ${v.status} ${v.answer} input ${v.input}`);
  for (const c of rest.unexplainedChanges) failures.push(`REST fuzz data: ${c}`);

  const ws = await fuzzWs(s, fx, new Prng(seed ^ 0x5bd1e995), { perType: num("CHAOS_FUZZ_PER_FRAME", 3000), window: 8 });
  console.log("\nWS fuzz frames per type:");
  for (const [type, n] of ws.tried) {
    wsTotal += n;
    console.log(`  ${String(n).padStart(6)}  ${type}`);
  }
  console.log(`  answers: ${JSON.stringify(Object.fromEntries(ws.codes))}`);
  for (const e of ws.serverErrors) console.log(`  5xx-equivalent: ${e}`);
  fiveXX += ws.serverErrors.length;
  for (const v of ws.violations) failures.push(`WS fuzz: ${v}`);
  for (const c of ws.unexplainedChanges) failures.push(`WS fuzz data: ${c}`);
  const big = await oversizedFrames(s, fx, 5);
  if (big.some((c) => c !== 1009)) failures.push(`oversized frames closed with ${big.join(",")}, expected 1009`);
  const utf8 = await invalidUtf8Frames(s, fx, new Prng(seed), 10);
  if (utf8.some((o) => o !== "close:1007" && !o.startsWith("error:invalid_request"))) failures.push(`invalid UTF-8 frames: ${utf8.join(",")}`);
  if ((await fetch(`${s.url}/health`)).status !== 200) failures.push("health is not 200 after fuzzing");
} finally {
  await s.stop();
}

// 3. Isolation property test.
const iso = await startTestServer({ WORKER_INTERVAL: "100ms", RETRY_INTERVAL: "50ms", PRESENCE_GRACE: "50ms", CONSOLE_ENABLED: "false" });
try {
  const f = await runIsolation(iso, new Prng(seed), num("CHAOS_ISOLATION_OPS", 5000));
  isolationViolations = f.violations.length;
  console.log(`\nisolation: ${f.ops} ops, ${f.observations} responses, ${f.frames} frames, ${f.webhooks} webhooks, ${f.crossProbes} cross-tenant probes`);
  for (const v of f.violations.slice(0, 50)) console.log(`  violation: ${v}`);
} finally {
  await iso.stop();
}

console.log(`
chaos figures (seed ${seed}, ${Math.round((performance.now() - started) / 1000)} s):
  kills survived:        ${crash.kills}
  messages sent:         ${crash.sent} (acknowledged ${crash.acked}, retried with the same client_msg_id ${crash.retried})
  messages checked:      ${crash.checked}
  lost:                  ${crash.lost}
  duplicates / seq gaps: ${crash.duplicates} / ${crash.seqGaps}
  webhooks:              ${crash.webhooksExpected - crash.webhooksMissing}/${crash.webhooksExpected} delivered (${crash.webhookRepeats} repeats, deduplicated by event_id)
  integrity_check:       ${crash.integrity}
  REST fuzz inputs:      ${restTotal} (per route above)
  WS fuzz frames:        ${wsTotal} (per frame type above)
  5xx found:             ${fiveXX}
  isolation violations:  ${isolationViolations}`);
for (const f of failures.slice(0, 50)) console.log(`FAIL ${f}`);
const ok = crash.lost === 0 && fiveXX === 0 && isolationViolations === 0 && failures.length === 0;
console.log(ok ? "chaos: PASS" : "chaos: FAIL");
process.exit(ok ? 0 : 1);
