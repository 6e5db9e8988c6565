// The contract of tenant persistence. Implementations: sqlite/tenant-store.ts, postgres/.
import type { Instant, JsonValue } from "./store";

/**
 * The config keys a tenant set explicitly (defaults resolve at read, in tenancy/). Stored as one
 * JSON object; keys a later version adds pass through untouched.
 */
export type StoredTenantConfig = Record<string, unknown>;

/** A tenant row. `api_key_hash` is the SHA-256 hex of the key; the key itself is never stored. */
export interface TenantRow {
  tenant_id: string;
  name: string;
  api_key_hash: string;
  config: StoredTenantConfig;
  webhook_secret: string | null;
  /** HS256 secret of signed user tokens, or null. */
  jwt_secret: string | null;
  /** Public JWKs (a JSON array, each with a unique kid), or null. */
  jwt_public_keys: JsonValue[] | null;
  created_at: Instant;
  updated_at: Instant;
}

/** The fields `update` replaces. */
export interface TenantUpdate {
  name: string;
  config: StoredTenantConfig;
  webhook_secret: string | null;
  jwt_secret: string | null;
  jwt_public_keys: JsonValue[] | null;
  updated_at: Instant;
}

/** Tenant reads (outside a transaction they see committed rows only). */
export interface TenantReads {
  get(tenantId: string): Promise<TenantRow | null>;
  /** The tenant whose key hashes to `hash` (unique), or null. */
  byKeyHash(hash: string): Promise<TenantRow | null>;
  /** Every tenant, oldest first (created_at, then tenant_id). */
  list(): Promise<TenantRow[]>;
}

/**
 * Tenant persistence inside a transaction. Unique: tenant_id; api_key_hash (an insert or key change
 * that collides throws UniqueViolationError("other")).
 */
export interface TenantStore extends TenantReads {
  insert(row: TenantRow): Promise<void>;
  /** Replaces name, config, secrets and keys; false when there is no such tenant. */
  update(tenantId: string, fields: TenantUpdate): Promise<boolean>;
  /** Replaces the key hash (the old key stops working at commit); false when there is no such tenant. */
  setKeyHash(tenantId: string, hash: string, updatedAt: Instant): Promise<boolean>;
}
