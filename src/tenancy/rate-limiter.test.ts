import { describe, expect, test } from "bun:test";
import { rateLimitHeaders, TokenBuckets } from "./rate-limiter";

function clock(start = 1000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("TokenBuckets", () => {
  test("a new bucket starts full: exactly `capacity` takes succeed, then refusal", () => {
    const c = clock();
    const b = new TokenBuckets(c.now);
    const results = Array.from({ length: 11 }, () => b.take("t", 5, 10));
    expect(results.slice(0, 10).every((r) => r.ok)).toBe(true);
    expect(results.map((r) => r.remaining)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0]);
    expect(results[10]!.ok).toBe(false);
    expect(results[10]!.limit).toBe(10);
  });

  test("a refused take costs nothing: the next token still arrives after 1/rate seconds", () => {
    const c = clock();
    const b = new TokenBuckets(c.now);
    for (let i = 0; i < 2; i++) b.take("t", 2, 2);
    for (let i = 0; i < 5; i++) expect(b.take("t", 2, 2).ok).toBe(false);
    c.advance(499);
    expect(b.take("t", 2, 2).ok).toBe(false);
    c.advance(1);
    expect(b.take("t", 2, 2).ok).toBe(true);
    expect(b.take("t", 2, 2).ok).toBe(false);
  });

  test("refill never exceeds the capacity", () => {
    const c = clock();
    const b = new TokenBuckets(c.now);
    b.take("t", 10, 3);
    c.advance(3_600_000);
    const oks = Array.from({ length: 5 }, () => b.take("t", 10, 3).ok);
    expect(oks).toEqual([true, true, true, false, false]);
  });

  test("retryAfterMs is the time until one token; resetS the whole seconds until full", () => {
    const c = clock();
    const b = new TokenBuckets(c.now);
    for (let i = 0; i < 4; i++) b.take("t", 4, 4);
    const r = b.take("t", 4, 4);
    expect(r.ok).toBe(false);
    expect(r.retryAfterMs).toBe(250);
    expect(r.resetS).toBe(1);
    expect(r.remaining).toBe(0);
    c.advance(100);
    const r2 = b.take("t", 4, 4);
    expect(r2.retryAfterMs).toBe(150);
    const ok = new TokenBuckets(c.now).take("x", 1, 100);
    expect(ok.retryAfterMs).toBe(0);
    expect(ok.resetS).toBe(1);
  });

  test("keys are independent", () => {
    const b = new TokenBuckets(clock().now);
    expect(b.take("a", 1, 1).ok).toBe(true);
    expect(b.take("a", 1, 1).ok).toBe(false);
    expect(b.take("b", 1, 1).ok).toBe(true);
  });

  test("a lowered capacity applies at the next take", () => {
    const b = new TokenBuckets(clock().now);
    b.take("t", 1, 100);
    const r = b.take("t", 1, 5);
    expect(r.ok).toBe(true);
    expect(r.limit).toBe(5);
    expect(r.remaining).toBe(4);
  });

  test("idle buckets are pruned so the map stays bounded; delete forgets a key", () => {
    const c = clock();
    const b = new TokenBuckets(c.now);
    for (let i = 0; i < 100; i++) b.take(`k${i}`, 1, 2);
    expect(b.size).toBe(100);
    c.advance(11 * 60_000);
    b.take("fresh", 1, 2);
    expect(b.size).toBe(1);
    b.delete("fresh");
    expect(b.size).toBe(0);
  });
});

describe("rateLimitHeaders", () => {
  test("describe the bucket; Retry-After only when refused, in whole seconds >= 1", () => {
    expect(rateLimitHeaders({ ok: true, limit: 10, remaining: 9, resetS: 1, retryAfterMs: 0 })).toEqual({
      "RateLimit-Limit": "10",
      "RateLimit-Remaining": "9",
      "RateLimit-Reset": "1",
    });
    expect(rateLimitHeaders({ ok: false, limit: 10, remaining: 0, resetS: 2, retryAfterMs: 200 })["Retry-After"]).toBe("1");
    expect(rateLimitHeaders({ ok: false, limit: 10, remaining: 0, resetS: 2, retryAfterMs: 1001 })["Retry-After"]).toBe("2");
    expect(rateLimitHeaders({ ok: false, limit: 10, remaining: 0, resetS: 2, retryAfterMs: 0 })["Retry-After"]).toBe("1");
  });
});
