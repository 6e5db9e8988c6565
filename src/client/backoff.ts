// Reconnect delays: exponential backoff with full jitter, and the jittered server.shutdown hint.

/** Backoff bounds in milliseconds. */
export interface BackoffOptions {
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Default bounds: 250 ms doubling up to 10 s. */
export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({ baseDelayMs: 250, maxDelayMs: 10_000 });

// A server that asks for an absurd pause (or a corrupt frame) must not park the client for hours.
const MAX_SHUTDOWN_DELAY_MS = 10 * 60_000;

/**
 * Delay before reconnect attempt `attempt` (0 = first retry): uniform in [0, min(max, base * 2^attempt)),
 * the "full jitter" of AWS's backoff study, so a fleet of clients does not reconnect in lockstep.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exponent = attempt > 0 ? Math.min(Math.floor(attempt), 30) : 0;
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** exponent);
  return Math.floor(clamp01(random()) * ceiling);
}

/**
 * Delay after `server.shutdown`: uniform in [r, 1.5 r] for `reconnect_after_ms` = r. Never earlier than
 * the server asked (it is not back yet), spread over half the hint so clients do not stampede it.
 */
export function shutdownDelayMs(reconnectAfterMs: number, random: () => number = Math.random): number {
  const hint = Number.isFinite(reconnectAfterMs) ? Math.min(Math.max(0, reconnectAfterMs), MAX_SHUTDOWN_DELAY_MS) : 0;
  return Math.floor(hint + clamp01(random()) * (hint / 2));
}

function clamp01(value: number): number {
  if (!(value >= 0)) return 0;
  return value >= 1 ? 0.999_999 : value;
}
