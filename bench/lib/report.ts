// Summaries (median, min-max over runs), the console report, the JSON result and the README table.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { Hist } from "./hist";
import type { RunSample } from "./drive";

/** Flat per-run figures; absent keys are simply not shown. */
export type RunFigures = Record<string, number>;

export interface Metric {
  key: string;
  label: string;
  /** How to print one value. */
  unit: "count" | "rate" | "ms" | "pct" | "bytes" | "s";
  better: "higher" | "lower" | "zero";
}

export interface TargetCheck {
  label: string;
  actual: number | null;
  pass: boolean | null;
  unit: Metric["unit"] | "ratio";
}

export interface Side {
  /** How the server was run. */
  how: string;
  runs: RunFigures[];
  setup: Record<string, unknown>;
  notes: string[];
}

export interface ScenarioResult {
  name: string;
  title: string;
  metrics: Metric[];
  /** Metric key whose median is compared product/baseline (the headline figure). */
  headline: string;
  product: Side | null;
  baseline: Side | null;
  targets: TargetCheck[];
  error?: string;
  seconds: number;
}

export interface Stat {
  median: number;
  min: number;
  max: number;
}

export function stat(values: number[]): Stat {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { median: NaN, min: NaN, max: NaN };
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { median, min: v[0]!, max: v[v.length - 1]! };
}

export function sideStat(side: Side | null, key: string): Stat {
  if (!side) return { median: NaN, min: NaN, max: NaN };
  return stat(side.runs.map((r) => r[key]!).filter((x) => x !== undefined));
}

/** Sum of a key over runs (lost, dup, errors must be 0 in every run). */
export function sideSum(side: Side | null, key: string): number {
  if (!side) return NaN;
  return side.runs.reduce((s, r) => s + (r[key] ?? 0), 0);
}

/** Standard figures of a load-generator run. */
export function figures(s: RunSample): RunFigures {
  const h = Hist.fromJSON(s.stats.hist);
  const f: RunFigures = {
    throughput: s.stats.throughput ?? NaN,
    p50_ms: h.percentile(0.5),
    p99_ms: h.percentile(0.99),
    max_ms: h.n ? h.max : NaN,
    server_cpu_pct: s.server_cpu_pct,
    server_wait_pct: s.server_wait_pct,
    server_rss_bytes: s.server_rss_bytes,
    lost: s.stats.lost ?? 0,
    dup: s.stats.dup ?? 0,
    errors: s.stats.errors ?? 0,
    loadgen_cpu_pct: s.stats.loadgen_cpu_pct ?? NaN,
    samples: h.n,
  };
  if (s.stats.deliveries_per_s !== undefined) f.deliveries_per_s = s.stats.deliveries_per_s;
  if (Number.isFinite(s.server_disk_bytes) && s.stats.ok > 0) f.disk_bytes_per_op = s.server_disk_bytes / s.stats.ok;
  if (Number.isFinite(f.throughput) && s.server_cpu_pct > 0) f.per_core = f.throughput! / (s.server_cpu_pct / 100);
  if (f.deliveries_per_s !== undefined && s.server_cpu_pct > 0) f.deliveries_per_core = f.deliveries_per_s / (s.server_cpu_pct / 100);
  return f;
}

export function fmt(v: number | null | undefined, unit: Metric["unit"] | "ratio"): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "-";
  switch (unit) {
    case "rate":
    case "count":
      return Math.round(v).toLocaleString("en-US");
    case "ms":
      return v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : Math.round(v).toLocaleString("en-US");
    case "s":
      return v.toFixed(2);
    case "pct":
      return `${Math.round(v)}%`;
    case "ratio":
      return `${(v * 100).toFixed(0)}%`;
    case "bytes":
      return v >= 1024 * 1024 ? `${(v / 1024 / 1024).toFixed(1)} MB` : v >= 1024 ? `${(v / 1024).toFixed(2)} KB` : `${Math.round(v)} B`;
  }
}

function fmtStat(s: Stat, unit: Metric["unit"]): string {
  if (!Number.isFinite(s.median)) return "-";
  if (s.min === s.max) return fmt(s.median, unit);
  return `${fmt(s.median, unit)} [${fmt(s.min, unit)}–${fmt(s.max, unit)}]`;
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + " ".repeat(n - s.length));

/** The console block of one scenario. */
export function printScenario(r: ScenarioResult, out: (s: string) => void): void {
  out("");
  out(`== ${r.name}: ${r.title}  (${r.seconds.toFixed(0)} s)`);
  if (r.error) out(`   ERROR: ${r.error.split("\n").slice(0, 6).join("\n   ")}`);
  if (r.product) out(`   product:  ${r.product.how}`);
  if (r.baseline) out(`   baseline: ${r.baseline.how}`);
  out(`   ${pad("metric", 26)}${pad("product median [min–max]", 38)}${pad("baseline median [min–max]", 38)}product/baseline`);
  for (const m of r.metrics) {
    const p = sideStat(r.product, m.key);
    const b = sideStat(r.baseline, m.key);
    const ratio = p.median / b.median;
    out(`   ${pad(m.label, 26)}${pad(fmtStat(p, m.unit), 38)}${pad(fmtStat(b, m.unit), 38)}${Number.isFinite(ratio) ? fmt(ratio, "ratio") : "-"}`);
  }
  for (const side of [r.product, r.baseline]) {
    if (!side) continue;
    const setup = Object.entries(side.setup).map(([k, v]) => `${k}=${typeof v === "number" ? Math.round(v) : v}`).join(", ");
    if (setup) out(`   setup (${side === r.product ? "product" : "baseline"}): ${setup}`);
    for (const n of side.notes) out(`   note (${side === r.product ? "product" : "baseline"}): ${n}`);
  }
  out(`   targets: ${r.targets.map((t) => `${t.label}: ${fmt(t.actual, t.unit)} ${t.pass === null ? "?" : t.pass ? "PASS" : "MISS"}`).join(" | ")}`);
}

export interface Machine {
  cores: number;
  cpu_model: string;
  bun: string;
  mem_gb: number;
  kernel: string;
  loadavg: string;
  pinning: string;
}

/** The results table (markdown) for the README and the end of the console report. */
export function markdownTable(results: ScenarioResult[], machine: Machine, date: string, runs: number, product: string): string {
  const lines: string[] = [];
  lines.push(`Run ${date} of ${product}, on ${machine.cores} cores (${machine.cpu_model}), ${machine.mem_gb} GB RAM, Bun ${machine.bun}, ${machine.kernel}; ${machine.pinning}. Load average at start: ${machine.loadavg}.`);
  lines.push("");
  lines.push(`Medians of ${runs} runs with [min–max]; latency p50 / p99 / max in ms; lost / dup / errors summed over the runs; ratio = product / baseline of the headline figure.`);
  lines.push("");
  lines.push("| scenario | headline (product) | p50 / p99 / max ms | server CPU | server RSS | lost / dup / errors | baseline | ratio | targets |");
  lines.push("|---|---|---|---|---|---|---|---|---|");
  for (const r of results) {
    const m = r.metrics.find((x) => x.key === r.headline)!;
    const p = sideStat(r.product, r.headline);
    const b = sideStat(r.baseline, r.headline);
    const lat = ["p50_ms", "p99_ms", "max_ms"].map((k) => fmt(sideStat(r.product, k).median, "ms")).join(" / ");
    const cpu = fmt(sideStat(r.product, "server_cpu_pct").median, "pct");
    const rss = fmt(sideStat(r.product, "server_rss_bytes").median, "bytes");
    const ld = ["lost", "dup", "errors"].map((k) => fmt(sideSum(r.product, k), "count")).join(" / ");
    const ratio = p.median / b.median;
    const tg = r.error ? `ERROR: ${r.error.split("\n")[0]!.slice(0, 80)}` : r.targets.map((t) => `${t.pass === null ? "?" : t.pass ? "✅" : "❌"} ${t.label}`).join("<br>");
    lines.push(`| ${r.name} | ${m.label}: ${fmtStat(p, m.unit)} | ${lat} | ${cpu} | ${rss} | ${ld} | ${fmtStat(b, m.unit)} | ${Number.isFinite(ratio) ? fmt(ratio, "ratio") : "-"} | ${tg} |`);
  }
  return lines.join("\n");
}

/**
 * Before/after: the same scenarios on a previous build and on this one, in one run. Per scenario the
 * headline figure, server CPU, the per-CPU-second figure when there is one, and p99.
 */
export function compareTable(before: ScenarioResult[], after: ScenarioResult[], previousBin: string, product: string): string {
  const lines: string[] = [];
  lines.push(`Previous build: \`${previousBin}\`; this build: ${product}. Medians over the runs with [min–max]; ratio = this / previous.`);
  lines.push("");
  lines.push("| scenario | headline | previous | this build | ratio | server CPU (prev → this) | per server CPU-second (prev → this) | ratio | p99 ms (prev → this) | lost / dup / errors (prev; this) |");
  lines.push("|---|---|---|---|---|---|---|---|---|---|");
  for (const a of after) {
    const b = before.find((x) => x.name === a.name);
    if (!b) continue;
    const m = a.metrics.find((x) => x.key === a.headline) ?? b.metrics.find((x) => x.key === b.headline);
    if (!m || a.error || b.error) {
      lines.push(`| ${a.name} | - | ${b.error ? `ERROR: ${b.error.split("\n")[0]!.slice(0, 60)}` : "-"} | ${a.error ? `ERROR: ${a.error.split("\n")[0]!.slice(0, 60)}` : "-"} | - | - | - | - | - | - |`);
      continue;
    }
    const pb = sideStat(b.product, m.key);
    const pa = sideStat(a.product, m.key);
    const ratio = m.better === "lower" ? pb.median / pa.median : pa.median / pb.median;
    const cpu = `${fmt(sideStat(b.product, "server_cpu_pct").median, "pct")} → ${fmt(sideStat(a.product, "server_cpu_pct").median, "pct")}`;
    const perKey = a.metrics.some((x) => x.key === "per_core") ? "per_core" : a.metrics.some((x) => x.key === "deliveries_per_core") ? "deliveries_per_core" : null;
    const cb = perKey ? sideStat(b.product, perKey).median : NaN;
    const ca = perKey ? sideStat(a.product, perKey).median : NaN;
    const p99 = `${fmt(sideStat(b.product, "p99_ms").median, "ms")} → ${fmt(sideStat(a.product, "p99_ms").median, "ms")}`;
    const ld = (r: ScenarioResult) => ["lost", "dup", "errors"].map((k) => fmt(sideSum(r.product, k), "count")).join(" / ");
    lines.push(`| ${a.name} | ${m.label} | ${fmtStat(pb, m.unit)} | ${fmtStat(pa, m.unit)} | ${fmt(ratio, "ratio")} | ${cpu} | ${perKey ? `${fmt(cb, "rate")} → ${fmt(ca, "rate")}` : "-"} | ${perKey ? fmt(ca / cb, "ratio") : "-"} | ${p99} | ${ld(b)}; ${ld(a)} |`);
  }
  lines.push("");
  lines.push("Ratio > 100 % means this build is better (for latency headlines: previous / this).");
  return lines.join("\n");
}

/** Replaces the text between the results markers of the README (adds them if missing). */
export function updateReadme(path: string, table: string): void {
  const start = "<!-- results:start -->";
  const end = "<!-- results:end -->";
  const text = existsSync(path) ? readFileSync(path, "utf8") : `# Benchmarks\n\n${start}\n${end}\n`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  const next = i >= 0 && j > i ? `${text.slice(0, i + start.length)}\n${table}\n${text.slice(j)}` : `${text}\n${start}\n${table}\n${end}\n`;
  writeFileSync(path, next);
}
