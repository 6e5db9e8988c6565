// Smoke test of the benchmark harness (bench/): every scenario end to end at tiny sizes, product and
// baseline, one short run, no thresholds, so the harness cannot rot. The real benchmark is
// `bun run bench` (not part of `bun test`).
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const REPO = join(import.meta.dir, "..");
// The conversation scenarios measure single requests with a reference request interleaved on the same
// server (bench/scenarios/conversations.ts): they have no separate baseline.
const CONVERSATIONS = ["mentions-send", "reaction-hot", "thread-replies", "rooms-mentions"];
const SCENARIOS = ["rest-send", "ws-rooms", "ws-latency", "fanout", "history", "idle", "reconnect-storm", "startup", "jwt-history", ...CONVERSATIONS, "search"];

test(
  "bench --smoke runs every scenario against the product and its baseline with nothing lost",
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "bench-smoke-"));
    const json = join(dir, "smoke.json");
    try {
      const proc = Bun.spawn({
        cmd: [process.execPath, "run", join(REPO, "bench", "run.ts"), "--smoke", "--json", json],
        cwd: REPO,
        stdout: "pipe",
        stderr: "pipe",
      });
      const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      if (code !== 0) console.error(out.slice(-6000), err.slice(-3000));
      expect(code).toBe(0);
      const doc = JSON.parse(readFileSync(json, "utf8"));
      expect(doc.results.map((r: { name: string }) => r.name)).toEqual(SCENARIOS);
      for (const r of doc.results) {
        expect({ name: r.name, error: r.error ?? null }).toEqual({ name: r.name, error: null });
        if (CONVERSATIONS.includes(r.name)) expect(r.baseline).toBeNull();
        for (const side of CONVERSATIONS.includes(r.name) ? [r.product] : [r.product, r.baseline]) {
          expect(side.runs.length).toBe(1);
          const run = side.runs[0];
          expect(Number.isFinite(run[r.headline])).toBe(true);
          for (const k of ["lost", "dup", "errors", "out_of_order"]) if (k in run) expect({ name: r.name, [k]: run[k] }).toEqual({ name: r.name, [k]: 0 });
        }
      }
      expect(out).toContain("== summary");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  180_000,
);
