// Helpers for tests that run the real entry point (`bun run src/main.ts ...`) as a child process.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The repository root (test/foundation/../..). */
export const REPO_ROOT = join(import.meta.dir, "..", "..");
export const MAIN = join(REPO_ROOT, "src", "main.ts");

/** A fresh temporary directory. */
export function tempDir(prefix = "chatapi-cli-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A clean environment: only PATH/HOME from the parent, so no stray MASTER_API_KEY etc. leaks in. */
export function cleanEnv(env: Record<string, string>): Record<string, string> {
  const base: Record<string, string> = {};
  if (process.env.PATH) base.PATH = process.env.PATH;
  if (process.env.HOME) base.HOME = process.env.HOME;
  if (process.env.TMPDIR) base.TMPDIR = process.env.TMPDIR;
  return { ...base, ...env };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `bun run src/main.ts ...args` to completion (killed after `timeoutMs`). */
export async function runCli(args: string[], env: Record<string, string>, timeoutMs = 10_000): Promise<CliResult> {
  const proc = Bun.spawn([process.execPath, "run", MAIN, ...args], {
    cwd: REPO_ROOT,
    env: cleanEnv(env),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: timeoutMs,
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** A free TCP port on 127.0.0.1 (bound then released; nothing listens on it afterwards). */
export function freePort(): number {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  const port = s.port!;
  s.stop(true);
  return port;
}

/** Non-empty lines of a text. */
export function lines(text: string): string[] {
  return text.split("\n").filter((l) => l.trim() !== "");
}
