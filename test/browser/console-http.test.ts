// The console over plain HTTP (no browser needed): the page and its assets, the security headers,
// CONSOLE_ENABLED=false, and the same-origin WebSocket the page opens without ALLOWED_ORIGINS.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { consoleCsp } from "../../src/console/server/console.routes";
import { startTestServer, type TestServer } from "../helpers";

let s: TestServer;
beforeAll(async () => {
  // ALLOWED_ORIGINS unset on purpose: the console must work out of the box.
  s = await startTestServer();
});
afterAll(() => s.stop());

function directives(csp: string): Map<string, string> {
  return new Map(csp.split(";").map((d) => d.trim()).filter(Boolean).map((d) => [d.split(/\s+/)[0]!, d.split(/\s+/).slice(1).join(" ")]));
}

function expectSecurityHeaders(res: Response, host: string) {
  const csp = directives(res.headers.get("content-security-policy") ?? "");
  expect(csp.get("default-src")).toBe("'self'");
  expect(csp.get("script-src")).toBe("'self'");
  expect(csp.get("style-src")).toBe("'self'");
  expect(csp.get("img-src")).toBe("'self' data:");
  expect(csp.get("connect-src")).toBe(`'self' ws://${host} wss://${host}`);
  expect(csp.get("frame-ancestors")).toBe("'none'");
  expect(csp.get("base-uri")).toBe("'none'");
  expect(csp.get("form-action")).toBe("'none'");
  expect(csp.get("object-src")).toBe("'none'");
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(res.headers.get("referrer-policy")).toBe("no-referrer");
  expect(res.headers.get("x-frame-options")).toBe("DENY");
}

describe("GET /console", () => {
  test("serves the HTML shell with a strict CSP and no inline script or style", async () => {
    const host = new URL(s.url).host;
    for (const path of ["/console", "/console/"]) {
      const res = await fetch(s.url + path);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(res.headers.get("cache-control")).toBe("no-store");
      expectSecurityHeaders(res, host);
      const html = await res.text();
      expect(html).toStartWith("<!doctype html>");
      // Every script is an external same-origin module; no inline code, styles or event attributes.
      const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
      expect(scripts.length).toBe(1);
      expect(scripts[0]![1]).toMatch(/\bsrc="\/console\/assets\/app\.js\?v=[0-9a-f]{16}"/);
      expect(scripts[0]![2]!.trim()).toBe("");
      expect(html).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=/i);
      // Nothing from another origin: every src/href is a same-origin path.
      for (const [, url] of html.matchAll(/\s(?:src|href)="([^"]*)"/g)) expect(url).toStartWith("/console/assets/");
    }
  });

  test("assets: JS, CSS and icon with their types, ETags, 304s, long caching of versioned URLs", async () => {
    const html = await (await fetch(`${s.url}/console`)).text();
    const version = /app\.js\?v=([0-9a-f]{16})/.exec(html)![1]!;
    const types: Record<string, string> = {
      "app.js": "text/javascript; charset=utf-8",
      "app.css": "text/css; charset=utf-8",
      "favicon.svg": "image/svg+xml",
    };
    for (const [name, type] of Object.entries(types)) {
      const res = await fetch(`${s.url}/console/assets/${name}?v=${version}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(type);
      expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expectSecurityHeaders(res, new URL(s.url).host);
      const body = await res.text();
      expect(body.length).toBeGreaterThan(100);
      const etag = res.headers.get("etag")!;
      const again = await fetch(`${s.url}/console/assets/${name}`, { headers: { "If-None-Match": etag } });
      expect(again.status).toBe(304);
      expect(again.headers.get("cache-control")).toBe("no-cache");
    }
    const missing = await fetch(`${s.url}/console/assets/secrets.txt`);
    expect(missing.status).toBe(404);
    expect((await missing.json()).error).toBe("not_found");
  });

  test("the browser bundle is self-contained: no server code, no external URLs, no fonts or CDNs", async () => {
    const js = await (await fetch(`${s.url}/console/assets/app.js`)).text();
    const css = await (await fetch(`${s.url}/console/assets/app.css`)).text();
    expect(js.length).toBeLessThan(200 * 1024);
    for (const marker of ["bun:sqlite", "node:fs", "prom-client", "pino", "elysia", "import("]) expect(js.includes(marker)).toBe(false);
    // The only absolute URL in the bundle is the SVG namespace (an identifier, never fetched).
    expect([...new Set(js.match(/https?:\/\/[^\s"'`)]+/g) ?? [])]).toEqual(["http://www.w3.org/2000/svg"]);
    expect(js).not.toMatch(/localStorage|document\.cookie|\.innerHTML\s*=|insertAdjacentHTML|eval\(/);
    expect(css).not.toMatch(/@import|@font-face|https?:\/\//);
    for (const [, url] of css.matchAll(/url\(\s*["']?([^"')]+)/g)) expect(url).toMatch(/^(\/console\/assets\/|data:)/);
  });

  test("the CSP names the request's own host for WebSockets, and only a well-formed one", () => {
    expect(consoleCsp("chat.example.com")).toContain("connect-src 'self' ws://chat.example.com wss://chat.example.com;");
    expect(consoleCsp("[::1]:8080")).toContain("connect-src 'self' ws://[::1]:8080 wss://[::1]:8080;");
    expect(consoleCsp("evil.test; script-src *")).toContain("connect-src 'self';");
    expect(consoleCsp(null)).toContain("connect-src 'self';");
  });

  test("CONSOLE_ENABLED=false: /console and its assets are 404 JSON", async () => {
    const off = await startTestServer({ CONSOLE_ENABLED: "false" });
    try {
      for (const path of ["/console", "/console/", "/console/assets/app.js"]) {
        const res = await fetch(off.url + path);
        expect(res.status).toBe(404);
        expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
        expect((await res.json()).error).toBe("not_found");
      }
    } finally {
      await off.stop();
    }
  });
});

// Bun's WebSocket takes handshake headers (a browser sets Origin itself).
const BunWebSocket = WebSocket as unknown as new (url: string, options?: { headers?: Record<string, string> }) => WebSocket;

function handshake(url: string, headers: Record<string, string>): Promise<"open" | "refused"> {
  return new Promise((resolve) => {
    const ws = new BunWebSocket(url, { headers });
    ws.onopen = () => {
      ws.close();
      resolve("open");
    };
    ws.onerror = () => resolve("refused");
    ws.onclose = () => resolve("refused");
  });
}

describe("same-origin WebSocket of the console", () => {
  test("the server's own origin is accepted without ALLOWED_ORIGINS; other origins are still refused", async () => {
    const t = await s.createTenant("console-origin");
    const token = async () => (await s.client(t.api_key, "alice").post("/ws/token")).body.token as string;
    expect(await handshake(`${s.wsUrl}?token=${await token()}`, { Origin: s.url })).toBe("open");
    expect(await handshake(`${s.wsUrl}?token=${await token()}`, { Origin: "http://evil.test" })).toBe("refused");
    // Same host name, other port: another origin.
    const u = new URL(s.url);
    expect(await handshake(`${s.wsUrl}?token=${await token()}`, { Origin: `http://${u.hostname}:1` })).toBe("refused");
  });

  test("with the console disabled, even the server's own origin needs ALLOWED_ORIGINS", async () => {
    const off = await startTestServer({ CONSOLE_ENABLED: "false" });
    try {
      const t = await off.createTenant("console-off-origin");
      const token = (await off.client(t.api_key, "alice").post("/ws/token")).body.token as string;
      expect(await handshake(`${off.wsUrl}?token=${token}`, { Origin: off.url })).toBe("refused");
    } finally {
      await off.stop();
    }
  });
});
