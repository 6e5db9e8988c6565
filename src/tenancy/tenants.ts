// Tenants: creation, configuration, key rotation, and the cached API-key lookup used by every request.
import { AppError, invalid, notFound } from "../errors";
import type { TenantRow, TenantStore } from "../storage/tenant-store";
import { constantTimeEqual, generateSecret, sha256Hex } from "./keys";

/** Config keys a tenant may set (API.md section 3, Tenant). `null` resets a key to its default. */
export interface TenantConfigInput {
  rate_limit?: number | null;
  rate_limit_burst?: number | null;
  user_message_rate?: number | null;
  max_message_bytes?: number | null;
  webhook_url?: string | null;
  webhook_secret?: string | null;
  max_connections?: number | null;
  max_pending_deliveries?: number | null;
}

/** The resolved, public view of a tenant's config: numbers always resolved, secret write-only. */
export interface TenantConfigView {
  rate_limit: number;
  rate_limit_burst: number;
  user_message_rate: number;
  max_message_bytes: number;
  webhook_url: string | null;
  has_webhook_secret: boolean;
  /** Open WebSockets of the tenant on one node (WS_MAX_CONNECTIONS_PER_TENANT unless set). */
  max_connections: number;
  /** Pending webhook deliveries past which new ones become dead letters (MAX_PENDING_DELIVERIES unless set). */
  max_pending_deliveries: number;
}

/** The public Tenant object. */
export interface TenantView {
  tenant_id: string;
  name: string;
  config: TenantConfigView;
  created_at: string;
}

/** A tenant as the request path needs it, resolved once and cached until it changes. */
export interface Tenant {
  id: string;
  name: string;
  config: TenantConfigView;
  webhookSecret: string | null;
  view: TenantView;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 4000;
export const DEFAULT_USER_MESSAGE_RATE = 10;
const NEGATIVE_CACHE_MAX = 10_000;

interface StoredConfig {
  rate_limit?: number;
  rate_limit_burst?: number;
  user_message_rate?: number;
  max_message_bytes?: number;
  webhook_url?: string;
  max_connections?: number;
  max_pending_deliveries?: number;
}

/** Process-wide defaults the tenant config falls back to. */
export interface TenantDefaults {
  rateLimit: number;
  /** WS_MAX_CONNECTIONS_PER_TENANT */
  maxConnections?: number;
  /** MAX_PENDING_DELIVERIES */
  maxPendingDeliveries?: number;
}

export const DEFAULT_MAX_CONNECTIONS = 10_000;
export const DEFAULT_MAX_PENDING_DELIVERIES = 100_000;

/** Checks config input beyond its schema (URL form, cross-field rules); throws invalid_request with details. */
export function validateTenantConfig(input: TenantConfigInput): void {
  const details: { path: string; message: string }[] = [];
  if (typeof input.webhook_url === "string") {
    let ok = false;
    try {
      const u = new URL(input.webhook_url);
      ok = (u.protocol === "http:" || u.protocol === "https:") && u.hostname.length > 0;
    } catch {
      ok = false;
    }
    if (!ok) details.push({ path: "/config/webhook_url", message: "must be an absolute http(s) URL" });
  }
  if (details.length) throw invalid("invalid tenant config", details);
}

/** Owns tenants and the key -> tenant cache. One instance per process. */
export class TenantService {
  private readonly byHash = new Map<string, Tenant>();
  private readonly byId = new Map<string, Tenant>();
  private readonly unknownHashes = new Set<string>();

  constructor(
    private readonly store: TenantStore,
    private readonly defaults: TenantDefaults,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Creates a tenant; the plain API key is returned only here. */
  create(name: string, config: TenantConfigInput = {}): { tenant: Tenant; apiKey: string } {
    validateTenantConfig(config);
    const apiKey = generateSecret(32);
    const at = this.now().toISOString();
    const { stored, secret } = mergeConfig({}, null, config);
    const row: TenantRow = {
      tenant_id: Bun.randomUUIDv7(),
      name,
      api_key_hash: sha256Hex(apiKey),
      config: JSON.stringify(stored),
      webhook_secret: secret,
      created_at: at,
      updated_at: at,
    };
    this.store.insert(row);
    this.unknownHashes.clear();
    return { tenant: this.resolve(row), apiKey };
  }

  list(): TenantView[] {
    return this.store.list().map((r) => this.resolve(r).view);
  }

  /** The tenant by id, or not_found. */
  get(tenantId: string): Tenant {
    const cached = this.byId.get(tenantId);
    if (cached) return cached;
    const row = this.store.get(tenantId);
    if (!row) throw notFound("tenant not found");
    return this.cache(row);
  }

  /** Merges name and config keys; invalidates the cache. */
  patch(tenantId: string, patch: { name?: string; config?: TenantConfigInput }): Tenant {
    const row = this.store.get(tenantId);
    if (!row) throw notFound("tenant not found");
    if (patch.config) validateTenantConfig(patch.config);
    const { stored, secret } = mergeConfig(JSON.parse(row.config) as StoredConfig, row.webhook_secret, patch.config ?? {});
    const fields = {
      name: patch.name ?? row.name,
      config: JSON.stringify(stored),
      webhook_secret: secret,
      updated_at: this.now().toISOString(),
    };
    this.store.update(tenantId, fields);
    this.forget(tenantId);
    return this.cache({ ...row, ...fields });
  }

  /** Issues a new key; the old one stops working at once. */
  rotateKey(tenantId: string): { tenantId: string; apiKey: string } {
    const row = this.store.get(tenantId);
    if (!row) throw notFound("tenant not found");
    const apiKey = generateSecret(32);
    this.store.setKeyHash(tenantId, sha256Hex(apiKey), this.now().toISOString());
    this.forget(tenantId);
    return { tenantId, apiKey };
  }

  /** The tenant owning this API key, or null. Cached; unknown keys are cached negatively (bounded). */
  authenticate(apiKey: string): Tenant | null {
    const hash = sha256Hex(apiKey);
    const cached = this.byHash.get(hash);
    if (cached) return cached;
    if (this.unknownHashes.has(hash)) return null;
    const row = this.store.byKeyHash(hash);
    if (!row || !constantTimeEqual(row.api_key_hash, hash)) {
      if (this.unknownHashes.size >= NEGATIVE_CACHE_MAX) this.unknownHashes.clear();
      this.unknownHashes.add(hash);
      return null;
    }
    return this.cache(row);
  }

  private cache(row: TenantRow): Tenant {
    const t = this.resolve(row);
    this.byHash.set(row.api_key_hash, t);
    this.byId.set(row.tenant_id, t);
    return t;
  }

  private forget(tenantId: string): void {
    this.byId.delete(tenantId);
    for (const [h, t] of this.byHash) if (t.id === tenantId) this.byHash.delete(h);
  }

  private resolve(row: TenantRow): Tenant {
    const c = JSON.parse(row.config) as StoredConfig;
    const rate = c.rate_limit ?? this.defaults.rateLimit;
    const config: TenantConfigView = {
      rate_limit: rate,
      rate_limit_burst: c.rate_limit_burst ?? rate * 2,
      user_message_rate: c.user_message_rate ?? DEFAULT_USER_MESSAGE_RATE,
      max_message_bytes: c.max_message_bytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      webhook_url: c.webhook_url ?? null,
      has_webhook_secret: row.webhook_secret !== null,
      max_connections: c.max_connections ?? this.defaults.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      max_pending_deliveries: c.max_pending_deliveries ?? this.defaults.maxPendingDeliveries ?? DEFAULT_MAX_PENDING_DELIVERIES,
    };
    const view: TenantView = { tenant_id: row.tenant_id, name: row.name, config, created_at: row.created_at };
    return { id: row.tenant_id, name: row.name, config, webhookSecret: row.webhook_secret, view };
  }
}

function mergeConfig(
  current: StoredConfig,
  currentSecret: string | null,
  input: TenantConfigInput,
): { stored: StoredConfig; secret: string | null } {
  const stored: StoredConfig = { ...current };
  const numeric = ["rate_limit", "rate_limit_burst", "user_message_rate", "max_message_bytes", "max_connections", "max_pending_deliveries"] as const;
  for (const k of numeric) {
    const v = input[k];
    if (v === null) delete stored[k];
    else if (v !== undefined) stored[k] = v;
  }
  if (input.webhook_url === null) delete stored.webhook_url;
  else if (input.webhook_url !== undefined) stored.webhook_url = input.webhook_url;
  let secret = currentSecret;
  if (input.webhook_secret === null) secret = null;
  else if (input.webhook_secret !== undefined) secret = input.webhook_secret;
  if (stored.rate_limit_burst !== undefined && stored.rate_limit_burst < 1) throw new AppError("invalid_request", "rate_limit_burst must be >= 1");
  return { stored, secret };
}
