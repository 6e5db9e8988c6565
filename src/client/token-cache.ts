// The client's view of `getToken`: single-use ws tokens are fetched fresh every time; signed user
// tokens (JWTs) are reused until shortly before their `exp` (read without verifying: the server
// verifies), then fetched again. Concurrent callers share one fetch.

/** True when `token` has the shape of a JWT (three base64url parts) rather than a single-use token. */
export function isJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

/** The `exp` of a JWT in unix milliseconds, read without verifying; undefined when absent or unreadable. */
export function jwtExpiryMs(token: string): number | undefined {
  const part = token.split(".")[1];
  if (part === undefined) return undefined;
  try {
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    const json = new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === "number" && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

export interface TokenCacheOptions {
  /** Fetch a new token this long before the JWT's exp (at most half its remaining life). Default 60 000. */
  refreshBeforeMs?: number;
  now?: () => number;
}

/** Hands out tokens from `getToken`, reusing a JWT until it is about to expire. */
export class TokenCache {
  private jwt: { token: string; refreshAtMs: number } | undefined;
  private pending: Promise<string> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly getToken: () => Promise<string>,
    private readonly options: TokenCacheOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /** A token to use now: the cached JWT while it is fresh, else a new one from `getToken`. */
  get(): Promise<string> {
    if (this.jwt !== undefined && this.now() < this.jwt.refreshAtMs) return Promise.resolve(this.jwt.token);
    this.pending ??= this.fetch().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Forgets the cached JWT (the server refused it, or closed its socket with 4001). */
  invalidate(): void {
    this.jwt = undefined;
  }

  private async fetch(): Promise<string> {
    const token = await this.getToken();
    this.jwt = undefined;
    if (isJwt(token)) {
      const expMs = jwtExpiryMs(token);
      if (expMs !== undefined) {
        const now = this.now();
        const margin = Math.min(this.options.refreshBeforeMs ?? 60_000, Math.max(0, (expMs - now) / 2));
        this.jwt = { token, refreshAtMs: expMs - margin };
      }
    }
    return token;
  }
}
