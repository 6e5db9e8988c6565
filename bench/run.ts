// `bun run bench` — runs every scenario (or the ones named) against the compiled product and against a
// raw baseline in the same run, prints each figure beside its baseline, writes bench/results/<date>.json
// and (for a full run) the results table of bench/README.md.
//
//   bun run bench cluster [--seconds S] [--rate N] [--senders N]   (bench/cluster/run.ts)
//   bun run bench [scenario ...] [--smoke] [--runs N] [--seconds S] [--warmup S] [--source]
//                 [--profile DIR] [--no-pin] [--json FILE] [--readme | --no-readme]
//
// --smoke     tiny sizes, 1 run, no thresholds, nothing written unless --json (what bun test runs);
//             runs the product from sources unless --binary
// --source    run the product from src/main.ts instead of dist/chatapi
// --binary    use dist/chatapi (built if stale) even with --smoke
// --profile   run the product from sources under `bun --cpu-prof --cpu-prof-md`, profiles into DIR
// --set k=N   override one size of lib/ctx.ts (e.g. --set idleSockets=3000); the README table is not updated
// --env K=V   extra environment for the product server (e.g. --env SQLITE_SYNCHRONOUS=normal)
// --previous BIN  also run each scenario against another build of the product (e.g. the binary of the
//             commit before a change), alternating which goes first, and print a before/after table
// --store S   sqlite (default) or postgres: the product on a fresh PostgreSQL database per server at
//             BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres); scenarios that
//             copy a prepared SQLite file (history, idle, startup) are skipped
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, release, totalmem, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { FULL, SMOKE, type Ctx } from "./lib/ctx";
import { killAllNow } from "./lib/procs";
import { compareTable, markdownTable, printScenario, updateReadme, type Machine, type ScenarioResult } from "./lib/report";
import { REPO } from "./lib/server";
import { mentionsSend, reactionHot, roomsMentions, threadReplies } from "./scenarios/conversations";
import { idle } from "./scenarios/idle";
import { reconnectStorm } from "./scenarios/reconnect";
import { jwtHistory } from "./scenarios/jwt-history";
import { history, restSend } from "./scenarios/rest";
import { search } from "./scenarios/search";
import { startup } from "./scenarios/startup";
import { fanout, wsLatency, wsRooms } from "./scenarios/ws";

/** Every scenario, in the order `bun run bench` runs them. */
export const SCENARIOS: Record<string, (ctx: Ctx) => Promise<ScenarioResult>> = {
  "rest-send": restSend,
  "ws-rooms": wsRooms,
  "ws-latency": wsLatency,
  fanout,
  history,
  idle,
  "reconnect-storm": reconnectStorm,
  startup,
  "jwt-history": jwtHistory,
  "mentions-send": mentionsSend,
  "reaction-hot": reactionHot,
  "thread-replies": threadReplies,
  "rooms-mentions": roomsMentions,
  search,
};

export function machineInfo(pinning: string): Machine {
  let model = "unknown";
  try {
    model = /model name\s*:\s*(.+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ?? model;
  } catch {
    // not Linux
  }
  return {
    cores: cpus().length,
    cpu_model: model,
    bun: Bun.version,
    mem_gb: Math.round(totalmem() / 1024 ** 3),
    kernel: `Linux ${release()}`,
    loadavg: loadavg().map((x) => x.toFixed(2)).join(" "),
    pinning,
  };
}

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = 0;
  for (const f of readdirSync(path)) m = Math.max(m, newestMtime(join(path, f)));
  return m;
}

/** The commit the product was built from, and whether src/ or migrations/ had uncommitted changes. */
function gitDescribe(): string {
  try {
    const head = Bun.spawnSync({ cmd: ["git", "rev-parse", "--short", "HEAD"], cwd: REPO }).stdout.toString().trim();
    const dirty = Bun.spawnSync({ cmd: ["git", "status", "--porcelain", "--", "src", "migrations"], cwd: REPO }).stdout.toString().trim();
    return head ? `${head}${dirty ? " + uncommitted changes" : ""}` : "unknown commit";
  } catch {
    return "unknown commit";
  }
}

/** dist/chatapi, rebuilt with `bun run build` when missing or older than src/, migrations/ or package.json. */
export function ensureBinary(log: (s: string) => void): { bin: string; stale: boolean } {
  const bin = join(REPO, "dist", "chatapi");
  const newest = Math.max(newestMtime(join(REPO, "src")), newestMtime(join(REPO, "migrations")), newestMtime(join(REPO, "package.json")));
  if (existsSync(bin) && statSync(bin).mtimeMs >= newest) return { bin, stale: false };
  log(`building ${bin} (${existsSync(bin) ? "older than src/" : "missing"}) ...`);
  const r = Bun.spawnSync({ cmd: [process.execPath, "run", "build"], cwd: REPO, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) {
    const why = `bun run build failed:\n${r.stdout.toString()}\n${r.stderr.toString()}`;
    if (!existsSync(bin)) throw new Error(why);
    // Others may be mid-edit: measure the last good build rather than nothing, and say so.
    log(`WARNING: ${why.trim()}\nWARNING: using the existing, older ${bin}`);
    return { bin, stale: true };
  }
  return { bin, stale: false };
}

interface Args {
  names: string[];
  smoke: boolean;
  runs?: number;
  seconds?: number;
  warmup?: number;
  source: boolean;
  binary: boolean;
  profile?: string;
  pin: boolean;
  json?: string;
  readme?: boolean;
  /** --set key=value overrides of the sizes (experiments; see lib/ctx.ts). */
  sets: [string, number][];
  /** --env KEY=VALUE extra environment of the product server (experiments). */
  env: Record<string, string>;
  store: "sqlite" | "postgres";
  /** --previous BIN: a second product binary measured in the same run (before/after). */
  previous?: string;
}

/** Scenarios that start the product on a prepared SQLite file: not run with --store postgres. */
const SQLITE_ONLY = new Set(["history", "idle", "startup"]);

function parseArgs(argv: string[]): Args {
  const a: Args = { names: [], smoke: false, source: false, binary: false, pin: true, sets: [], env: {}, store: "sqlite" };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i]!;
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${x} needs a value`);
      return v;
    };
    if (x === "--smoke") a.smoke = true;
    else if (x === "--runs") a.runs = Number(val());
    else if (x === "--seconds") a.seconds = Number(val());
    else if (x === "--warmup") a.warmup = Number(val());
    else if (x === "--source") a.source = true;
    else if (x === "--binary") a.binary = true;
    else if (x === "--profile") a.profile = val();
    else if (x === "--no-pin") a.pin = false;
    else if (x === "--json") a.json = val();
    else if (x === "--readme") a.readme = true;
    else if (x === "--previous") {
      a.previous = val();
      if (!existsSync(a.previous)) throw new Error(`--previous: no file ${a.previous}`);
    }
    else if (x === "--store") {
      const v = val();
      if (v !== "sqlite" && v !== "postgres") throw new Error("--store is sqlite or postgres");
      a.store = v;
    } else if (x === "--env") {
      const v = val();
      const i = v.indexOf("=");
      if (i < 1) throw new Error("--env needs KEY=VALUE");
      a.env[v.slice(0, i)] = v.slice(i + 1);
    } else if (x === "--set") {
      const [k, v] = val().split("=");
      if (!k || !(k in FULL) || !Number.isFinite(Number(v))) throw new Error(`--set needs one of ${Object.keys(FULL).join(", ")} =number`);
      a.sets.push([k, Number(v)]);
    }
    else if (x === "--no-readme") a.readme = false;
    else if (x === "--help" || x === "-h") {
      process.stdout.write(`usage: bun run bench [${Object.keys(SCENARIOS).join("|")} ...] [--smoke] [--runs N] [--seconds S] [--warmup S] [--source|--binary] [--profile DIR] [--no-pin] [--json FILE] [--readme|--no-readme] [--set size=N] [--env KEY=VALUE] [--store sqlite|postgres] [--previous BIN]\n`);
      process.exit(0);
    } else if (x.startsWith("--")) throw new Error(`unknown option ${x}`);
    else if (!(x in SCENARIOS)) throw new Error(`unknown scenario "${x}"; one of: ${Object.keys(SCENARIOS).join(", ")}`);
    else a.names.push(x);
  }
  return a;
}

export async function main(argv: string[]): Promise<number> {
  // `bun run bench cluster`: its own runner (several processes: PostgreSQL, Redis, nodes).
  if (argv[0] === "cluster") return (await import("./cluster/run")).clusterBench(argv.slice(1));
  // The noisy-neighbour benchmark has its own driver (bench/scenarios/fairness.ts).
  if (argv.includes("fairness")) return (await import("./scenarios/fairness")).runFairness(argv.filter((a) => a !== "fairness"));
  const args = parseArgs(argv);
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const all = args.names.length ? args.names : Object.keys(SCENARIOS);
  const names = args.store === "postgres" ? all.filter((n) => !SQLITE_ONLY.has(n)) : all;
  if (names.length < all.length) out(`--store postgres: skipping ${all.filter((n) => !names.includes(n)).join(", ")} (they copy a prepared SQLite file)`);
  const cores = cpus().length;
  const pin = args.pin && !args.smoke && cores >= 2;
  const serverCpus = pin ? "0" : null;
  const loadCpus = pin ? (cores === 2 ? "1" : `1-${cores - 1}`) : null;
  const machine = machineInfo(pin ? `server pinned to CPU ${serverCpus}, load generator to CPU ${loadCpus} (taskset)` : "no CPU pinning");
  out(`machine: ${machine.cores} cores, ${machine.cpu_model}, ${machine.mem_gb} GB, Bun ${machine.bun}, ${machine.kernel}; load average ${machine.loadavg}; ${machine.pinning}`);

  const tmpRoot = mkdtempSync(join(tmpdir(), "chatapi-bench-"));
  const cleanup = () => {
    killAllNow();
    rmSync(tmpRoot, { recursive: true, force: true });
  };
  process.on("exit", cleanup);
  let binary: string | null = null;
  let stale = false;
  // Profiling runs the sources under the profiler: `bun --cpu-prof src/main.ts serve`.
  if (args.profile) mkdirSync(args.profile, { recursive: true });
  else if (!args.source && (!args.smoke || args.binary)) ({ bin: binary, stale } = ensureBinary(out));
  const productDesc = `${binary ? "dist/chatapi" : "src/main.ts (sources)"} at ${gitDescribe()}${stale ? " (STALE BINARY: the build failed, an older one was measured)" : ""}`;

  const ctx: Ctx = {
    smoke: args.smoke,
    binary,
    profileDir: args.profile,
    serverEnv: args.env,
    masterKey: `bench-master-${crypto.randomUUID()}`,
    serverCpus,
    loadCpus,
    tmpRoot,
    cacheDir: args.smoke ? join(tmpRoot, "cache") : join(REPO, "bench", ".cache"),
    runs: args.runs ?? (args.smoke ? 1 : 5),
    runSeconds: args.seconds ?? (args.smoke ? 0.3 : 3),
    warmupSeconds: args.warmup ?? (args.smoke ? 0.1 : 1),
    sizes: { ...(args.smoke ? SMOKE : FULL), ...Object.fromEntries(args.sets) },
    log: out,
    store: args.store,
    postgresUrl: process.env.BENCH_POSTGRES_URL || "postgres://postgres@127.0.0.1:5432/postgres",
  };
  if (args.store === "postgres") out(`store: PostgreSQL at ${ctx.postgresUrl!.replace(/(\/\/[^:/@]*:)[^@]*@/, "$1***@")} (a fresh database per server; its backends are not pinned and their CPU is not in "server CPU")`);
  out(`product: ${productDesc}${args.profile ? `, under bun --cpu-prof (profiles in ${args.profile})` : ""}; ${ctx.runs} runs of ${ctx.runSeconds} s after ${ctx.warmupSeconds} s warm-up per scenario`);

  const results: ScenarioResult[] = [];
  const previous: ScenarioResult[] = [];
  if (args.previous) out(`previous build: ${args.previous} (each scenario runs on both, alternating which goes first)`);
  const runScenario = async (name: string, c: Ctx, label: string): Promise<ScenarioResult> => {
    out(`\n-- ${name}${label} ...`);
    const s0 = performance.now();
    let res: ScenarioResult;
    try {
      res = await SCENARIOS[name]!(c);
    } catch (e) {
      killAllNow();
      res = { name, title: "", metrics: [], headline: "", product: null, baseline: null, targets: [], error: e instanceof Error ? (e.stack ?? e.message) : String(e), seconds: (performance.now() - s0) / 1000 };
    }
    if (args.smoke) for (const t of res.targets) t.pass = null; // no thresholds at smoke sizes
    printScenario(res, out);
    return res;
  };
  const t0 = performance.now();
  for (const [i, name] of names.entries()) {
    if (!args.previous) {
      results.push(await runScenario(name, ctx, ""));
      continue;
    }
    const prevCtx: Ctx = { ...ctx, binary: args.previous };
    if (i % 2 === 0) {
      previous.push(await runScenario(name, prevCtx, " (previous build)"));
      results.push(await runScenario(name, ctx, " (this build)"));
    } else {
      results.push(await runScenario(name, ctx, " (this build)"));
      previous.push(await runScenario(name, prevCtx, " (previous build)"));
    }
  }
  const totalS = (performance.now() - t0) / 1000;
  const date = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const table = markdownTable(results, machine, date, ctx.runs, productDesc);
  out(`\n== summary (${totalS.toFixed(0)} s)\n`);
  out(table);
  const comparison = args.previous ? compareTable(previous, results, args.previous, productDesc) : null;
  if (comparison) out(`\n== this build against the previous build\n\n${comparison}`);

  const doc = { date, machine, smoke: args.smoke, runs: ctx.runs, run_seconds: ctx.runSeconds, warmup_seconds: ctx.warmupSeconds, total_seconds: totalS, product: productDesc, sizes: ctx.sizes, results, ...(args.previous ? { previous_build: args.previous, previous } : {}) };
  const jsonPath = args.json ?? (args.smoke ? null : join(REPO, "bench", "results", `${date.replace(/:/g, "-")}.json`));
  if (jsonPath) {
    mkdirSync(join(jsonPath, ".."), { recursive: true });
    writeFileSync(jsonPath, JSON.stringify(doc, null, 2));
    out(`\nresults: ${jsonPath}`);
  }
  const writeReadme = args.readme ?? (!args.smoke && args.names.length === 0 && args.sets.length === 0 && Object.keys(args.env).length === 0 && args.store === "sqlite" && !args.previous);
  if (writeReadme) {
    updateReadme(join(REPO, "bench", "README.md"), table);
    out("bench/README.md results table updated");
  }
  const failed = results.filter((r) => r.error);
  return failed.length ? 1 : 0;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(2);
    },
  );
}
