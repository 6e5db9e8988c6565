// Isolation property test, short variant: random valid operations of two tenants over REST and WS.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers";
import { runIsolation } from "./lib/isolation";
import { IsolationModel } from "./lib/isolation-model";
import { Prng, seedFromEnv } from "./lib/prng";

const OPS = Number(process.env.ISOLATION_OPS ?? 400);
let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ WORKER_INTERVAL: "100ms", RETRY_INTERVAL: "50ms", PRESENCE_GRACE: "50ms", CONSOLE_ENABLED: "false" });
});
afterAll(() => s?.stop());

test("isolation: no tenant ever sees another tenant's ids; another tenant's ids are 404; room content reaches members only", async () => {
  const seed = seedFromEnv();
  console.log(`isolation seed=${seed} (RELIABILITY_SEED=${seed} reproduces the operation sequence)`);
  const f = await runIsolation(s, new Prng(seed), OPS);
  console.log(`isolation: ${f.ops} ops, ${f.observations} responses, ${f.frames} frames, ${f.webhooks} webhooks, ${f.crossProbes} cross-tenant probes, ${f.violations.length} violations`);
  for (const v of f.violations.slice(0, 30)) console.log(`violation: ${v}`);
  expect(f.violations).toEqual([]);
  expect(f.frames).toBeGreaterThan(50);
  expect(f.webhooks).toBeGreaterThan(5);
  expect(f.crossProbes).toBeGreaterThan(5);
}, 120_000);

test("isolation checker self-test: it flags a foreign id in a response and room content reaching a non-member", () => {
  const m = new IsolationModel();
  const [ta, tb, ra, rb, msg] = ["a", "b", "c", "d", "e"].map((c) => `0000000${c}-0000-7000-8000-00000000000${c}`);
  m.addTenant("A", ta!);
  m.addTenant("B", tb!);
  m.beginOp();
  m.roomCreated("A", ra!, "group", ["a-user-0", "a-user-1"]);
  m.roomCreated("B", rb!, "group", ["b-user-0", "b-user-1"]);
  m.messageSent("A", ra!, msg!, "a-user-0");
  expect(m.check()).toEqual([]);
  m.observe({ tenant: "A", where: "GET /rooms", text: `{"rooms":[{"room_id":"${rb}"}]}`, allowed: [] });
  m.frame("A", "a-user-2", JSON.stringify({ type: "message", room_id: ra, message_id: msg, seq: 1 }));
  m.frame("B", "shared", JSON.stringify({ type: "typing", room_id: ra, user_id: "a-user-0" }));
  m.observeMetrics(`chatapi_x{room="${ra}"} 1`);
  expect(m.check().length).toBe(5);
});
