// GET /health (a real write), GET /metrics (both formats), GET /docs and /docs/json (OpenAPI 3).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import pkg from "../../package.json";
import { metricValue, startTestServer, type TestServer } from "../helpers";
import { setReadOnly } from "../support/faults";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.stop());

const get = async (path: string) => {
  const res = await fetch(s.url + path);
  return { status: res.status, headers: res.headers, text: await res.text() };
};

describe("GET /health", () => {
  test("answers 200 with status ok, service, version, uptime_seconds, db_writable true and the store", async () => {
    const r = await get("/health");
    expect(r.status).toBe(200);
    const body = JSON.parse(r.text);
    expect(body).toEqual({ status: "ok", service: "chatapi", version: pkg.version, uptime_seconds: expect.any(Number), db_writable: true, store: { kind: s.api.store.kind, writable: true }, bus: { kind: s.api.broker.kind, connected: true } });
    expect(Number.isInteger(body.uptime_seconds)).toBe(true);
    expect(body.uptime_seconds).toBeGreaterThanOrEqual(0);
  });

  test("performs a real write: the probe row's timestamp advances", async () => {
    await get("/health");
    const first = (await s.api.store.health.lastProbeAt())!;
    // Wait on the clock, not a sleep: the next ISO millisecond.
    const t0 = Date.now();
    while (Date.now() === t0) await Promise.resolve();
    await get("/health");
    const second = (await s.api.store.health.lastProbeAt())!;
    expect(second > first).toBe(true);
  });

  test("is 503 with status error and db_writable false on a read-only database, 200 again after", async () => {
    // Its own server: the read-only switch must not leak into other tests.
    const own = await startTestServer();
    const get = async (path: string) => {
      const res = await fetch(own.url + path);
      return { status: res.status, headers: res.headers, text: await res.text() };
    };
    setReadOnly(own.api, true);
    try {
      const r = await get("/health");
      expect(r.status).toBe(503);
      const body = JSON.parse(r.text);
      expect(body.status).toBe("error");
      expect(body.db_writable).toBe(false);
      expect(body.service).toBe("chatapi");
      expect(r.headers.get("x-request-id")).toMatch(/^req_/);
      setReadOnly(own.api, false);
      const again = await get("/health");
      expect(again.status).toBe(200);
      expect(JSON.parse(again.text)).toMatchObject({ status: "ok", db_writable: true });
    } finally {
      await own.stop();
    }
  });

  test("is never cached", async () => {
    expect((await get("/health")).headers.get("cache-control")).toBe("no-store");
  });
});

describe("GET /metrics", () => {
  test("Prometheus text exposes every docs/reference/rest.md metric name", async () => {
    const r = await get("/metrics");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toStartWith("text/plain");
    for (const name of [
      "chatapi_active_connections",
      "chatapi_messages_sent_total",
      "chatapi_dropped_broadcasts_total",
      "chatapi_delivery_attempts_total",
      "chatapi_delivery_failures_total",
      "chatapi_uptime_seconds",
    ]) {
      expect(r.text).toContain(`# TYPE ${name} `);
      expect(metricValue(r.text, name)).toBeGreaterThanOrEqual(0);
    }
  });

  test("?format=json has exactly the six docs/reference/rest.md keys, all numbers", async () => {
    const r = await get("/metrics?format=json");
    expect(r.status).toBe(200);
    const body = JSON.parse(r.text);
    expect(Object.keys(body).sort()).toEqual(["active_connections", "delivery_attempts", "delivery_failures", "dropped_broadcasts", "messages_sent", "uptime_seconds"]);
    for (const v of Object.values(body)) {
      expect(typeof v).toBe("number");
      expect(Number.isFinite(v as number)).toBe(true);
    }
  });

  test("both formats report the same counter values", async () => {
    // Metrics are per node (a scraper asks each node): the in-process node, whose counter moves here.
    const get = async (path: string) => (await fetch(s.node.url + path)).text();
    const before = JSON.parse(await get("/metrics?format=json"));
    s.api.metrics.deliveryFailures.inc(3);
    const json = JSON.parse(await get("/metrics?format=json"));
    expect(json.delivery_failures).toBe(before.delivery_failures + 3);
    expect(metricValue(await get("/metrics"), "chatapi_delivery_failures_total")).toBe(json.delivery_failures);
  });

  test("metric labels never carry tenant ids", async () => {
    const t = await s.createTenant("metrics-private");
    await s.client(t.api_key, "u").get("/health");
    const text = (await get("/metrics")).text;
    expect(text).not.toContain(t.tenant_id);
  });
});

describe("GET /docs", () => {
  test("/docs serves the Swagger UI as HTML", async () => {
    const r = await get("/docs");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toStartWith("text/html");
    expect(r.text.toLowerCase()).toContain("<html");
    expect(r.text).toContain("swagger-ui");
    // The UI loads the document from /docs/json (relative to /docs).
    expect(r.text).toMatch(/["']\/?docs\/json["']/);
  });

  test("/docs/json is an OpenAPI 3 document listing every foundation route with its responses", async () => {
    const r = await get("/docs/json");
    expect(r.status).toBe(200);
    const doc = JSON.parse(r.text);
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.version).toBe(pkg.version);
    const expected: [string, string][] = [
      ["get", "/health"],
      ["get", "/metrics"],
      ["post", "/admin/tenants"],
      ["get", "/admin/tenants"],
      ["get", "/admin/tenants/{tenant_id}"],
      ["patch", "/admin/tenants/{tenant_id}"],
      ["post", "/admin/tenants/{tenant_id}/rotate-key"],
    ];
    for (const [method, path] of expected) {
      const op = doc.paths?.[path]?.[method];
      expect(op, `${method.toUpperCase()} ${path} missing from /docs/json`).toBeDefined();
      expect(Object.keys(op.responses ?? {}).length).toBeGreaterThan(0);
    }
    // The success statuses of docs/reference/rest.md.
    expect(doc.paths["/admin/tenants"].post.responses["201"]).toBeDefined();
    expect(doc.paths["/admin/tenants/{tenant_id}"].get.responses["404"]).toBeDefined();
    expect(doc.paths["/admin/tenants/{tenant_id}"].get.parameters.some((p: any) => p.in === "path" && p.name === "tenant_id")).toBe(true);
    // The docs do not document themselves.
    expect(doc.paths["/docs"]).toBeUndefined();
    expect(doc.paths["/docs/json"]).toBeUndefined();
  });

  test("every operation in /docs/json has responses, and every documented path is served", async () => {
    const doc = JSON.parse((await get("/docs/json")).text);
    const methods = ["get", "post", "put", "patch", "delete"];
    let count = 0;
    for (const [path, item] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const m of methods) {
        const op = item[m];
        if (!op) continue;
        count++;
        expect(Object.keys(op.responses ?? {}).length, `${m} ${path} has no responses`).toBeGreaterThan(0);
        // A documented route must exist: it may refuse us (401/400...), but never "no route". /ws is an upgrade.
        if (path === "/ws") continue;
        const url = s.url + path.replace(/\{[^}]+\}/g, "x");
        const res = await fetch(url, { method: m.toUpperCase(), headers: m === "get" || m === "delete" ? {} : { "content-type": "application/json" }, body: m === "get" || m === "delete" ? undefined : "{}" });
        const body = await res.text();
        expect(body, `${m.toUpperCase()} ${path} is documented but not routed`).not.toContain('"no route');
      }
    }
    expect(count).toBeGreaterThanOrEqual(7);
  });
});
