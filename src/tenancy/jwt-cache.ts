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

/** A bounded LRU of verified tokens; `get` answers only for live entries of the tenant's current keys. */
export class JwtCache {
  // A Map keeps insertion order: re-inserting on a hit makes the first key the least recently used.
  private readonly entries = new Map<string, Entry>();
  private readonly generations = new Map<string, number>();

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

  /** A key change of the tenant: its entries go at once, and results of verifications in flight are not stored. */
  invalidateTenant(tenantId: string): void {
    this.generations.set(tenantId, this.generation(tenantId) + 1);
    for (const [token, e] of this.entries) if (e.tenantId === tenantId) this.entries.delete(token);
  }

  get size(): number {
    return this.entries.size;
  }
}
