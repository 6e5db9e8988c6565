// Security regressions, each a named test: keys never from the query string, master routes refuse
// tenant keys, single-use tokens, CORS and WS Origin rules, constant-time comparisons, and no secret
// or message content in the logs (LOG_LEVEL=trace).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { constantTimeEqual } from "../../src/tenancy/keys";
import { startTestServer, TEST_MASTER_KEY, waitFor, type TestServer } from "../helpers";
import { REPO_ROOT } from "./lib/binary";
import { WebhookSink } from "./lib/webhook-sink";
import { SocketFrames } from "./lib/ws-raw";

const ALLOWED = "https://app.example.com";
let s: TestServer;
let key: string;
beforeAll(async () => {
  s = await startTestServer({ ALLOWED_ORIGINS: ALLOWED, CONSOLE_ENABLED: "false" });
  key = (await s.createTenant("sec")).api_key;
});
afterAll(() => s?.stop());

function upgradeHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64"), ...extra };
}

describe("API keys", () => {
  for (const param of ["api_key", "key", "x-api-key", "apiKey", "X-API-Key"]) {
    test(`security: the tenant key is never accepted from the query string (?${param}=)`, async () => {
      const r = await s.raw({ "x-user-id": "u" }).get(`/rooms?${param}=${encodeURIComponent(key)}`);
      expect(r.status).toBe(401);
      expect(r.body.error).toBe("unauthorized");
      const ws = await fetch(`${s.url}/ws?${param}=${encodeURIComponent(key)}`, { headers: upgradeHeaders({ "X-User-Id": "u" }) });
      expect(ws.status).toBe(401);
    });
  }

  test("security: master-key routes refuse tenant keys (as X-API-Key and as X-Master-Key)", async () => {
    const victim = await s.createTenant("victim");
    const routes: [string, string][] = [["GET", "/admin/tenants"], ["POST", "/admin/tenants"], ["GET", `/admin/tenants/${victim.tenant_id}`], ["PATCH", `/admin/tenants/${victim.tenant_id}`], ["POST", `/admin/tenants/${victim.tenant_id}/rotate-key`]];
    for (const [method, path] of routes) {
      for (const headers of [{ "x-api-key": key }, { "x-master-key": key }, { "x-api-key": TEST_MASTER_KEY }] as Record<string, string>[]) {
        const res = await fetch(s.url + path, { method, headers: { ...headers, "content-type": "application/json" }, body: method === "GET" ? undefined : JSON.stringify({ name: "x" }) });
        expect(`${method} ${path} ${Object.keys(headers)[0]}: ${res.status}`).toBe(`${method} ${path} ${Object.keys(headers)[0]}: 401`);
      }
    }
    // Nothing changed: the victim still authenticates with its key.
    expect((await s.client(victim.api_key, "u").get("/rooms")).status).toBe(200);
  });

  test("security: the master key is not a tenant key", async () => {
    expect((await s.raw({ "x-api-key": TEST_MASTER_KEY, "x-user-id": "u" }).get("/rooms")).status).toBe(401);
  });
});

describe("WS tokens", () => {
  test("security: a WS token is single-use (replay refused) and bound to its tenant and user; headers are ignored", async () => {
    const other = await s.createTenant("other");
    const minted = await s.client(key, "alice").post("/ws/token");
    expect(minted.status).toBe(200);
    const token = minted.body.token as string;
    const first = await SocketFrames.open(`${s.wsUrl}?token=${encodeURIComponent(token)}`, { "x-api-key": other.api_key, "x-user-id": "mallory" });
    expect(first.frames[0]).toMatchObject({ type: "connected", user_id: "alice" });
    first.close();
    const replay = await fetch(`${s.url}/ws?token=${encodeURIComponent(token)}`, { headers: upgradeHeaders() });
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as any).error).toBe("unauthorized");
    const forged = await fetch(`${s.url}/ws?token=${encodeURIComponent(`${token.slice(0, -2)}AA`)}`, { headers: upgradeHeaders() });
    expect(forged.status).toBe(401);
  });
});

describe("CORS and WS Origin", () => {
  test("security: CORS: an allowed Origin gets Access-Control-Allow-Origin, a disallowed one does not", async () => {
    const ok = await fetch(`${s.url}/health`, { headers: { Origin: ALLOWED } });
    expect(ok.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(ok.headers.get("vary") ?? "").toContain("Origin");
    const bad = await fetch(`${s.url}/health`, { headers: { Origin: "https://evil.example.com" } });
    expect(bad.headers.get("access-control-allow-origin")).toBeNull();
    const sneaky = await fetch(`${s.url}/health`, { headers: { Origin: `${ALLOWED}.evil.com` } });
    expect(sneaky.headers.get("access-control-allow-origin")).toBeNull();
  });

  test("security: CORS preflight: allowed Origin gets methods and headers (X-API-Key, X-User-Id), a disallowed one gets none", async () => {
    const pre = await fetch(`${s.url}/rooms`, { method: "OPTIONS", headers: { Origin: ALLOWED, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-api-key, x-user-id, content-type" } });
    expect(pre.status).toBeLessThan(300);
    expect(pre.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(pre.headers.get("access-control-allow-methods") ?? "").toContain("POST");
    const allowHeaders = (pre.headers.get("access-control-allow-headers") ?? "").toLowerCase();
    for (const h of ["x-api-key", "x-user-id", "content-type"]) expect(allowHeaders).toContain(h);
    const bad = await fetch(`${s.url}/rooms`, { method: "OPTIONS", headers: { Origin: "https://evil.example.com", "Access-Control-Request-Method": "POST" } });
    expect(bad.headers.get("access-control-allow-origin")).toBeNull();
    expect(bad.headers.get("access-control-allow-methods")).toBeNull();
  });

  test("security: WS Origin: allowed Origin upgrades, a disallowed one gets 403 before upgrade, no Origin (server client) is allowed", async () => {
    const headers = { "x-api-key": key, "x-user-id": "o" };
    const allowed = await SocketFrames.open(s.wsUrl, { ...headers, Origin: ALLOWED });
    allowed.close();
    const refused = await fetch(`${s.url}/ws`, { headers: upgradeHeaders({ ...headers, Origin: "https://evil.example.com" }) });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as any).error).toBe("forbidden");
    const none = await SocketFrames.open(s.wsUrl, headers);
    none.close();
  });

  test("security: with ALLOWED_ORIGINS unset, every request with an Origin is refused on /ws and gets no CORS headers", async () => {
    const bare = await startTestServer({ CONSOLE_ENABLED: "false" });
    try {
      const k = (await bare.createTenant("bare")).api_key;
      const r = await fetch(`${bare.url}/ws`, { headers: upgradeHeaders({ "x-api-key": k, "x-user-id": "u", Origin: ALLOWED }) });
      expect(r.status).toBe(403);
      expect((await fetch(`${bare.url}/health`, { headers: { Origin: ALLOWED } })).headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await bare.stop();
    }
  });
});

describe("constant-time comparisons", () => {
  test("security: constantTimeEqual compares correctly and uses timingSafeEqual", () => {
    expect(constantTimeEqual("secret-value", "secret-value")).toBe(true);
    expect(constantTimeEqual("secret-value", "secret-valuf")).toBe(false);
    expect(constantTimeEqual("secret-value", "secret")).toBe(false);
    expect(constantTimeEqual("", "x")).toBe(false);
    expect(constantTimeEqual("é", "e\u0301")).toBe(false);
    const src = readFileSync(join(REPO_ROOT, "src/tenancy/keys.ts"), "utf8");
    expect(src).toMatch(/timingSafeEqual\(ab, bb\)/);
  });

  test("security: auth compares the master key and the tenant key hash with constantTimeEqual, never ===", () => {
    const auth = readFileSync(join(REPO_ROOT, "src/http/auth.ts"), "utf8");
    expect(auth).toMatch(/constantTimeEqual\(key, this\.masterKey\)/);
    expect(auth).not.toMatch(/(===|!==)\s*this\.masterKey|this\.masterKey\s*(===|!==)/);
    const tenants = readFileSync(join(REPO_ROOT, "src/tenancy/tenants.ts"), "utf8");
    expect(tenants).toMatch(/constantTimeEqual\(row\.api_key_hash, hash\)/);
    expect(tenants).not.toMatch(/api_key_hash\s*(===|!==)|(===|!==)\s*row\.api_key_hash/);
  });
});

describe("logs", () => {
  test("security: no API key, master key, webhook secret, WS token or message content in the logs (LOG_LEVEL=trace)", async () => {
    const marker = `MARKER-${crypto.randomUUID()}`;
    const secret = `whsec-${crypto.randomUUID()}`;
    const sink = new WebhookSink();
    const t = await startTestServer({ LOG_LEVEL: "trace", CONSOLE_ENABLED: "false", WORKER_INTERVAL: "100ms" });
    try {
      const a = await t.createTenant("logs-a", { webhook_url: sink.url("/a"), webhook_secret: secret });
      const b = await t.createTenant("logs-b");
      const alice = t.client(a.api_key, "alice");
      const room = (await alice.post("/rooms", { type: "group", members: ["bob"], metadata: { m: marker } })).body.room_id;
      expect((await alice.post(`/rooms/${room}/messages`, { content: `hello ${marker}`, meta: { m: marker } })).status).toBe(201);
      const tokens: string[] = [];
      for (let i = 0; i < 2; i++) tokens.push((await alice.post("/ws/token")).body.token);
      const ws = await SocketFrames.open(`${t.wsUrl}?token=${encodeURIComponent(tokens[0]!)}`, {});
      const sent = await ws.request({ type: "send_message", id: "m", data: { room_id: room, content: `ws ${marker}` } });
      await ws.request({ type: "edit_message", id: "e", data: { room_id: room, message_id: sent.data.message_id, content: `edit ${marker}` } });
      await ws.request({ type: "send_message", id: "bad", data: { room_id: room, content: `x${marker}`, extra: marker } });
      ws.close();
      await fetch(`${t.url}/ws?token=${encodeURIComponent(tokens[0]!)}`, { headers: upgradeHeaders() });
      await t.client(a.api_key).post("/notify", { topic: "t", payload: { m: marker }, targets: { user_ids: ["bob"] } });
      await t.raw({ "x-api-key": `${a.api_key}x`, "x-user-id": "u" }).get("/rooms");
      await t.raw({ "x-user-id": "u" }).get(`/rooms?api_key=${a.api_key}`);
      await t.raw({ "x-master-key": `${TEST_MASTER_KEY}x` }).get("/admin/tenants");
      await alice.post(`/rooms/${room}/messages`, `{"content":"${marker}`, { "content-type": "application/json" });
      const rotated = (await t.raw({ "x-master-key": TEST_MASTER_KEY }).post(`/admin/tenants/${b.tenant_id}/rotate-key`)).body.api_key;
      await waitFor(() => sink.all.length >= 2, 5000, "webhooks to bob");
      const logs = t.logs.join("\n");
      expect(logs.length).toBeGreaterThan(1000);
      const secrets: Record<string, string> = { marker, "tenant key A": a.api_key, "tenant key B": b.api_key, "rotated key": rotated, "master key": TEST_MASTER_KEY, "webhook secret": secret, "ws token 1": tokens[0]!, "ws token 2": tokens[1]! };
      for (const [what, value] of Object.entries(secrets)) expect(`${what} in logs: ${logs.includes(value)}`).toBe(`${what} in logs: false`);
    } finally {
      await t.stop();
      sink.stop();
    }
  });
});
