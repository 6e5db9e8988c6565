// Tenant B of `bun run bench fairness`, in its own process so its latencies are not those of the
// process generating A's load: one send and one history read every 50 ms for `seconds`, each timed.
// Prints one JSON line: {p50, p99, n, errors}.
const [base, apiKey, roomId, secondsText] = process.argv.slice(2);
const seconds = Number(secondsText);
const lat: number[] = [];
let errors = 0;
const start = performance.now();
const inflight: Promise<void>[] = [];
const headers = (u: string) => ({ "x-api-key": apiKey!, "x-user-id": u, "content-type": "application/json" });
for (let i = 0; performance.now() - start < seconds * 1000; i++) {
  const wait = start + i * 25 - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const t0 = performance.now();
  const req = i % 2 === 0
    ? fetch(`${base}/rooms/${roomId}/messages`, { method: "POST", headers: headers(`b${(i / 2) % 4}`), body: JSON.stringify({ content: "steady" }) })
    : fetch(`${base}/rooms/${roomId}/messages?limit=20`, { headers: headers("b2") });
  inflight.push(
    req
      .then(async (r) => {
        await r.arrayBuffer();
        if (r.status >= 300) errors++;
        lat.push(performance.now() - t0);
      })
      .catch(() => void errors++),
  );
}
await Promise.all(inflight);
lat.sort((a, b) => a - b);
const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] ?? NaN;
console.log(JSON.stringify({ p50: pct(50), p99: pct(99), n: lat.length, errors }));
