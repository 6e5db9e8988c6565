// Issue 13: a fan-out job is durable. Written in the transaction of the message, it is resumed by
// the next process when the previous one stopped before expanding it: every offline member still
// gets the webhook (docs/guides/webhooks.md: a crash never loses a delivery). In cluster mode (nodes
// sharing PostgreSQL) a job is leased: another node running meanwhile leaves it alone, and takes it
// once the node that wrote it has stopped.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import { startServer } from "../../src/main";
import { defaultMaxConnections } from "../../src/ws/fd-limit";
import { request, TEST_MASTER_KEY, waitFor } from "../helpers";
import { Receiver } from "../delivery/receiver";
import { storedRows } from "../support/store";
import { createTestDatabase, postgresAvailable } from "../support/postgres";
import { sharedRedis } from "../support/cluster-mode";

const dataDir = mkdtempSync(join(tmpdir(), "chatapi-fanout-resume-"));
const rx = new Receiver();
afterAll(() => {
  rx.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const config = () => loadConfig({ LISTEN_ADDR: "127.0.0.1:0", DATA_DIR: dataDir, MASTER_API_KEY: TEST_MASTER_KEY, LOG_LEVEL: "silent", DEFAULT_RATE_LIMIT: "100000" });

test("a message's fan-out job left unexpanded by a stopped process is resumed at the next start", async () => {
  const first = await startServer(config());
  const master = { "x-master-key": TEST_MASTER_KEY };
  const t = (await request(`${first.url}/admin/tenants`, "POST", { name: "resume", config: { webhook_url: rx.url } }, master)).body;
  const h = { "x-api-key": t.api_key, "x-user-id": "owner" };
  const members = Array.from({ length: 40 }, (_, i) => `off${i}`);
  const room = (await request(`${first.url}/rooms`, "POST", { type: "group", name: "g", members }, h)).body.room_id;
  // The process stops expanding (as if it died right after the commit).
  first.fanout.stop();
  const m = (await request(`${first.url}/rooms/${room}/messages`, "POST", { content: "survives" }, h)).body;
  expect(await storedRows(first, "fanout_jobs")).toHaveLength(1);
  expect(await storedRows(first, "deliveries")).toHaveLength(0);
  await first.stop();

  const second = await startServer(config());
  try {
    await waitFor(() => rx.received.filter((r) => r.body?.message?.message_id === m.message_id).length === 40, 10_000, "40 webhooks after the restart");
    expect(new Set(rx.received.map((r) => r.body.recipient_id))).toEqual(new Set(members));
    expect(await storedRows(second, "fanout_jobs")).toHaveLength(0);
  } finally {
    await second.stop();
  }
}, 20_000);

test("cluster mode: a leased job is left to its node while it runs, and resumed by another node once it stops", async () => {
  if (!(await postgresAvailable())) return;
  const db = await createTestDatabase();
  const redis = await sharedRedis();
  let n = 0;
  const pgConfig = () =>
    loadConfig({
      LISTEN_ADDR: "127.0.0.1:0",
      DATA_DIR: mkdtempSync(join(tmpdir(), "chatapi-fanout-pg-")),
      DATABASE_DSN: db.url,
      REDIS_URL: redis,
      NODE_ID: `resume-${++n}`,
      MASTER_API_KEY: TEST_MASTER_KEY,
      LOG_LEVEL: "silent",
      DEFAULT_RATE_LIMIT: "100000",
    });
  const first = await startServer(pgConfig());
  let second: Awaited<ReturnType<typeof startServer>> | null = null;
  try {
    const master = { "x-master-key": TEST_MASTER_KEY };
    const t = (await request(`${first.url}/admin/tenants`, "POST", { name: "resume-pg", config: { webhook_url: rx.url } }, master)).body;
    const h = { "x-api-key": t.api_key, "x-user-id": "owner" };
    const members = Array.from({ length: 25 }, (_, i) => `pg${i}`);
    const room = (await request(`${first.url}/rooms`, "POST", { type: "group", name: "g", members }, h)).body.room_id;
    first.fanout.stop();
    const m = (await request(`${first.url}/rooms/${room}/messages`, "POST", { content: "leased" }, h)).body;
    expect(await storedRows(first, "fanout_jobs")).toHaveLength(1);
    // Another node starting meanwhile: the job is leased by the first node, not claimed twice.
    second = await startServer(pgConfig());
    expect(await storedRows(second, "fanout_jobs")).toHaveLength(1);
    expect(await storedRows(second, "deliveries")).toHaveLength(0);
    await second.stop();
    second = null;
    // The first node stops: it gives its lease up, and the next node resumes the job at once.
    await first.stop();
    second = await startServer(pgConfig());
    await waitFor(() => rx.received.filter((r) => r.body?.message?.message_id === m.message_id).length === 25, 10_000, "25 webhooks after the restart");
    expect(await storedRows(second, "fanout_jobs")).toHaveLength(0);
    expect(await storedRows(second, "deliveries")).toHaveLength(25);
  } finally {
    await second?.stop();
    await first.stop();
    await db.drop();
  }
}, 30_000);

test("WS_MAX_CONNECTIONS defaults to 90 % of the open-file soft limit", () => {
  expect(defaultMaxConnections(1024)).toBe(921);
  expect(defaultMaxConnections(20_000)).toBe(18_000);
  expect(defaultMaxConnections(null)).toBe(1_000_000);
});
