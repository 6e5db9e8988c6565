// Bun.serve in front of the Elysia app: request ids, the body-size limit (before parsing), CORS,
// the WebSocket upgrade, access logs and request metrics. One server for REST and WebSocket.
import type { Server, WebSocketHandler } from "bun";
import { AppError } from "../errors";
import type { Logger } from "../log";
import type { Metrics } from "../metrics";
import type { HttpApp } from "./app";
import { attachContext, setContext, takeRawResponse, type RequestContext } from "./context";
import { errorResponse } from "./errors";
import { checkJsonBody, routableUrl } from "./request-guard";

/** The WebSocket gateway as the HTTP server sees it. */
export interface UpgradeHandler {
  /** Authenticates and upgrades; resolves undefined when upgraded, else the error response. */
  upgrade(req: Request, server: Server<any>, ctx: RequestContext, url: URL): Promise<Response | undefined>;
  websocket: WebSocketHandler<any>;
}

export interface HttpServerOptions {
  app: HttpApp;
  hostname: string;
  port: number;
  maxBodyBytes: number;
  allowedOrigins: string[] | null;
  log: Logger;
  metrics: Metrics;
  ws?: UpgradeHandler;
}

/** A running server plus what shutdown needs. */
export interface HttpServer {
  server: Server<any>;
  url: string;
  /** Requests being handled right now. */
  inflight(): number;
  /** Resolves when no request is in flight (or never, until one finishes). */
  idle(): Promise<void>;
}

const BODY_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
// Uploads have their own limit (max_attachment_bytes, at most 100 MiB, enforced while streaming);
// a declared length beyond it plus room for the multipart framing is refused before reading.
const UPLOAD_PATH = /^\/rooms\/[^/]+\/attachments\/?$/;
const MAX_UPLOAD_BODY_BYTES = 100 * 1024 * 1024 + 64 * 1024;
// CORS (docs/reference/rest.md#conventions): what a browser calling the API directly (API key or Bearer JWT) may send and read.
export const CORS_ALLOW_METHODS = "GET, POST, PATCH, DELETE, OPTIONS";
export const CORS_ALLOW_HEADERS = "Authorization, Content-Type, X-API-Key, X-User-Id, X-Master-Key, Idempotency-Key, Range, If-None-Match";
export const CORS_EXPOSE_HEADERS = "X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, ETag, Content-Range, Content-Disposition, Accept-Ranges";
// Browsers cap it (Chromium at 2 h); 10 min keeps a changed ALLOWED_ORIGINS effective soon after a restart.
export const CORS_MAX_AGE_S = "600";

function originAllowed(origin: string, allowed: string[] | null): boolean {
  if (!allowed) return false;
  return allowed.includes("*") || allowed.includes(origin.replace(/\/+$/, ""));
}

async function readCapped(req: Request, max: number): Promise<ArrayBuffer | null> {
  if (!req.body) return new ArrayBuffer(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out.buffer;
}

/** Thrown when the listen address is taken (or otherwise refused); the message says what to do. */
export class ListenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ListenError";
  }
}

type ServeOptions = Omit<Parameters<typeof Bun.serve<any>>[0], "hostname" | "port" | "reusePort" | "unix">;

// Bun.serve with the port never shared: without reusePort: false a second server could bind the
// same address and the kernel would split the connections between the two processes.
function listen(hostname: string, port: number, options: ServeOptions): Server<any> {
  try {
    return Bun.serve({ ...options, hostname, port, reusePort: false } as Parameters<typeof Bun.serve<any>>[0]);
  } catch (err) {
    const code = (err as { code?: string }).code;
    const where = `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
    if (code === "EADDRINUSE") {
      throw new ListenError(`cannot listen on ${where}: the address is already in use (another ChatAPI server, or another program, listens there). Stop it or choose another LISTEN_ADDR.`);
    }
    if (code === "EACCES") throw new ListenError(`cannot listen on ${where}: permission denied (ports below 1024 need privileges). Choose another LISTEN_ADDR.`);
    throw new ListenError(`cannot listen on ${where}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Starts Bun.serve with the app and the optional WebSocket gateway; throws ListenError when the address is taken. */
export function startHttpServer(opts: HttpServerOptions): HttpServer {
  const { app, log, metrics, maxBodyBytes, allowedOrigins } = opts;
  let inflight = 0;
  let idleWaiters: (() => void)[] = [];
  const tooLarge = (ctx: RequestContext) => errorResponse(new AppError("payload_too_large", `request body over ${maxBodyBytes} bytes`), ctx.requestId);

  const finish = (req: Request, url: URL, ctx: RequestContext, res: Response): Response => {
    res.headers.set("X-Request-Id", ctx.requestId);
    const ct = res.headers.get("content-type");
    // Elysia answers "application/json;charset=utf-8"; docs/reference/rest.md#conventions spells it with a space.
    if (ct !== null && /^application\/json\s*(;\s*charset=utf-8)?$/i.test(ct)) res.headers.set("content-type", "application/json; charset=utf-8");
    const origin = req.headers.get("origin");
    // Vary on every answer once origins are configured: a shared cache must not hand one origin's answer to another.
    if (allowedOrigins) res.headers.append("Vary", "Origin");
    if (origin && originAllowed(origin, allowedOrigins)) {
      res.headers.set("Access-Control-Allow-Origin", origin);
      res.headers.set("Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS);
    }
    const status = res.status;
    metrics.httpRequests.inc({ method: req.method, status: `${Math.floor(status / 100)}xx` });
    // Success is logged at debug so the hot path stays quiet at the default level.
    const level = status >= 500 ? "error" : status >= 400 ? "info" : "debug";
    if (log.isLevelEnabled(level)) {
      log[level]({
        request_id: ctx.requestId,
        method: req.method,
        path: url.pathname,
        status,
        duration_ms: Math.round((performance.now() - ctx.startMs) * 100) / 100,
        tenant_id: ctx.tenantId,
        user_id: ctx.userId,
      }, "request");
    }
    return res;
  };

  const handle = async (req: Request, server: Server<any>): Promise<Response | undefined> => {
    const ctx = attachContext(req);
    // Routed the same whatever the Host header (request-guard.ts explains the router's assumption).
    const fixedUrl = routableUrl(req.url);
    const url = new URL(fixedUrl ?? req.url);
    if (opts.ws && url.pathname === "/ws" && req.headers.get("upgrade")?.toLowerCase() === "websocket") {
      // The original request: Bun upgrades only the request it handed to fetch.
      const res = await opts.ws.upgrade(req, server, ctx, url);
      return res ? finish(req, url, ctx, res) : undefined;
    }
    if (fixedUrl !== null) {
      const copy = new Request(fixedUrl, req);
      setContext(copy, ctx);
      req = copy;
    }
    if (req.method === "OPTIONS") {
      const origin = req.headers.get("origin");
      const res = new Response(null, { status: 204 });
      if (origin && originAllowed(origin, allowedOrigins)) {
        res.headers.set("Access-Control-Allow-Methods", CORS_ALLOW_METHODS);
        res.headers.set("Access-Control-Allow-Headers", CORS_ALLOW_HEADERS);
        res.headers.set("Access-Control-Max-Age", CORS_MAX_AGE_S);
      }
      return finish(req, url, ctx, res);
    }
    if (req.method === "POST" && UPLOAD_PATH.test(url.pathname)) {
      const len = req.headers.get("content-length");
      if (len !== null && Number(len) > MAX_UPLOAD_BODY_BYTES) return finish(req, url, ctx, errorResponse(new AppError("payload_too_large", "upload over 100 MiB"), ctx.requestId));
    } else if (BODY_METHODS.has(req.method)) {
      const len = req.headers.get("content-length");
      if (len !== null && Number(len) > maxBodyBytes) return finish(req, url, ctx, tooLarge(ctx));
      try {
        checkJsonBody(req);
      } catch (err) {
        return finish(req, url, ctx, errorResponse(err as AppError, ctx.requestId));
      }
      if (len === null && req.body) {
        // Chunked body without a length: read it under the cap before anything parses it.
        const buf = await readCapped(req, maxBodyBytes);
        if (buf === null) return finish(req, url, ctx, tooLarge(ctx));
        const copy = new Request(req.url, { method: req.method, headers: req.headers, body: buf });
        setContext(copy, ctx);
        req = copy;
      }
    }
    const res = await app.handle(req);
    return finish(req, url, ctx, takeRawResponse(req) ?? res);
  };

  const server = listen(opts.hostname, opts.port, {
    // The wrapper enforces MAX_BODY_BYTES itself (JSON 413 with X-Request-Id, before the body is read;
    // chunked bodies are read under the cap). Bun's own limit would answer a bare 413 without either,
    // and Bun never buffers a body nobody reads, so it is not needed as a memory backstop.
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    development: false,
    async fetch(req, server) {
      inflight++;
      try {
        return await handle(req, server);
      } finally {
        inflight--;
        if (inflight === 0 && idleWaiters.length) {
          const w = idleWaiters;
          idleWaiters = [];
          for (const f of w) f();
        }
      }
    },
    websocket: opts.ws?.websocket ?? { message() {} },
  });
  const host = server.hostname === "0.0.0.0" || server.hostname === "::" ? "127.0.0.1" : server.hostname;
  return {
    server,
    url: `http://${host?.includes(":") ? `[${host}]` : host}:${server.port}`,
    inflight: () => inflight,
    idle: () => (inflight === 0 ? Promise.resolve() : new Promise((r) => idleWaiters.push(r))),
  };
}
