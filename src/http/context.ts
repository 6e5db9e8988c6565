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
