import { expect, test } from "bun:test";
import { retryDelayMs } from "./backoff";

test("delays grow: each lies in [step/2, step] with step = base * 2^(n-1)", () => {
  for (const [n, lo, hi] of [[1, 25, 50], [2, 50, 100], [3, 100, 200], [4, 200, 400]] as const) {
    expect(retryDelayMs(n, 50, 60_000, () => 0)).toBe(lo);
    expect(retryDelayMs(n, 50, 60_000, () => 1)).toBe(hi);
  }
  // Below the cap a delay is never shorter than the longest possible previous one; at the cap, >= cap/2.
  let prevMax = 0;
  for (let n = 1; n < 12; n++) {
    const d = retryDelayMs(n, 30_000, 3_600_000);
    expect(d).toBeGreaterThanOrEqual(Math.min(prevMax, 1_800_000));
    prevMax = Math.min(3_600_000, 30_000 * 2 ** (n - 1));
  }
});

test("the cap bounds every step, also for huge attempt counts", () => {
  expect(retryDelayMs(100, 30_000, 3_600_000, () => 1)).toBe(3_600_000);
  expect(retryDelayMs(5000, 30_000, 3_600_000, () => 0)).toBe(1_800_000);
  expect(retryDelayMs(0, 1000, 10_000, () => 1)).toBe(1000);
});
