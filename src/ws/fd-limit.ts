// The process's open-file soft limit, which bounds how many sockets one node can hold.
import { readFileSync } from "node:fs";

/** The soft RLIMIT_NOFILE from /proc/self/limits, else `ulimit -n`; null when unknown or unlimited. */
export function openFileSoftLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    if (m) return m[1] === "unlimited" ? null : Number(m[1]);
  } catch {
    // not Linux: ask the shell
  }
  try {
    const out = Bun.spawnSync(["sh", "-c", "ulimit -n"]).stdout.toString().trim();
    return /^\d+$/.test(out) ? Number(out) : null;
  } catch {
    return null;
  }
}

/** WS_MAX_CONNECTIONS when unset: 90 % of the open-file soft limit (the rest is for the database, webhooks, HTTP). */
export function defaultMaxConnections(limit = openFileSoftLimit()): number {
  return limit === null ? 1_000_000 : Math.max(1, Math.floor(limit * 0.9));
}
