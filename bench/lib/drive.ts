// Harness side of the load generator: spawns bench/loadgen.ts as a separate process (pinned to the
// load CPU), reads its JSON lines and samples the server's CPU time and RSS at each run's start and
// end, so CPU % covers exactly the measured run.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cpuMark, cpuPercent, drainTail, rssBytes, spawnTracked, stopProcess, waitPercent, type CpuMark } from "./procs";
import type { Ctx } from "./ctx";
import { REPO, type ServerHandle } from "./server";

/** One measured run: the load generator's stats plus the server's CPU % and RSS over it. */
export interface RunSample {
  run: number;
  stats: Record<string, any>;
  server_cpu_pct: number;
  /** % of the run the server's main thread waited for a CPU (contention from other processes). */
  server_wait_pct: number;
  server_rss_bytes: number;
  /** Bytes the server wrote to storage during the run. */
  server_disk_bytes: number;
  wall_s: number;
}

export interface DriveResult {
  ready: Record<string, any> | null;
  warmup: Record<string, any> | null;
  runs: RunSample[];
  done: Record<string, any> | null;
}

let cfgCounter = 0;

/** Runs one load generator to completion; throws with its output if it fails. */
export async function drive(ctx: Ctx, server: ServerHandle, cfg: Record<string, unknown>, label: string): Promise<DriveResult> {
  const file = join(ctx.tmpRoot, `loadgen-${process.pid}-${++cfgCounter}.json`);
  writeFileSync(file, JSON.stringify(cfg));
  const proc = spawnTracked({
    name: `loadgen ${label}`,
    cmd: [process.execPath, "run", `${REPO}bench/loadgen.ts`, file],
    nofile: 65536,
    cpus: ctx.loadCpus,
  });
  const result: DriveResult = { ready: null, warmup: null, runs: [], done: null };
  let mark: CpuMark | null = null;
  let fatal: string | null = null;
  const onLine = (line: string) => {
    if (!line.startsWith("{")) return;
    let ev: Record<string, any>;
    try {
      ev = JSON.parse(line);
    } catch {
      return;
    }
    switch (ev.ev) {
      case "run_start":
        mark = cpuMark(server.pid);
        break;
      case "run_end": {
        const end = cpuMark(server.pid);
        const start = mark ?? end;
        result.runs.push({ run: ev.run, stats: ev, server_cpu_pct: cpuPercent(start, end), server_wait_pct: waitPercent(start, end), server_rss_bytes: rssBytes(server.pid), server_disk_bytes: end.disk - start.disk, wall_s: end.wall - start.wall });
        mark = null;
        break;
      }
      case "ready":
        result.ready = ev;
        if (ev.connect_ms !== undefined) ctx.log(`    ${label}: ${ev.sockets ?? ev.connections} connected in ${Math.round(ev.connect_ms)} ms`);
        break;
      case "warmup_end":
        result.warmup = ev;
        break;
      case "done":
        result.done = ev;
        break;
      case "fatal":
        fatal = ev.message;
        break;
    }
  };
  const out = drainTail(proc.stdout as ReadableStream<Uint8Array>, 8192, onLine);
  const err = drainTail(proc.stderr as ReadableStream<Uint8Array>);
  const limitMs = ((cfg.deadlineSeconds as number) ?? 120) * 1000 + 20_000;
  const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(limitMs).then(() => false)]);
  if (!exited) {
    await stopProcess(proc, 1000);
    throw new Error(`load generator ${label} did not finish within ${limitMs} ms\n${err.text()}`);
  }
  // Let the stdout reader see the last lines.
  await Promise.race([out.done, Bun.sleep(2000)]);
  if (proc.exitCode !== 0 || fatal) {
    throw new Error(`load generator ${label} failed (exit ${proc.exitCode}): ${fatal ?? ""}\n${err.text().slice(-3000)}\n${out.text().slice(-1000)}`);
  }
  return result;
}
