// The contract of the /health probe and the store's self-description.
import type { Instant, StoreKind } from "./store";

/** What /health and logs may say about the store (never a password or a full DSN). */
export interface StoreDescription {
  kind: StoreKind;
  /** SQLite: the database file (or ":memory:"); PostgreSQL: host:port/database. */
  location: string;
}

/** The real write behind GET /health. */
export interface HealthStore {
  /**
   * Performs one durable write (its own transaction, upserting a single row) and resolves true when
   * the database accepted it, false when it did not (full, read-only, unreachable). Never rejects.
   */
  probe(now: Instant): Promise<boolean>;
  /** The `now` of the last probe that committed, or null before the first (tests: the probe writes for real). */
  lastProbeAt(): Promise<Instant | null>;
  describe(): StoreDescription;
}
