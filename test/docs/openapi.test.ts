// /docs/json of a real server (issue 14): both validators pass with 0 errors, and every operation
// carries what a client generator or "Try it out" needs: summary, tags, a unique operationId, its
// security requirement (checked against what the server really demands), examples, JSON bodies only.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OPERATIONS } from "../../src/http/openapi/operations";
import { startTestServer, type TestServer } from "../helpers";
import { validateOpenApiFile } from "./validate-openapi";

const U = [{ ApiKey: [], UserId: [] }, { BearerJWT: [] }];
const K = [{ ApiKey: [] }];
const M = [{ MasterKey: [] }];
const PUBLIC: never[] = [];

/** The security requirement each path must declare (issue 14). */
function expectedSecurity(method: string, path: string): unknown {
  if (path.startsWith("/admin/tenants")) return M;
  if (path.startsWith("/admin/dead-letters") || (method === "post" && path === "/notify")) return K;
  if (["/health", "/metrics", "/console"].includes(path)) return PUBLIC;
  // A signed user token is refused (403) on /ws/token: key + user only.
  if (method === "post" && path === "/ws/token") return [{ ApiKey: [], UserId: [] }];
  return U;
}

let s: TestServer;
let doc: any;
let raw: string;
const dir = mkdtempSync(join(tmpdir(), "chatapi-openapi-"));
const ops: { method: string; path: string; op: any }[] = [];

beforeAll(async () => {
  s = await startTestServer();
  const r = await fetch(`${s.url}/docs/json`);
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toStartWith("application/json");
  raw = await r.text();
  doc = JSON.parse(raw);
  for (const [path, item] of Object.entries<any>(doc.paths)) for (const [method, op] of Object.entries<any>(item)) ops.push({ method, path, op });
});
afterAll(async () => {
  await s?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("validators", () => {
  test("@redocly/cli lint (recommended rules) and @apidevtools/swagger-parser: 0 errors", async () => {
    const file = join(dir, "openapi.json");
    writeFileSync(file, raw);
    const r = await validateOpenApiFile(file);
    expect(r.redocly.problems.filter((p) => p.severity === "error")).toEqual([]);
    expect(r.redocly.errors).toBe(0);
    expect(r.swaggerParser).toBeNull();
    // Only the honest warnings remain: /health and /console have no 4xx, /ws answers 101.
    expect(r.redocly.problems.map((p) => `${p.ruleId} ${p.location?.[0]?.pointer}`).sort()).toEqual([
      "operation-2xx-response #/paths/~1ws/get/responses",
      "operation-4xx-response #/paths/~1console/get/responses",
      "operation-4xx-response #/paths/~1health/get/responses",
    ]);
  }, 90_000);

  test("the validators are not blind: a document with a 3.1 construct labelled 3.0.3 fails both", async () => {
    const file = join(dir, "broken.json");
    writeFileSync(file, JSON.stringify({ ...doc, openapi: "3.0.3", jsonSchemaDialect: undefined, info: { ...doc.info, license: { name: "MIT" }, summary: undefined } }));
    const r = await validateOpenApiFile(file);
    expect(r.redocly.errors).toBeGreaterThan(0);
    expect(r.swaggerParser).not.toBeNull();
  }, 90_000);
});

describe("document", () => {
  test("OpenAPI 3.1.0 (the schemas are JSON Schema 2020-12) with the four security schemes", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.license).toEqual({ name: "MIT", identifier: "MIT" });
    expect(doc.components.securitySchemes).toEqual({
      ApiKey: expect.objectContaining({ type: "apiKey", in: "header", name: "X-API-Key" }),
      UserId: expect.objectContaining({ type: "apiKey", in: "header", name: "X-User-Id" }),
      MasterKey: expect.objectContaining({ type: "apiKey", in: "header", name: "X-Master-Key" }),
      BearerJWT: expect.objectContaining({ type: "http", scheme: "bearer", bearerFormat: "JWT" }),
    });
    // Was 442 KB when every operation claimed three body types.
    expect(raw.length).toBeLessThan(200_000);
  });

  test("every operation: summary, tags, unique operationId, its security requirement, a description per response", () => {
    expect(ops.length).toBeGreaterThanOrEqual(33);
    const ids = new Set<string>();
    for (const { method, path, op } of ops) {
      const where = `${method.toUpperCase()} ${path}`;
      expect([where, typeof op.summary === "string" && op.summary.length > 0]).toEqual([where, true]);
      expect([where, Array.isArray(op.tags) && op.tags.length > 0]).toEqual([where, true]);
      expect([where, OPERATIONS[where]?.operationId]).toEqual([where, op.operationId]);
      expect(ids.has(op.operationId)).toBe(false);
      ids.add(op.operationId);
      expect([where, op.security]).toEqual([where, expectedSecurity(method, path)]);
      for (const [status, res] of Object.entries<any>(op.responses)) expect([where, status, typeof res.description === "string" && res.description.length > 0]).toEqual([where, status, true]);
    }
  });

  test("request bodies are application/json only (the upload: multipart/form-data), each with an example", () => {
    let bodies = 0;
    const UPLOAD = "POST /rooms/{room_id}/attachments";
    for (const { method, path, op } of ops) {
      if (!op.requestBody) continue;
      bodies++;
      const where = `${method.toUpperCase()} ${path}`;
      const type = where === UPLOAD ? "multipart/form-data" : "application/json";
      expect([where, Object.keys(op.requestBody.content)]).toEqual([where, [type]]);
      expect([where, op.requestBody.content[type].example !== undefined]).toEqual([where, true]);
    }
    expect(bodies).toBeGreaterThanOrEqual(12);
  });

  test("every success response with a body has an example; path parameters have examples", () => {
    for (const { method, path, op } of ops) {
      const where = `${method.toUpperCase()} ${path}`;
      const success = Object.entries<any>(op.responses).filter(([st]) => st.startsWith("2"));
      for (const [status, res] of success) {
        for (const [type, media] of Object.entries<any>(res.content ?? {})) expect([where, status, type, media.example !== undefined]).toEqual([where, status, type, true]);
      }
      for (const p of op.parameters ?? []) if (p.in === "path") expect([where, p.name, p.example !== undefined]).toEqual([where, p.name, true]);
    }
  });

  test("the docs do not document themselves; the catalog has no entry for a route that does not exist", () => {
    expect(Object.keys(doc.paths).filter((p) => p.startsWith("/docs"))).toEqual([]);
    const documented = new Set(ops.map(({ method, path }) => `${method.toUpperCase()} ${path}`));
    expect(Object.keys(OPERATIONS).filter((k) => !documented.has(k))).toEqual([]);
  });

  test("the declared security is what the server enforces: no credentials -> 401 on every non-public operation", async () => {
    for (const { method, path, op } of ops) {
      if (path === "/ws") continue; // a plain GET is refused as a non-upgrade first (documented 400)
      const url = s.url + path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(String(op.parameters?.find((p: any) => p.name === name)?.example ?? "x")));
      const init: RequestInit = { method: method.toUpperCase() };
      if (op.requestBody) {
        init.body = JSON.stringify((op.requestBody.content["application/json"] ?? Object.values<any>(op.requestBody.content)[0]).example);
        init.headers = { "content-type": "application/json" };
      }
      const res = await fetch(url, init);
      await res.arrayBuffer();
      const where = `${method.toUpperCase()} ${path}`;
      if (op.security.length === 0) expect([where, res.status === 401]).toEqual([where, false]);
      else expect([where, res.status]).toEqual([where, 401]);
    }
  });
});
