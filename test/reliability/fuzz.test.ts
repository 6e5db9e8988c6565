// Hostile-input fuzzing, short variant: a few hundred inputs per REST route and per WS frame type.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers";
import { createFixtures, loadRoutes, type Fixtures, type FuzzRoute } from "./lib/fuzz-fixtures";
import { fuzzRest } from "./lib/fuzz-rest";
import { fuzzWs, invalidUtf8Frames, oversizedFrames } from "./lib/fuzz-ws";
import { Prng, seedFromEnv } from "./lib/prng";

const PER_ROUTE = Number(process.env.FUZZ_PER_ROUTE ?? 300);
const PER_FRAME = Number(process.env.FUZZ_PER_FRAME ?? 300);
let s: TestServer;
let routes: FuzzRoute[];
let fx: Fixtures;
const seed = seedFromEnv();

beforeAll(async () => {
  console.log(`fuzz seed=${seed} (RELIABILITY_SEED=${seed} reproduces the inputs)`);
  s = await startTestServer({ MAX_BODY_BYTES: "65536", CONSOLE_ENABLED: "false" });
  routes = await loadRoutes(s.url);
  fx = await createFixtures(s);
});
afterAll(() => s?.stop());

test("REST fuzz: every route answers hostile input with a documented status, never 5xx, never a hang; data changes only by 2xx", async () => {
  const r = await fuzzRest(s, routes, fx, new Prng(seed), { perRoute: PER_ROUTE, concurrency: 8 });
  const total = [...r.tried.values()].reduce((a, b) => a + b, 0);
  console.log(`fuzz REST: ${routes.length} routes, ${total} inputs, statuses ${JSON.stringify(Object.fromEntries(r.statuses))}`);
  if (r.refusedByBalancer > 0) console.warn(`skipped on cluster: ${r.refusedByBalancer} inputs nginx refused itself (400 before any node: bad %-escape, %00, ../ above the root); the runs without nginx check ChatAPI's answer`);
  for (const f of r.serverErrors) console.log(`5xx ${f.route} [${f.label}] -> ${f.status} ${f.answer}\n  input: ${f.input}`);
  for (const f of r.violations.slice(0, 30)) console.log(`violation ${f.route} [${f.label}] -> ${f.status} ${f.answer}\n  input: ${f.input}`);
  for (const c of r.unexplainedChanges) console.log(`unexplained change: ${c}`);
  expect(routes.length).toBeGreaterThanOrEqual(25);
  for (const route of routes) expect(r.tried.get(route.key) ?? 0).toBeGreaterThan(PER_ROUTE * 0.8);
  expect(r.serverErrors.length).toBe(0);
  expect(r.violations.length).toBe(0);
  expect(r.unexplainedChanges).toEqual([]);
  expect((await fetch(`${s.url}/health`)).status).toBe(200);
}, 120_000);

test("WS fuzz: every frame type answers hostile frames with a documented error or a reply; the socket stays open; data changes only by replies", async () => {
  const r = await fuzzWs(s, fx, new Prng(seed ^ 0x5bd1e995), { perType: PER_FRAME, window: 8 });
  const total = [...r.tried.values()].reduce((a, b) => a + b, 0);
  console.log(`fuzz WS: ${r.tried.size} frame types, ${total} frames, answers ${JSON.stringify(Object.fromEntries(r.codes))}`);
  for (const e of r.serverErrors.slice(0, 20)) console.log(`5xx-equivalent: ${e}`);
  for (const v of r.violations.slice(0, 20)) console.log(`violation: ${v}`);
  for (const c of r.unexplainedChanges) console.log(`unexplained change: ${c}`);
  expect(r.tried.size).toBeGreaterThanOrEqual(10);
  expect(r.serverErrors).toEqual([]);
  expect(r.violations).toEqual([]);
  expect(r.unexplainedChanges).toEqual([]);
}, 120_000);

test("WS fuzz: frames over 64 KiB close with 1009, invalid UTF-8 text frames close the socket; the server stays up", async () => {
  expect(await oversizedFrames(s, fx, 3)).toEqual([1009, 1009, 1009]);
  const utf8 = await invalidUtf8Frames(s, fx, new Prng(seed), 4);
  console.log(`invalid UTF-8 frames: ${utf8.join(", ")}`);
  for (const o of utf8) expect(o === "close:1007" || o.startsWith("error:invalid_request")).toBe(true);
  expect((await fetch(`${s.url}/health`)).status).toBe(200);
}, 60_000);
