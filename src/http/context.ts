// Per-request context shared by the fetch wrapper, the auth pass, the error mapper and the access log.

/** What is known about one HTTP request; filled as it passes through the layers. */
export interface RequestContext {
  requestId: string;
  startMs: number;
  tenantId?: string;
  userId?: string;
}

const contexts = new WeakMap<Request, RequestContext>();
let counter = 0;
const prefix = Math.random().toString(36).slice(2, 8);

/** A short unique request id (`req_<process>_<n>`). */
export function newRequestId(): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `req_${prefix}${counter.toString(36)}`;
}

/** Attaches a fresh context to a request (done once, by the fetch wrapper). */
export function attachContext(req: Request): RequestContext {
  const ctx: RequestContext = { requestId: newRequestId(), startMs: performance.now() };
  contexts.set(req, ctx);
  return ctx;
}

/** The request's context; creates one for requests that bypassed the wrapper (app.handle in tests). */
export function contextOf(req: Request): RequestContext {
  return contexts.get(req) ?? attachContext(req);
}

/** Carries an existing context over to a replacement Request (e.g. after buffering its body). */
export function setContext(req: Request, ctx: RequestContext): void {
  contexts.set(req, ctx);
}

const rawResponses = new WeakMap<Request, Response>();

/**
 * Hands a Response to the fetch wrapper untouched. Elysia rebuilds a returned Response around its
 * body, which turns a streamed download into chunked encoding without its Content-Length; a route
 * that must keep exact headers (downloads) stores its Response here and returns a placeholder.
 */
export function setRawResponse(req: Request, res: Response): Response {
  rawResponses.set(req, res);
  return new Response(null, { status: 204 });
}

/** The Response a route stored with setRawResponse (once), or undefined. */
export function takeRawResponse(req: Request): Response | undefined {
  const res = rawResponses.get(req);
  if (res) rawResponses.delete(req);
  return res;
}
