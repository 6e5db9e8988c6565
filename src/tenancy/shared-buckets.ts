// Token buckets shared by every node of a cluster: one Redis script per take, so a tenant limited
// to 10 req/s gets about 10/s in total whatever the number of nodes. While Redis is unreachable each
// node falls back to its own buckets (REST keeps working; the limit is then per node).
import type { RedisState } from "../bus/redis-state";
import { TokenBuckets, type RateLimiter, type TakeResult } from "./rate-limiter";

/** Buckets in Redis, with an in-process fallback. */
export class SharedBuckets implements RateLimiter {
  private readonly local = new TokenBuckets();

  constructor(private readonly state: RedisState) {}

  async take(key: string, ratePerS: number, capacity: number): Promise<TakeResult> {
    let r: { ok: boolean; tokens: number };
    try {
      r = await this.state.take(key, ratePerS, capacity);
    } catch {
      return this.local.take(key, ratePerS, capacity);
    }
    return {
      ok: r.ok,
      limit: capacity,
      remaining: Math.max(0, Math.floor(r.tokens)),
      resetS: Math.ceil((capacity - r.tokens) / ratePerS),
      retryAfterMs: r.ok ? 0 : Math.ceil(((1 - r.tokens) / ratePerS) * 1000),
    };
  }
}
