import { AppError } from "../errors";

// Token buckets: one per tenant (every request, handshake, frame) and one per user (message sends).

/** The outcome of taking one token; the numbers feed the RateLimit-* headers. */
export interface TakeResult {
  ok: boolean;
  /** Bucket capacity. */
  limit: number;
  /** Whole tokens left after this request. */
  remaining: number;
  /** Whole seconds until the bucket is full again. */
  resetS: number;
  /** When refused: milliseconds until one token is available. */
  retryAfterMs: number;
}

/** A token-bucket limiter: in process (TokenBuckets) or shared by every node (SharedBuckets). */
export interface RateLimiter {
  take(key: string, ratePerS: number, capacity: number): TakeResult | Promise<TakeResult>;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
  ratePerS: number;
  capacity: number;
}

/** A set of token buckets keyed by string; idle full buckets are pruned so the map cannot grow without bound. */
export class TokenBuckets implements RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private lastPruneMs = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Takes one token from `key`'s bucket with `ratePerS` refill and `capacity`. */
  take(key: string, ratePerS: number, capacity: number): TakeResult {
    const now = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: capacity, updatedMs: now, ratePerS, capacity };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(capacity, b.tokens + ((now - b.updatedMs) / 1000) * ratePerS);
      b.updatedMs = now;
      b.ratePerS = ratePerS;
      b.capacity = capacity;
    }
    let ok = false;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      ok = true;
    }
    if (now - this.lastPruneMs > 60_000) this.prune(now);
    const retryAfterMs = ok ? 0 : Math.ceil(((1 - b.tokens) / ratePerS) * 1000);
    return {
      ok,
      limit: capacity,
      remaining: Math.max(0, Math.floor(b.tokens)),
      resetS: Math.ceil((capacity - b.tokens) / ratePerS),
      retryAfterMs,
    };
  }

  /** Forgets a key (e.g. a deleted tenant). */
  delete(key: string): void {
    this.buckets.delete(key);
  }

  get size(): number {
    return this.buckets.size;
  }

  private prune(now: number): void {
    this.lastPruneMs = now;
    // A bucket that has refilled completely is indistinguishable from a new one: dropping it changes nothing.
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.updatedMs) / 1000) * b.ratePerS >= b.capacity) this.buckets.delete(key);
    }
  }
}

/** Headers describing a bucket (RFC draft RateLimit-* fields, as docs/reference/rest.md#conventions). */
export function rateLimitHeaders(r: TakeResult): Record<string, string> {
  const h: Record<string, string> = {
    "RateLimit-Limit": String(r.limit),
    "RateLimit-Remaining": String(r.remaining),
    "RateLimit-Reset": String(r.resetS),
  };
  if (!r.ok) h["Retry-After"] = String(Math.max(1, Math.ceil(r.retryAfterMs / 1000)));
  return h;
}

/** The 429 for an empty bucket, with its headers and retry_after_ms. */
export function rateLimited(r: TakeResult, what: string): AppError {
  const err = new AppError("rate_limit_exceeded", `${what} rate limit exceeded`, undefined, { retry_after_ms: r.retryAfterMs });
  err.headers = rateLimitHeaders(r);
  return err;
}

