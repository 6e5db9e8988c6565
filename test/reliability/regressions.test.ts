// Named regression tests for the bugs the reliability suite found (see src/http/json-safety.ts).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers";
import { deepJson } from "./lib/hostile";

let s: TestServer;
let key: string;
let room: string;
beforeAll(async () => {
  s = await startTestServer({ CONSOLE_ENABLED: "false" });
  key = (await s.createTenant("regress")).api_key;
  room = (await s.client(key, "alice").post("/rooms", { type: "group", members: ["bob"] })).body.room_id;
});
afterAll(() => s?.stop());

test("regression: a field given an object with its own toString/valueOf key answers 400, not 500 (Elysia printed it with `${value}`)", async () => {
  const alice = s.client(key, "alice");
  const cases: [string, string][] = [
    ["/subscriptions", '{"topic":{"toString":""}}'],
    ["/subscriptions", '{"topic":{"valueOf":1,"toString":2}}'],
    [`/rooms/${room}/messages`, '{"content":{"toString":"x"}}'],
    ["/acks", `{"room_id":[{"toString":"x"}],"seq":1}`],
    ["/rooms", '{"type":{"toString":"group"}}'],
  ];
  for (const [path, body] of cases) {
    const r = await alice.post(path, body, { "content-type": "application/json" });
    expect(`${path} ${body} -> ${r.status} ${r.body?.error}`).toBe(`${path} ${body} -> 400 invalid_request`);
  }
  const n = await s.client(key).post("/notify", '{"topic":{"toString":1},"payload":null,"targets":{"user_ids":["alice"]}}', { "content-type": "application/json" });
  expect(n.status).toBe(400);
  expect(s.logs.filter((l) => l.includes('"unhandled error"'))).toEqual([]);
});

test("regression: meta and metadata holding own toString/valueOf keys are stored and returned exactly as given", async () => {
  const meta = { toString: "not a function", valueOf: { nested: [1, { toString: 2 }] } };
  const sent = await s.client(key, "alice").post(`/rooms/${room}/messages`, { content: "with meta", meta });
  expect(sent.status).toBe(201);
  expect(sent.body.meta).toEqual(meta);
  const got = await s.client(key, "bob").get(`/rooms/${room}/messages/${sent.body.message_id}`);
  expect(got.body.meta).toEqual(meta);
  expect(Object.keys(got.body.meta)).toEqual(["toString", "valueOf"]);
});

test("regression: bodies nested thousands deep answer 400 at once (they answered 500, or held the event loop for seconds)", async () => {
  const alice = s.client(key, "alice");
  for (const [path, body] of [
    ["/acks", `{"room_id":${deepJson(20_000)},"seq":1}`],
    ["/acks", `{"room_id":"${room}","seq":${deepJson(5000, "object")}}`],
    ["/subscriptions", `{"topic":${deepJson(5000)}}`],
    [`/rooms/${room}/messages`, `{"content":"x","meta":${deepJson(20_000)}}`],
  ] as const) {
    const t0 = performance.now();
    const r = await alice.post(path, body, { "content-type": "application/json" });
    const ms = performance.now() - t0;
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("invalid_request");
    expect(ms).toBeLessThan(500);
  }
  const n = await s.client(key).post("/notify", `{"topic":"t","payload":${deepJson(20_000)},"targets":{"user_ids":["alice"]}}`, { "content-type": "application/json" });
  expect(n.status).toBe(400);
});

test("regression: nesting up to 128 levels stays accepted (meta is any JSON value)", async () => {
  const meta = JSON.parse(deepJson(127));
  const r = await s.client(key, "alice").post(`/rooms/${room}/messages`, { content: "deep but fine", meta });
  expect(r.status).toBe(201);
  expect(r.body.meta).toEqual(meta);
  const tooDeep = await s.client(key, "alice").post(`/rooms/${room}/messages`, { content: "too deep", meta: JSON.parse(deepJson(128)) });
  expect(tooDeep.status).toBe(400);
});
