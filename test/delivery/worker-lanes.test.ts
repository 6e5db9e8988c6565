// Regression (seen on PostgreSQL, where a claim takes a round trip): deliveries claimed while the
// tenant's previous sends finish must still be sent. The sends' completion dropped the tenant's lane
// as idle during the claim, and the claimed rows were queued on the dropped lane: never sent until
// their lease expired (45 s). Runs on PostgreSQL when reachable (the timing that exposed it), else SQLite.
import { expect, test } from "bun:test";
import { startTestServer, waitFor } from "../helpers";
import { createTestDatabase, postgresAvailable } from "../support/postgres";
import { tenantWithRoom } from "./fixtures";
import { Receiver } from "./receiver";

test("regression: deliveries claimed while the tenant's last sends finish are sent at once, round after round", async () => {
  const db = (await postgresAvailable()) ? await createTestDatabase() : null;
  const rx = new Receiver();
  const s = await startTestServer({ RETRY_INTERVAL: "50ms", WORKER_INTERVAL: "100ms", ...(db ? { DATABASE_DSN: db.url } : {}) });
  try {
    const t = await tenantWithRoom(s, ["alice", "bob", "carol"], { webhook_url: rx.url });
    for (const u of ["bob", "dave"]) expect((await t.as(u).post("/subscriptions", { topic: "deploys" })).status).toBe(201);
    const notify = (body: unknown) => s.client(t.apiKey).post("/notify", body);
    let expected = 0;
    for (let round = 0; round < 5; round++) {
      for (const targets of [{ user_ids: ["zed"] }, { room_id: t.roomId }, { topic_subscribers: true }]) {
        const r = await notify({ topic: "deploys", payload: round, targets });
        expect(r.status).toBe(202);
        expected += r.body.recipients;
      }
      // Well under the 45 s lease: every delivery is sent now, not when its claim expires.
      await waitFor(() => rx.received.length >= expected, 5000, `${expected} webhooks (round ${round})`);
    }
    expect(rx.received.length).toBe(expected);
    await waitFor(() => s.api.webhooks.inFlightCount() === 0, 5000, "no delivery left in flight");
  } finally {
    await s.stop();
    rx.stop();
    await db?.drop();
  }
}, 30_000);
