// The generated master key (DATA_DIR/master.key, 0600, path logged, key never logged) and structured logs.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { DestinationStream } from "pino";
import { loadConfig } from "../../src/config";
import { startServer } from "../../src/main";
import { startTestServer, TEST_MASTER_KEY, waitFor } from "../helpers";
import { tempDir } from "./cli";

const root = tempDir();
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function start(dataDir: string, env: Record<string, string> = {}) {
  const logs: string[] = [];
  const config = loadConfig({ LISTEN_ADDR: "127.0.0.1:0", DATA_DIR: dataDir, LOG_LEVEL: "info", ...env });
  const api = await startServer(config, { logDestination: { write: (s: string) => void logs.push(s) } as DestinationStream });
  return { api, logs };
}

describe("master key", () => {
  test("unset MASTER_API_KEY: a key is generated into DATA_DIR/master.key with mode 0600, its path logged, the key never logged", async () => {
    const dataDir = join(root, "generated");
    const { api, logs } = await start(dataDir);
    const path = join(dataDir, "master.key");
    try {
      expect(existsSync(path)).toBe(true);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const key = readFileSync(path, "utf8").trim();
      expect(key).toBe(api.masterKey);
      // 32 random bytes.
      expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const line = logs.map((l) => JSON.parse(l)).find((l) => l.path === path);
      expect(line).toBeDefined();
      expect(line.level).toBe("info");
      // The generated key opens the admin routes.
      const r = await fetch(`${api.url}/admin/tenants`, { method: "POST", headers: { "x-master-key": key, "content-type": "application/json" }, body: '{"name":"a"}' });
      expect(r.status).toBe(201);
      await fetch(`${api.url}/admin/tenants`, { headers: { "x-master-key": "wrong-key-0123456789abcdef" } });
      expect(logs.join("")).not.toContain(key);
    } finally {
      await api.stop();
    }
    expect(logs.join("")).not.toContain(readFileSync(path, "utf8").trim());
  });

  test("a restart reuses the generated key and does not regenerate it", async () => {
    const dataDir = join(root, "reuse");
    const first = await start(dataDir);
    const key = first.api.masterKey;
    await first.api.stop();
    const second = await start(dataDir);
    try {
      expect(second.api.masterKey).toBe(key);
      expect(second.logs.some((l) => l.includes("generated master key"))).toBe(false);
      expect(statSync(join(dataDir, "master.key")).mode & 0o777).toBe(0o600);
    } finally {
      await second.api.stop();
    }
  });

  test("with MASTER_API_KEY set no master.key file is written", async () => {
    const dataDir = join(root, "explicit");
    const { api } = await start(dataDir, { MASTER_API_KEY: TEST_MASTER_KEY });
    try {
      expect(api.masterKey).toBe(TEST_MASTER_KEY);
      expect(existsSync(join(dataDir, "master.key"))).toBe(false);
    } finally {
      await api.stop();
    }
  });
});

describe("logs", () => {
  test("every log line is one JSON object with level, time, service and msg", async () => {
    const s = await startTestServer({ LOG_LEVEL: "trace" });
    try {
      await s.createTenant("json-logs");
      await fetch(`${s.url}/nope`);
      await fetch(`${s.url}/health`);
    } finally {
      await s.stop();
    }
    const entries = s.logs.join("").split("\n").filter((l) => l.trim() !== "");
    expect(entries.length).toBeGreaterThan(3);
    for (const l of entries) {
      const o = JSON.parse(l);
      expect(typeof o.level).toBe("string");
      expect(o.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(o.service).toBe("chatapi");
      expect(typeof o.msg).toBe("string");
    }
  });

  test("a 4xx request is logged with request_id, method, path, status and duration", async () => {
    const s = await startTestServer();
    try {
      const res = await fetch(`${s.url}/admin/tenants`);
      expect(res.status).toBe(401);
      const id = res.headers.get("x-request-id");
      const line = await waitFor(() => s.logs.map((l) => JSON.parse(l)).find((l) => l.request_id === id && l.msg === "request"), 2000, "access log line");
      expect(line).toMatchObject({ request_id: id, method: "GET", path: "/admin/tenants", status: 401, level: "info" });
      expect(typeof line.duration_ms).toBe("number");
    } finally {
      await s.stop();
    }
  });

  test("a tenant request's 4xx log line carries tenant_id", async () => {
    const s = await startTestServer();
    try {
      const t = await s.createTenant("log-tenant");
      const r = await s.client(t.api_key).get("/rooms"); // no X-User-Id: 400 after authentication
      expect(r.status).toBe(400);
      const id = r.headers.get("x-request-id");
      const line = await waitFor(() => s.logs.map((l) => JSON.parse(l)).find((l) => l.request_id === id && l.msg === "request"), 2000, "access log line");
      expect(line).toMatchObject({ request_id: id, status: 400, tenant_id: t.tenant_id });
    } finally {
      await s.stop();
    }
  });

  test("logs never contain an API key, the master key or a webhook secret, even at trace level", async () => {
    const s = await startTestServer({ LOG_LEVEL: "trace" });
    const secret = "whsec-never-logged-0123456789";
    const keys: string[] = [];
    try {
      const t = await s.createTenant("no-secrets", { webhook_url: "https://h.example.com/", webhook_secret: secret });
      keys.push(t.api_key);
      const c = s.client(t.api_key, "u");
      await c.get("/rooms");
      await c.get("/no/such/route");
      await s.client(t.api_key).get("/rooms");
      const rot = await s.raw({ "x-master-key": TEST_MASTER_KEY }).post(`/admin/tenants/${t.tenant_id}/rotate-key`);
      keys.push(rot.body.api_key);
      await c.get("/rooms"); // old key: 401
      await s.client(rot.body.api_key, "u").get("/rooms");
      await s.raw({ "x-master-key": "guessed-master-key-0123456789" }).get("/admin/tenants");
      await s.raw({ "x-master-key": TEST_MASTER_KEY }).patch(`/admin/tenants/${t.tenant_id}`, { config: { webhook_secret: secret + "2" } });
    } finally {
      await s.stop();
    }
    const all = s.logs.join("");
    expect(all.length).toBeGreaterThan(0);
    for (const k of keys) expect(all).not.toContain(k);
    expect(all).not.toContain(TEST_MASTER_KEY);
    expect(all).not.toContain("guessed-master-key-0123456789");
    expect(all).not.toContain(secret);
  });
});
