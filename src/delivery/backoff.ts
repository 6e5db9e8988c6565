// Webhook retry delays: exponential steps from RETRY_INTERVAL, capped, with "equal jitter".
//
// Choice (documented in the README): the delay after attempt n is uniform in [step/2, step], where
// step = min(cap, base * 2^(n-1)). Pure full jitter ([0, step]) can pick a near-zero delay and make
// retries look flat or shrinking; with a floor of half the step, every delay is at least the largest
// possible delay of the previous step, so delays never shrink (below the cap; at the cap they stay
// in [cap/2, cap]), yet retries of many deliveries that failed together still spread over half of
// each window.

/** The delay (ms) before the next attempt, after `attempts` failed attempts (1 = the first failed). */
export function retryDelayMs(attempts: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const n = Math.max(1, Math.floor(attempts));
  // 2^(n-1) overflows to Infinity for large n; min() with the cap keeps it finite.
  const step = Math.min(capMs, baseMs * 2 ** Math.min(n - 1, 1000));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(step / 2 + (step / 2) * r);
}
