// GET /console and /console/assets/*: the web console (playground + operations), served from memory
// with a strict Content-Security-Policy. Mounted by main.ts only when CONSOLE_ENABLED is true, so a
// disabled console answers the usual 404 JSON.
import { Elysia, t } from "elysia";
import { AppError } from "../../errors";
import { consoleAssets, FAVICON_SVG, type ConsoleAssets } from "./assets";
import { renderPage } from "./page";

// A Host header we are willing to echo into the CSP: name or IP literal, optional port.
const HOST_RE = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** The CSP of every console response; WebSockets only to this very host (ws and wss, for TLS proxies). */
export function consoleCsp(host: string | null): string {
  const ws = host !== null && HOST_RE.test(host) ? ` ws://${host} wss://${host}` : "";
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self'${ws}`,
    "font-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    // The UI writes text only (textContent), never HTML: let the browser enforce that.
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join("; ");
}

function securityHeaders(request: Request): Record<string, string> {
  return {
    "Content-Security-Policy": consoleCsp(request.headers.get("host")),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
  };
}

interface AssetFile {
  type: string;
  body: (a: ConsoleAssets) => string;
}

const FILES: Record<string, AssetFile> = {
  "app.js": { type: "text/javascript; charset=utf-8", body: (a) => a.js },
  "app.css": { type: "text/css; charset=utf-8", body: (a) => a.css },
  "favicon.svg": { type: "image/svg+xml", body: () => FAVICON_SVG },
};

async function page(request: Request): Promise<Response> {
  const assets = await consoleAssets();
  return new Response(renderPage(assets.version), {
    headers: { ...securityHeaders(request), "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" },
  });
}

async function asset(request: Request, name: string): Promise<Response> {
  const file = FILES[name];
  if (!file) throw new AppError("not_found", `no console asset ${name}`);
  const assets = await consoleAssets();
  const etag = `"${assets.version}-${name}"`;
  // A URL carrying the current version never changes; anything else is revalidated.
  const versioned = new URL(request.url).searchParams.get("v") === assets.version;
  const headers: Record<string, string> = {
    ...securityHeaders(request),
    "Content-Type": file.type,
    ETag: etag,
    "Cache-Control": versioned ? "public, max-age=31536000, immutable" : "no-cache",
  };
  if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers });
  return new Response(file.body(assets), { headers });
}

/** The console route module (no authentication: the page asks for keys and sends them only in headers). */
export function consoleRoutes() {
  return new Elysia({ tags: ["Operations"] })
    .get("/console", ({ request }) => page(request), {
      detail: { summary: "Web console: chat playground and operations (HTML; disable with CONSOLE_ENABLED=false)" },
    })
    .get("/console/", ({ request }) => page(request), { detail: { hide: true } })
    .get("/console/assets/:name", ({ request, params }) => asset(request, params.name), {
      params: t.Object({ name: t.String({ maxLength: 64 }) }),
      detail: { hide: true },
    });
}
