// Flood generator for the overload test (a separate process, so the flood's client work does not
// share the measuring thread): GET /rooms as fast as `concurrency` loops allow, for `durationMs`.
// Prints one JSON line when the first 429 is seen and a summary at the end.
const [url, key, durationMs = "3000", concurrency = "16"] = process.argv.slice(2);
if (!url || !key) {
  process.stderr.write("usage: bun test/reliability/flood.ts URL API_KEY [DURATION_MS] [CONCURRENCY]\n");
  process.exit(2);
}
const end = performance.now() + Number(durationMs);
const counts: Record<string, number> = {};
let badRetryAfter = 0;
let announced = false;
async function loop(): Promise<void> {
  while (performance.now() < end) {
    try {
      const res = await fetch(`${url}/rooms?limit=1`, { headers: { "x-api-key": key!, "x-user-id": "flooder" }, signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      counts[res.status] = (counts[res.status] ?? 0) + 1;
      if (res.status === 429) {
        const ra = Number(res.headers.get("retry-after"));
        if (!Number.isInteger(ra) || ra < 1) badRetryAfter++;
        if (!announced) {
          announced = true;
          process.stdout.write(`${JSON.stringify({ flooding: true })}\n`);
        }
      }
    } catch {
      counts.error = (counts.error ?? 0) + 1;
    }
  }
}
await Promise.all(Array.from({ length: Number(concurrency) }, loop));
process.stdout.write(`${JSON.stringify({ done: true, counts, badRetryAfter })}\n`);
