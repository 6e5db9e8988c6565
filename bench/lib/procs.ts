// Every process the harness starts goes through here: it is tracked by PID and killed (by PID, never by
// name) on normal exit, on errors and on SIGINT/SIGTERM. Also: /proc sampling of CPU time and RSS.
import { readFileSync, existsSync } from "node:fs";
import type { Subprocess } from "bun";

const live = new Map<number, { name: string; proc: Subprocess }>();
let hooked = false;

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", () => killAllNow());
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(sig, () => {
      killAllNow();
      process.exit(130);
    });
  }
}

/** SIGKILLs every tracked process that is still running (exit hooks: must be synchronous). */
export function killAllNow(): void {
  for (const [pid, p] of live) {
    if (p.proc.exitCode === null && p.proc.signalCode === null) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  live.clear();
}

export interface SpawnOpts {
  name: string;
  cmd: string[];
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Raise the soft open-files limit to this (capped by the hard limit) before exec. */
  nofile?: number;
  /** Pin to these CPUs with taskset (e.g. "0"), when taskset exists. */
  cpus?: string | null;
  stdin?: "pipe" | "ignore";
  stdout?: "pipe" | "ignore" | "inherit";
  stderr?: "pipe" | "ignore" | "inherit";
}

const HAS_TASKSET = existsSync("/usr/bin/taskset") || existsSync("/bin/taskset");

/** Spawns and tracks a process. The PID is the program's own (sh and taskset exec into it). */
export function spawnTracked(o: SpawnOpts): Subprocess<"pipe" | "ignore", "pipe" | "ignore" | "inherit", "pipe" | "ignore" | "inherit"> {
  hook();
  let cmd = o.cmd;
  if (o.nofile) {
    const quoted = cmd.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
    // The hard limit may be below the wish (20,000 here): take what is allowed.
    cmd = ["sh", "-c", `ulimit -n ${o.nofile} 2>/dev/null || ulimit -n $(ulimit -Hn); exec ${quoted}`];
  }
  if (o.cpus && HAS_TASKSET) cmd = ["taskset", "-c", o.cpus, ...cmd];
  const proc = Bun.spawn({
    cmd,
    cwd: o.cwd,
    env: { ...process.env, ...o.env } as Record<string, string>,
    stdin: o.stdin ?? "ignore",
    stdout: o.stdout ?? "pipe",
    stderr: o.stderr ?? "pipe",
  });
  live.set(proc.pid, { name: o.name, proc });
  void proc.exited.then(() => live.delete(proc.pid));
  return proc as any;
}

/** SIGTERM, then SIGKILL after graceMs; resolves when the process has exited. */
export async function stopProcess(proc: Subprocess, graceMs = 5000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  try {
    process.kill(proc.pid, "SIGTERM");
  } catch {
    return;
  }
  const done = await Promise.race([proc.exited.then(() => true), Bun.sleep(graceMs).then(() => false)]);
  if (!done) {
    try {
      process.kill(proc.pid, "SIGKILL");
    } catch {
      // gone
    }
    await proc.exited;
  }
  live.delete(proc.pid);
}

/** Keeps the last `max` bytes of a stream (so a full pipe never blocks the child) and exposes them. */
export function drainTail(stream: ReadableStream<Uint8Array> | null | undefined, max = 16_384, onLine?: (line: string) => void): { text: () => string; done: Promise<void> } {
  let tail = "";
  let partial = "";
  let done: Promise<void> = Promise.resolve();
  if (stream) {
    done = (async () => {
      const dec = new TextDecoder();
      try {
        for await (const chunk of stream) {
          const s = dec.decode(chunk, { stream: true });
          tail = (tail + s).slice(-max);
          if (onLine) {
            partial += s;
            let nl: number;
            while ((nl = partial.indexOf("\n")) >= 0) {
              onLine(partial.slice(0, nl));
              partial = partial.slice(nl + 1);
            }
            if (partial.length > 1_000_000) partial = "";
          }
        }
      } catch {
        // process gone
      }
    })();
  }
  return { text: () => tail, done };
}

const CLK_TCK = (() => {
  try {
    const r = Bun.spawnSync(["getconf", "CLK_TCK"]);
    const n = Number(r.stdout.toString().trim());
    return n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system, all threads) the process has used so far. */
export function cpuSeconds(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** Resident set size in bytes (VmRSS), NaN if the process is gone. */
export function rssBytes(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/status`, "utf8");
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(s);
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Seconds the process's main thread spent runnable but waiting for a CPU (/proc/<pid>/schedstat). */
export function runDelaySeconds(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[1]) / 1e9;
  } catch {
    return NaN;
  }
}

/** Bytes the process has passed to write() so far (`wchar` of /proc/<pid>/io: WAL and sockets alike). */
export function writeCharBytes(pid: number): number {
  try {
    const m = /wchar:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, "utf8"));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** Bytes the process caused to be written to storage so far (`write_bytes` of /proc/<pid>/io). */
export function diskWriteBytes(pid: number): number {
  try {
    const m = /write_bytes:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, "utf8"));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** A CPU/wall sample of one process, to compute CPU % over an interval. */
export interface CpuMark {
  cpu: number;
  wall: number;
  /** Main thread's run-queue wait so far: high values mean the server was starved of CPU. */
  wait: number;
  /** Bytes written to storage so far. */
  disk: number;
}

export function cpuMark(pid: number): CpuMark {
  return { cpu: cpuSeconds(pid), wall: performance.now() / 1000, wait: runDelaySeconds(pid), disk: diskWriteBytes(pid) };
}

/** % of the interval the main thread was runnable but not running (CPU contention). */
export function waitPercent(a: CpuMark, b: CpuMark): number {
  const wall = b.wall - a.wall;
  return wall > 0 ? ((b.wait - a.wait) / wall) * 100 : NaN;
}

/** CPU % of one core between two marks. */
export function cpuPercent(a: CpuMark, b: CpuMark): number {
  const wall = b.wall - a.wall;
  return wall > 0 ? ((b.cpu - a.cpu) / wall) * 100 : NaN;
}

/** A free TCP port on 127.0.0.1 (probe-and-release; the window for a race is tiny). */
export function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}
