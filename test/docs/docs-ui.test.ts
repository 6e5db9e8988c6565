// GET /docs over HTTP (issue 14): the page and Swagger UI's files come from this server, under a
// strict CSP; nothing on the page points at another origin; assets cache by version and gzip.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ CONSOLE_ENABLED: "false" });
});
afterAll(() => s?.stop());

test("the page: strict CSP, no inline script or style, every URL on this origin", async () => {
  for (const path of ["/docs", "/docs/"]) {
    const r = await fetch(s.url + path);
    expect(r.status).toBe(200);
    const csp = r.headers.get("content-security-policy") ?? "";
    for (const d of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]) expect(csp).toContain(d);
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    const html = await r.text();
    expect(html).not.toMatch(/<script>|<style|\sstyle=|\son[a-z]+=/i);
    const urls = [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);
    expect(urls.length).toBeGreaterThanOrEqual(4);
    for (const u of urls) expect(u).toMatch(/^\/docs\//);
    // Each referenced file is served (the console's being disabled does not matter).
    for (const u of urls) expect([u, (await fetch(s.url + u)).status]).toEqual([u, 200]);
  }
});

test("assets: versioned URLs cache for a year, ETag 304, gzip when asked, unknown names 404 JSON", async () => {
  const html = await (await fetch(`${s.url}/docs`)).text();
  const bundleUrl = html.match(/src="(\/docs\/assets\/swagger-ui-bundle\.js\?v=[0-9a-f]+)"/)![1]!;
  const r = await fetch(s.url + bundleUrl, { headers: { "accept-encoding": "gzip" }, decompress: false } as RequestInit);
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toStartWith("text/javascript");
  expect(r.headers.get("cache-control")).toContain("immutable");
  expect(r.headers.get("content-encoding")).toBe("gzip");
  const gz = new Uint8Array(await r.arrayBuffer());
  const js = new TextDecoder().decode(Bun.gunzipSync(gz));
  expect(js).toContain("SwaggerUIBundle");
  expect(js).not.toContain("sourceMappingURL");
  expect(gz.length).toBeLessThan(js.length / 2);

  const etag = r.headers.get("etag")!;
  expect((await fetch(`${s.url}/docs/assets/swagger-ui-bundle.js`, { headers: { "if-none-match": etag } })).status).toBe(304);
  const init = await (await fetch(`${s.url}/docs/assets/docs-init.js`)).text();
  expect(init).toContain("validatorUrl: null");

  const missing = await fetch(`${s.url}/docs/assets/..%2Fpackage.json`);
  expect(missing.status).toBe(404);
  expect((await missing.json()).error).toBe("not_found");
  expect((await fetch(`${s.url}/docs/assets/constructor`)).status).toBe(404);
});
