// Drives the compiled binary (dist/chatapi) as a child process: build when missing or stale, start on
// a DATA_DIR, read its JSON log lines, SIGKILL or SIGTERM it.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { TEST_MASTER_KEY } from "../../helpers";

export const REPO_ROOT = join(import.meta.dir, "..", "..", "..");
export const BINARY = join(REPO_ROOT, "dist", "chatapi");

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const e of readdirSync(path)) max = Math.max(max, newestMtime(join(path, e)));
  return max;
}

/** Builds dist/chatapi (`bun run build`) unless it exists and is newer than src/, migrations/ and package.json. */
export function ensureBinary(): string {
  const inputs = Math.max(newestMtime(join(REPO_ROOT, "src")), newestMtime(join(REPO_ROOT, "migrations")), statSync(join(REPO_ROOT, "package.json")).mtimeMs);
  if (existsSync(BINARY) && statSync(BINARY).mtimeMs > inputs) return BINARY;
  const r = Bun.spawnSync([process.execPath, "run", "build"], { cwd: REPO_ROOT, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`bun run build failed (${r.exitCode}):\n${r.stderr.toString()}\n${r.stdout.toString()}`);
  return BINARY;
}

/** A clean environment for the child: PATH/HOME/TMPDIR only, plus `env`. */
function childEnv(env: Record<string, string>): Record<string, string> {
  const base: Record<string, string> = {};
  for (const k of ["PATH", "HOME", "TMPDIR"]) if (process.env[k]) base[k] = process.env[k]!;
  return { ...base, ...env };
}

/** One running binary. */
export class BinaryProcess {
  readonly lines: string[] = [];
  private constructor(
    readonly proc: Subprocess<"ignore", "pipe", "pipe">,
    readonly url: string,
  ) {}

  /** Starts `chatapi serve` on 127.0.0.1:0 with DATA_DIR and resolves once it logs "chatapi listening". */
  static async start(dataDir: string, env: Record<string, string> = {}, timeoutMs = 15_000): Promise<BinaryProcess> {
    const proc = Bun.spawn([ensureBinary(), "serve"], {
      cwd: REPO_ROOT,
      env: childEnv({ LISTEN_ADDR: "127.0.0.1:0", DATA_DIR: dataDir, MASTER_API_KEY: TEST_MASTER_KEY, LOG_LEVEL: "info", CONSOLE_ENABLED: "false", ...env }),
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const lines: string[] = [];
    let resolveUrl!: (u: string) => void;
    let rejectUrl!: (e: Error) => void;
    const urlP = new Promise<string>((res, rej) => ((resolveUrl = res), (rejectUrl = rej)));
    void (async () => {
      const decoder = new TextDecoder();
      let buf = "";
      for await (const chunk of proc.stdout) {
        buf += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (lines.length < 20_000) lines.push(line);
          if (line.includes('"chatapi listening"')) {
            try {
              resolveUrl(JSON.parse(line).url);
            } catch {
              // keep reading
            }
          }
        }
      }
      rejectUrl(new Error(`binary exited before listening (code ${proc.exitCode}):\n${lines.join("\n")}\n${await new Response(proc.stderr).text()}`));
    })();
    const timer = setTimeout(() => rejectUrl(new Error(`binary did not listen within ${timeoutMs} ms:\n${lines.join("\n")}`)), timeoutMs);
    try {
      const url = await urlP;
      const bp = new BinaryProcess(proc, url);
      (bp.lines as string[]) = lines;
      return bp;
    } catch (err) {
      proc.kill("SIGKILL");
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL: no shutdown code runs. Resolves when the process is gone. */
  async kill(): Promise<void> {
    this.proc.kill("SIGKILL");
    await this.proc.exited;
  }

  /** SIGTERM graceful stop; returns the exit code. */
  async stop(timeoutMs = 20_000): Promise<number> {
    this.proc.kill("SIGTERM");
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), timeoutMs);
    const code = await this.proc.exited;
    clearTimeout(timer);
    return code;
  }

  /** Log lines at level error or fatal (500s, crashes). */
  errorLines(): string[] {
    return this.lines.filter((l) => /"level":"(error|fatal)"/.test(l));
  }
}
