// /subscriptions (docs/reference/rest.md): idempotent per tenant + user + topic, own subscriptions only.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers";
import { tenantWithRoom, type TenantRoom } from "./fixtures";

let s: TestServer;
let t: TenantRoom;
const RFC3339_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

beforeAll(async () => {
  s = await startTestServer();
  t = await tenantWithRoom(s, ["ann", "ben"]);
});
afterAll(() => s.stop());

test("subscribing is idempotent: 201 then 200 with the same subscription", async () => {
  const a = await t.as("ann").post("/subscriptions", { topic: "builds" });
  expect(a.status).toBe(201);
  expect(Object.keys(a.body).sort()).toEqual(["created_at", "id", "topic"]);
  expect(a.body.topic).toBe("builds");
  expect(a.body.created_at).toMatch(RFC3339_MS);
  const b = await t.as("ann").post("/subscriptions", { topic: "builds" });
  expect(b.status).toBe(200);
  expect(b.body).toEqual(a.body);
  // Another user, same topic: their own subscription.
  const c = await t.as("ben").post("/subscriptions", { topic: "builds" });
  expect(c.status).toBe(201);
  expect(c.body.id).not.toBe(a.body.id);
});

test("listing shows the caller's own subscriptions only", async () => {
  await t.as("ann").post("/subscriptions", { topic: "alerts" });
  const list = await t.as("ann").get("/subscriptions");
  expect(list.status).toBe(200);
  expect(list.body.subscriptions.map((x: any) => x.topic).sort()).toEqual(["alerts", "builds"]);
  const other = await tenantWithRoom(s, ["ann", "x"]);
  expect((await other.as("ann").get("/subscriptions")).body).toEqual({ subscriptions: [] });
});

test("deleting: own 204; another user's or tenant's 404; re-subscribing creates a new one", async () => {
  const mine = (await t.as("ann").post("/subscriptions", { topic: "to-delete" })).body;
  const foreign = await t.as("ben").del(`/subscriptions/${mine.id}`);
  expect(foreign.status).toBe(404);
  expect(foreign.body.error).toBe("not_found");
  const other = await tenantWithRoom(s, ["ann", "y"]);
  expect((await other.as("ann").del(`/subscriptions/${mine.id}`)).status).toBe(404);
  expect((await t.as("ann").del(`/subscriptions/${mine.id}`)).status).toBe(204);
  expect((await t.as("ann").del(`/subscriptions/${mine.id}`)).status).toBe(404);
  expect((await t.as("ann").get("/subscriptions")).body.subscriptions.some((x: any) => x.id === mine.id)).toBe(false);
  const again = await t.as("ann").post("/subscriptions", { topic: "to-delete" });
  expect(again.status).toBe(201);
  expect(again.body.id).not.toBe(mine.id);
});

test("topic is required, 1..128 characters; X-User-Id is required", async () => {
  for (const body of [{}, { topic: "" }, { topic: "x".repeat(129) }, { topic: 3 }]) {
    const r = await t.as("ann").post("/subscriptions", body);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("invalid_request");
  }
  expect((await t.as("ann").post("/subscriptions", { topic: "x".repeat(128) })).status).toBe(201);
  expect((await s.client(t.apiKey).get("/subscriptions")).status).toBe(400);
});
