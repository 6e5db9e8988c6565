// Helpers shared by the scenarios: metric sets, temp dirs, target checks, side results.
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import type { Ctx } from "../lib/ctx";
import type { DriveResult } from "../lib/drive";
import { figures, sideStat, sideSum, type Metric, type RunFigures, type ScenarioResult, type Side, type TargetCheck } from "../lib/report";
import type { ServerHandle } from "../lib/server";
import type { Target } from "../loadgen";

export const M = {
  throughput: (label: string): Metric => ({ key: "throughput", label, unit: "rate", better: "higher" }),
  deliveries: { key: "deliveries_per_s", label: "deliveries/s", unit: "rate", better: "higher" } as Metric,
  p50: { key: "p50_ms", label: "latency p50 (ms)", unit: "ms", better: "lower" } as Metric,
  p99: { key: "p99_ms", label: "latency p99 (ms)", unit: "ms", better: "lower" } as Metric,
  max: { key: "max_ms", label: "latency max (ms)", unit: "ms", better: "lower" } as Metric,
  cpu: { key: "server_cpu_pct", label: "server CPU (% of a core)", unit: "pct", better: "lower" } as Metric,
  rss: { key: "server_rss_bytes", label: "server RSS", unit: "bytes", better: "lower" } as Metric,
  disk: { key: "disk_bytes_per_op", label: "disk written per op", unit: "bytes", better: "lower" } as Metric,
  wait: { key: "server_wait_pct", label: "server waiting for CPU", unit: "pct", better: "lower" } as Metric,
  perCore: (label: string): Metric => ({ key: "per_core", label, unit: "rate", better: "higher" }),
  deliveriesPerCore: { key: "deliveries_per_core", label: "deliveries per CPU-second", unit: "rate", better: "higher" } as Metric,
  lost: { key: "lost", label: "lost", unit: "count", better: "zero" } as Metric,
  dup: { key: "dup", label: "duplicated", unit: "count", better: "zero" } as Metric,
  errors: { key: "errors", label: "errors", unit: "count", better: "zero" } as Metric,
  loadgen: { key: "loadgen_cpu_pct", label: "load generator CPU", unit: "pct", better: "lower" } as Metric,
};

export function tmp(ctx: Ctx, label: string): string {
  return mkdtempSync(join(ctx.tmpRoot, `${label}-`));
}

export function target(h: ServerHandle, apiKey: string): Target {
  return { kind: h.kind, host: h.host, port: h.port, apiKey };
}

export function timing(ctx: Ctx, extraPerRun = 15, fixed = 90) {
  return {
    runs: ctx.runs,
    runSeconds: ctx.runSeconds,
    warmupSeconds: ctx.warmupSeconds,
    deadlineSeconds: Math.ceil(fixed + ctx.warmupSeconds + extraPerRun + ctx.runs * (ctx.runSeconds + extraPerRun)),
  };
}

export function sideFrom(how: string, d: DriveResult, setup: Record<string, unknown>, extra?: (f: RunFigures, stats: Record<string, any>) => void): Side {
  const notes: string[] = [];
  const runs = d.runs.map((r) => {
    const f = figures(r);
    extra?.(f, r.stats);
    const samples = r.stats.error_samples as string[] | undefined;
    if (samples?.length && notes.length < 3) notes.push(`run ${r.run}: ${samples.slice(0, 2).join(" / ").slice(0, 300)}`);
    return f;
  });
  if (d.warmup?.error_samples?.length) notes.push(`warm-up: ${(d.warmup.error_samples as string[]).slice(0, 2).join(" / ").slice(0, 300)}`);
  return { how, runs, setup, notes };
}

type Op = ">=" | "<=" | "==";

function check(op: Op, actual: number, value: number): boolean | null {
  if (!Number.isFinite(actual)) return null;
  return op === ">=" ? actual >= value : op === "<=" ? actual <= value : actual === value;
}

/** A target on the product's median of a metric. */
export function tMedian(r: Pick<ScenarioResult, "product">, key: string, op: Op, value: number, label: string, unit: TargetCheck["unit"]): TargetCheck {
  const a = sideStat(r.product, key).median;
  return { label, actual: a, pass: check(op, a, value), unit };
}

/** A target on a sum over every run (lost, dup, errors must be 0). */
export function tZero(r: Pick<ScenarioResult, "product">, key: string, label: string): TargetCheck {
  const a = sideSum(r.product, key);
  return { label, actual: a, pass: check("==", a, 0), unit: "count" };
}

/** A target on product/baseline of a metric's medians. */
export function tRatio(r: Pick<ScenarioResult, "product" | "baseline">, key: string, op: Op, value: number, label: string): TargetCheck {
  const a = sideStat(r.product, key).median / sideStat(r.baseline, key).median;
  return { label, actual: a, pass: check(op, a, value), unit: "ratio" };
}

export const fmtK = (n: number) => n.toLocaleString("en-US");

/** `how` text for each side. */
export function howProduct(ctx: Ctx): string {
  return `${ctx.binary ? "compiled binary dist/chatapi" : "bun run src/main.ts (sources)"}, SQLITE_SYNCHRONOUS=full${ctx.serverCpus ? `, pinned to CPU ${ctx.serverCpus}` : ""}`;
}

export function howBaseline(ctx: Ctx, what: string): string {
  return `${what}, run with \`bun run\` (not compiled)${ctx.serverCpus ? `, pinned to CPU ${ctx.serverCpus}` : ""}`;
}
