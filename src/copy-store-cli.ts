// `chatapi copy-store --to <DATABASE_DSN> [--batch-size N]`: copies the configured store into an
// empty other one (SQLite -> PostgreSQL or back). Wires the two copy implementations (like main.ts).
import { loadConfig, ConfigError, type Config } from "./config";
import { CopyRefusedError, CopyVerificationError, copyAll } from "./storage/copy-run";
import type { CopySource, CopyTarget } from "./storage/copy";
import { isStorageUnavailable } from "./storage/errors";
import { PgCopyStore } from "./storage/postgres/copy";
import { redactDsn } from "./storage/postgres/dsn";
import { SqliteCopyStore } from "./storage/sqlite/copy";

const USAGE = "usage: chatapi copy-store --to <DATABASE_DSN> [--batch-size N]";

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** Where a store lives, from a parsed config. */
function place(c: Readonly<Config>): { kind: "postgres"; url: string } | { kind: "sqlite"; path: string } {
  return c.databaseUrl !== null ? { kind: "postgres", url: c.databaseUrl } : { kind: "sqlite", path: c.databasePath };
}

/** Runs the command; returns the exit code (0 copied and verified, 1 failed, 2 refused or bad usage). */
export async function copyStoreCommand(config: Readonly<Config>, args: string[], io: Io): Promise<number> {
  let to: string | undefined;
  let batchSize = 1000;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--to") to = args[++i];
    else if (a.startsWith("--to=")) to = a.slice(5);
    else if (a === "--batch-size" || a.startsWith("--batch-size=")) {
      const v = Number(a.includes("=") ? a.slice(13) : args[++i]);
      if (!Number.isInteger(v) || v < 1 || v > 100_000) {
        io.err(`copy-store: --batch-size must be an integer 1..100000\n${USAGE}\n`);
        return 2;
      }
      batchSize = v;
    } else {
      io.err(`copy-store: unexpected argument "${a}"\n${USAGE}\n`);
      return 2;
    }
  }
  if (!to) {
    io.err(`${USAGE}\n`);
    return 2;
  }
  let targetConfig: Readonly<Config>;
  try {
    targetConfig = loadConfig({ DATABASE_DSN: to, DATA_DIR: config.dataDir });
  } catch (err) {
    io.err(`copy-store: --to: ${err instanceof ConfigError ? err.problems.join("; ") : String(err)}\n`);
    return 2;
  }
  const src = place(config);
  const dst = place(targetConfig);
  if ((src.kind === "sqlite" && src.path === ":memory:") || (dst.kind === "sqlite" && dst.path === ":memory:")) {
    io.err("copy-store: an in-memory database can be neither source nor target\n");
    return 2;
  }
  if ((src.kind === "sqlite" && dst.kind === "sqlite" && src.path === dst.path) || (src.kind === "postgres" && dst.kind === "postgres" && src.url === dst.url)) {
    io.err("copy-store: the target is the configured store itself\n");
    return 2;
  }
  let source: CopySource | null = null;
  let target: CopyTarget | null = null;
  try {
    source = src.kind === "postgres" ? await PgCopyStore.open(src.url, { snapshot: true, migrate: false }) : SqliteCopyStore.open(src.path, { snapshot: true, migrate: false });
    target = dst.kind === "postgres" ? await PgCopyStore.open(dst.url, { snapshot: false, migrate: true }) : SqliteCopyStore.open(dst.path, { snapshot: false, migrate: true });
    io.err(`copy-store: ${source.kind} ${source.location} -> ${target.kind} ${target.location}\n`);
    const started = performance.now();
    const report = await copyAll(source, target, { batchSize, progress: (line) => io.err(`copy-store: ${line}\n`) });
    io.err(`copy-store: verified (row counts, message checksums of ${report.rooms_verified} rooms) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    io.out(`${JSON.stringify({ from: { store: source.kind, location: source.location }, to: { store: target.kind, location: target.location }, ...report })}\n`);
    return 0;
  } catch (err) {
    if (err instanceof CopyRefusedError) {
      io.err(`copy-store: refused: ${err.message}\n`);
      return 2;
    }
    const msg = err instanceof CopyVerificationError ? err.message : isStorageUnavailable(err) ? `database unavailable (${err.driverCode}): ${String((err as { cause?: Error }).cause?.message ?? "")}` : err instanceof Error ? err.message : String(err);
    io.err(`copy-store: failed: ${redactDsn(msg)}\nThe target may hold a partial copy: empty it (or drop and recreate it) before trying again. The source is unchanged.\n`);
    return 1;
  } finally {
    await source?.close().catch(() => {});
    await target?.close().catch(() => {});
  }
}
