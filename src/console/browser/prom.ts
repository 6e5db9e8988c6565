// Reads the Prometheus text exposition of GET /metrics (public) into totals per metric name.

/** Sum of every sample of each metric name (labels folded together); comments skipped. */
export function parsePrometheus(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(\{.*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const value = Number(m[3]);
    if (!Number.isFinite(value)) continue;
    out.set(m[1]!, (out.get(m[1]!) ?? 0) + value);
  }
  return out;
}
