// A webhook-claiming process for the PostgreSQL outbox test: claims due deliveries of one tenant in
// a loop (small batches, as the worker does), marks each delivered, and prints what it claimed.
// Usage: bun test/support/pg-claimer.ts <database-url> <owner> <tenant-id>
// Prints "ready", waits for a line on stdin, then one JSON line per claim batch, then "done".
import { openPostgresStore } from "../../src/storage/postgres/postgres-store";

const [url, owner, tenantId] = process.argv.slice(2) as [string, string, string];
const store = await openPostgresStore({ url, poolSize: 4, migrate: false });
console.log("ready");
for await (const _ of console) break; // the start barrier: both processes claim at the same moment
let empty = 0;
while (empty < 3) {
  const now = new Date();
  const claimed = await store.transaction((tx) =>
    tx.deliveries.claimDue(tenantId, now.toISOString(), 5, { owner, until: new Date(now.getTime() + 600_000).toISOString() }),
  );
  if (claimed.length === 0) {
    empty++;
    continue;
  }
  empty = 0;
  console.log(JSON.stringify(claimed.map((d) => d.delivery_id)));
  await store.transaction(async (tx) => {
    for (const d of claimed) {
      const ok = await tx.deliveries.recordAttempt(d.delivery_id, owner, { status: "delivered", attempts: d.attempts + 1, at: new Date().toISOString(), targetUrl: null });
      if (!ok) throw new Error(`recordAttempt refused ${d.delivery_id}`);
    }
  });
}
console.log("done");
await store.close();
