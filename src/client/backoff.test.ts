import { describe, expect, test } from "bun:test";
import { backoffDelayMs, DEFAULT_BACKOFF, shutdownDelayMs } from "./backoff.ts";

describe("backoffDelayMs", () => {
  test("full jitter: uniform below min(cap, base * 2^attempt)", () => {
    const options = { baseDelayMs: 250, maxDelayMs: 10_000 };
    const ceilings = [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000];
    ceilings.forEach((ceiling, attempt) => {
      expect(backoffDelayMs(attempt, options, () => 0)).toBe(0);
      expect(backoffDelayMs(attempt, options, () => 0.5)).toBe(ceiling / 2);
      expect(backoffDelayMs(attempt, options, () => 0.999_999)).toBeLessThan(ceiling);
    });
  });

  test("bounded for any attempt and any random source", () => {
    for (const attempt of [0, 1, 50, 1e9, Number.POSITIVE_INFINITY, -3, Number.NaN]) {
      for (const r of [0, 0.3, 1, 2, -1, Number.NaN]) {
        const delay = backoffDelayMs(attempt, DEFAULT_BACKOFF, () => r);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(DEFAULT_BACKOFF.maxDelayMs);
      }
    }
    for (let i = 0; i < 1000; i++) {
      expect(backoffDelayMs(i % 12, DEFAULT_BACKOFF)).toBeLessThan(Math.min(10_000, 250 * 2 ** (i % 12)));
    }
  });
});

describe("shutdownDelayMs", () => {
  test("never earlier than asked, at most 1.5x", () => {
    expect(shutdownDelayMs(1000, () => 0)).toBe(1000);
    expect(shutdownDelayMs(1000, () => 0.5)).toBe(1250);
    expect(shutdownDelayMs(1000, () => 0.999_999)).toBeLessThan(1500);
  });

  test("hostile hints are clamped", () => {
    expect(shutdownDelayMs(-5, () => 0.5)).toBe(0);
    expect(shutdownDelayMs(Number.NaN, () => 0.5)).toBe(0);
    expect(shutdownDelayMs(1e12, () => 0)).toBe(600_000);
  });
});
