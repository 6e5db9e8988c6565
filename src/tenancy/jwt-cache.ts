// The verification cache of signed user tokens: a bounded LRU keyed by the token itself. An entry
// never outlives its token (exp + leeway) nor a key change of its tenant (generation per tenant).

/** What a verified token established. */
export interface VerifiedToken {
  tenantId: string;
  userId: string;
  /** `exp` in unix milliseconds. */
  expMs: number;
}

interface Entry extends VerifiedToken {
  generation: number;
}

const MAX_REFUSED_CHARS = 2048;

/** A bounded LRU of verified tokens; `get` answers only for live entries of the tenant's current keys. */
export class JwtCache {
  // A Map keeps insertion order: re-inserting on a hit makes the first key the least recently used.
  private readonly entries = new Map<string, Entry>();
  private readonly generations = new Map<string, number>();
  // Tokens refused for a reason only a key change can lift (bad signature, unknown kid, expired...).
  private readonly refusals = new Map<string, { tenantId: string; generation: number; message: string }>();

  constructor(
    private readonly maxEntries: number,
    private readonly leewayMs: number,
  ) {}

  /** The tenant's current key generation (taken before verifying, passed back to `set`). */
  generation(tenantId: string): number {
    return this.generations.get(tenantId) ?? 0;
  }

  /** The cached result, or undefined when absent, expired beyond the leeway, or from older keys. */
  get(token: string, nowMs: number): VerifiedToken | undefined {
    const e = this.entries.get(token);
    if (e === undefined) return undefined;
    this.entries.delete(token);
    if (nowMs > e.expMs + this.leewayMs || e.generation !== this.generation(e.tenantId)) return undefined;
    this.entries.set(token, e);
    return e;
  }

  /** Stores a verified token unless its tenant's keys changed while it was being verified. */
  set(token: string, v: VerifiedToken, generation: number): void {
    if (generation !== this.generation(v.tenantId)) return;
    this.entries.delete(token);
    this.entries.set(token, { ...v, generation });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  /** The message a token was refused with, while its tenant's keys are unchanged; else undefined. */
  refused(token: string): string | undefined {
    const r = this.refusals.get(token);
    if (r === undefined) return undefined;
    if (r.generation !== this.generation(r.tenantId)) {
      this.refusals.delete(token);
      return undefined;
    }
    return r.message;
  }

  /** Remembers a refusal (bounded; tokens over MAX_REFUSED_CHARS are not kept, to bound memory). */
  refuse(token: string, tenantId: string, generation: number, message: string): void {
    if (token.length > MAX_REFUSED_CHARS || generation !== this.generation(tenantId)) return;
    this.refusals.delete(token);
    this.refusals.set(token, { tenantId, generation, message });
    while (this.refusals.size > this.maxEntries) this.refusals.delete(this.refusals.keys().next().value as string);
  }

  /** A key change of the tenant: its entries go at once, and results of verifications in flight are not stored. */
  invalidateTenant(tenantId: string): void {
    this.generations.set(tenantId, this.generation(tenantId) + 1);
    for (const [token, e] of this.entries) if (e.tenantId === tenantId) this.entries.delete(token);
    for (const [token, r] of this.refusals) if (r.tenantId === tenantId) this.refusals.delete(token);
  }

  /** Tokens remembered as refused. */
  get refusedSize(): number {
    return this.refusals.size;
  }

  get size(): number {
    return this.entries.size;
  }
}
