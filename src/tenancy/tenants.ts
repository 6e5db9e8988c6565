// Tenants: creation, configuration, key rotation, and the cached API-key lookup used by every request.
import { AppError, invalid, notFound, type ErrorDetail } from "../errors";
import type { Store } from "../storage/store";
import type { TenantRow } from "../storage/tenant-store";
import { checkJwtSecret, parsePublicJwks, type PublicJwk } from "./jwt-keys";
import { constantTimeEqual, generateSecret, sha256Hex } from "./keys";

/** Config keys a tenant may set (docs/reference/rest.md, Tenant). `null` resets a key to its default. */
export interface TenantConfigInput {
  rate_limit?: number | null;
  rate_limit_burst?: number | null;
  user_message_rate?: number | null;
  max_message_bytes?: number | null;
  max_attachment_bytes?: number | null;
  attachment_quota_bytes?: number | null;
  webhook_url?: string | null;
  webhook_secret?: string | null;
  max_connections?: number | null;
  max_pending_deliveries?: number | null;
  /** HS256 secret of signed user tokens (32..512 bytes); write-only. */
  jwt_secret?: string | null;
  /** Public JWKs (RS256, ES256, EdDSA), each with a unique kid. */
  jwt_public_keys?: unknown[] | null;
}

/** The resolved, public view of a tenant's config: numbers always resolved, secret write-only. */
export interface TenantConfigView {
  rate_limit: number;
  rate_limit_burst: number;
  user_message_rate: number;
  max_message_bytes: number;
  webhook_url: string | null;
  has_webhook_secret: boolean;
  has_jwt_secret: boolean;
  jwt_public_keys: PublicJwk[];
  max_attachment_bytes: number;
  attachment_quota_bytes: number;
  /** Open WebSockets of the tenant, over all nodes in cluster mode (WS_MAX_CONNECTIONS_PER_TENANT unless set). */
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
  /** Keys of signed user tokens; a new object whenever they change. */
  jwt: TenantJwtKeys;
  view: TenantView;
}

/** A tenant's keys of signed user tokens. */
export interface TenantJwtKeys {
  secret: string | null;
  publicKeys: PublicJwk[];
}

export const DEFAULT_MAX_MESSAGE_BYTES = 4000;
export const DEFAULT_USER_MESSAGE_RATE = 10;
export const DEFAULT_MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;
export const DEFAULT_ATTACHMENT_QUOTA_BYTES = 1024 * 1024 * 1024;
/** The upper bound of max_attachment_bytes (docs/reference/rest.md "Attachments"). */
export const MAX_ATTACHMENT_BYTES_LIMIT = 100 * 1024 * 1024;
const NEGATIVE_CACHE_MAX = 10_000;

interface StoredConfig {
  rate_limit?: number;
  rate_limit_burst?: number;
  user_message_rate?: number;
  max_message_bytes?: number;
  max_attachment_bytes?: number;
  attachment_quota_bytes?: number;
  webhook_url?: string;
  max_connections?: number;
  max_pending_deliveries?: number;
}

/** Checks config input beyond its schema (URL form, JWT keys); throws invalid_request with details; returns the normalized public keys. */
export function validateTenantConfig(input: TenantConfigInput): PublicJwk[] | null | undefined {
  const details: ErrorDetail[] = [];
  if (typeof input.jwt_secret === "string") details.push(...checkJwtSecret(input.jwt_secret));
  let keys: PublicJwk[] | null | undefined = input.jwt_public_keys === null ? null : undefined;
  if (Array.isArray(input.jwt_public_keys)) {
    const parsed = parsePublicJwks(input.jwt_public_keys);
    details.push(...parsed.problems);
    keys = parsed.keys;
  }
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
  return keys;
}

/** Process-wide defaults the tenant config falls back to. */
export interface TenantDefaults {
  rateLimit: number;
  maxAttachmentBytes?: number;
  attachmentQuotaBytes?: number;
  /** Tells the other nodes of a cluster that a tenant changed (they drop their cache). */
  announce?: (tenantId: string, jwtKeysChanged: boolean) => Promise<void>;
  /** WS_MAX_CONNECTIONS_PER_TENANT */
  maxConnections?: number;
  /** MAX_PENDING_DELIVERIES */
  maxPendingDeliveries?: number;
}

export const DEFAULT_MAX_CONNECTIONS = 10_000;
export const DEFAULT_MAX_PENDING_DELIVERIES = 100_000;

/** Owns tenants and the key -> tenant cache. One instance per process. */
export class TenantService {
  private readonly byHash = new Map<string, Tenant>();
  private readonly byId = new Map<string, Tenant>();
  private readonly unknownHashes = new Set<string>();
  // Bumped by every change: a lookup that started before a change must not cache what it read.
  private generation = 0;
  private readonly jwtListeners: ((tenantId: string) => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly defaults: TenantDefaults,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Creates a tenant; the plain API key is returned only here. */
  async create(name: string, config: TenantConfigInput = {}): Promise<{ tenant: Tenant; apiKey: string }> {
    const jwks = validateTenantConfig(config);
    const apiKey = generateSecret(32);
    const at = this.now().toISOString();
    const { stored, secret } = mergeConfig({}, null, config);
    const jwt = mergeJwt({ secret: null, publicKeys: [] }, config, jwks);
    const row: TenantRow = {
      tenant_id: Bun.randomUUIDv7(),
      name,
      api_key_hash: sha256Hex(apiKey),
      config: stored as Record<string, unknown>,
      webhook_secret: secret,
      jwt_secret: jwt.secret,
      jwt_public_keys: jwt.publicKeys.length ? jwt.publicKeys : null,
      created_at: at,
      updated_at: at,
    };
    await this.store.transaction(async (tx) => {
      await tx.tenants.insert(row);
      tx.afterCommit(() => {
        this.generation++;
        this.unknownHashes.clear();
      });
    });
    return { tenant: this.resolve(row), apiKey };
  }

  async list(): Promise<TenantView[]> {
    return (await this.store.tenants.list()).map((r) => this.resolve(r).view);
  }

  /** The tenant by id, or not_found. */
  async get(tenantId: string): Promise<Tenant> {
    const cached = this.byId.get(tenantId);
    if (cached) return cached;
    const gen = this.generation;
    const row = await this.store.tenants.get(tenantId);
    if (!row) throw notFound("tenant not found");
    return gen === this.generation ? this.cache(row) : this.resolve(row);
  }

  /** The tenant by id, or null. */
  async find(tenantId: string): Promise<Tenant | null> {
    try {
      return await this.get(tenantId);
    } catch (err) {
      if (err instanceof AppError && err.code === "not_found") return null;
      throw err;
    }
  }

  /** Calls `fn` after a PATCH changed a tenant's jwt_secret or jwt_public_keys (tokens must be re-verified). */
  onJwtKeysChanged(fn: (tenantId: string) => void): void {
    this.jwtListeners.push(fn);
  }

  /** The cached tenant by id, or null (no database read): for paths that must not wait. */
  cached(tenantId: string): Tenant | null {
    return this.byId.get(tenantId) ?? null;
  }

  /** Merges name and config keys; invalidates the cache. */
  async patch(tenantId: string, patch: { name?: string; config?: TenantConfigInput }): Promise<Tenant> {
    const jwks = patch.config ? validateTenantConfig(patch.config) : undefined;
    const { next, keysChanged } = await this.store.transaction(async (tx) => {
      const row = await tx.tenants.get(tenantId);
      if (!row) throw notFound("tenant not found");
      const { stored, secret } = mergeConfig(row.config as StoredConfig, row.webhook_secret, patch.config ?? {});
      const jwt = mergeJwt(jwtKeysOf(row), patch.config ?? {}, jwks);
      const fields = {
        name: patch.name ?? row.name,
        config: stored as Record<string, unknown>,
        webhook_secret: secret,
        jwt_secret: jwt.secret,
        jwt_public_keys: jwt.publicKeys.length ? jwt.publicKeys : null,
        updated_at: this.now().toISOString(),
      };
      await tx.tenants.update(tenantId, fields);
      tx.afterCommit(() => this.forget(tenantId));
      const changed = fields.jwt_secret !== row.jwt_secret || JSON.stringify(fields.jwt_public_keys) !== JSON.stringify(row.jwt_public_keys ?? null);
      return { next: { ...row, ...fields }, keysChanged: changed };
    });
    const tenant = this.cache(next);
    if (keysChanged) for (const fn of this.jwtListeners) fn(tenantId);
    // Answered once the other nodes have been told (they drop their copy; on a key change they
    // re-verify their JWT sockets too).
    await this.announce(tenantId, keysChanged);
    return tenant;
  }

  /** Issues a new key; the old one stops working at once. */
  async rotateKey(tenantId: string): Promise<{ tenantId: string; apiKey: string }> {
    const apiKey = generateSecret(32);
    await this.store.transaction(async (tx) => {
      if (!(await tx.tenants.setKeyHash(tenantId, sha256Hex(apiKey), this.now().toISOString()))) throw notFound("tenant not found");
      tx.afterCommit(() => this.forget(tenantId));
    });
    await this.announce(tenantId);
    return { tenantId, apiKey };
  }

  /** From the caches only: the tenant of this key, null when known to be unknown, undefined when not cached. */
  authenticateCached(apiKey: string): Tenant | null | undefined {
    const hash = sha256Hex(apiKey);
    const cached = this.byHash.get(hash);
    if (cached) return cached;
    return this.unknownHashes.has(hash) ? null : undefined;
  }

  /** The tenant owning this API key, or null. Cached; unknown keys are cached negatively (bounded). */
  async authenticate(apiKey: string): Promise<Tenant | null> {
    const hash = sha256Hex(apiKey);
    const cached = this.byHash.get(hash);
    if (cached) return cached;
    if (this.unknownHashes.has(hash)) return null;
    const gen = this.generation;
    const row = await this.store.tenants.byKeyHash(hash);
    if (!row || !constantTimeEqual(row.api_key_hash, hash)) {
      if (gen !== this.generation) return null;
      if (this.unknownHashes.size >= NEGATIVE_CACHE_MAX) this.unknownHashes.clear();
      this.unknownHashes.add(hash);
      return null;
    }
    return gen === this.generation ? this.cache(row) : this.resolve(row);
  }

  private cache(row: TenantRow): Tenant {
    const t = this.resolve(row);
    this.byHash.set(row.api_key_hash, t);
    this.byId.set(row.tenant_id, t);
    return t;
  }

  /** Another node changed this tenant: drop what is cached so the next request reads the store; a JWT key change also re-verifies this node's tokens. */
  invalidate(tenantId: string, jwtKeysChanged = false): void {
    this.forget(tenantId);
    this.unknownHashes.clear();
    if (jwtKeysChanged) for (const fn of this.jwtListeners) fn(tenantId);
  }

  private async announce(tenantId: string, jwtKeysChanged = false): Promise<void> {
    await this.defaults.announce?.(tenantId, jwtKeysChanged).catch(() => {});
  }

  private forget(tenantId: string): void {
    this.generation++;
    this.byId.delete(tenantId);
    for (const [h, t] of this.byHash) if (t.id === tenantId) this.byHash.delete(h);
  }

  private resolve(row: TenantRow): Tenant {
    const c = row.config as StoredConfig;
    const jwt = jwtKeysOf(row);
    const rate = c.rate_limit ?? this.defaults.rateLimit;
    const config: TenantConfigView = {
      rate_limit: rate,
      rate_limit_burst: c.rate_limit_burst ?? rate * 2,
      user_message_rate: c.user_message_rate ?? DEFAULT_USER_MESSAGE_RATE,
      max_message_bytes: c.max_message_bytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      webhook_url: c.webhook_url ?? null,
      has_webhook_secret: row.webhook_secret !== null,
      has_jwt_secret: row.jwt_secret !== null,
      jwt_public_keys: jwt.publicKeys,
      max_attachment_bytes: c.max_attachment_bytes ?? this.defaults.maxAttachmentBytes ?? DEFAULT_MAX_ATTACHMENT_BYTES,
      attachment_quota_bytes: c.attachment_quota_bytes ?? this.defaults.attachmentQuotaBytes ?? DEFAULT_ATTACHMENT_QUOTA_BYTES,
      max_connections: c.max_connections ?? this.defaults.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      max_pending_deliveries: c.max_pending_deliveries ?? this.defaults.maxPendingDeliveries ?? DEFAULT_MAX_PENDING_DELIVERIES,
    };
    const view: TenantView = { tenant_id: row.tenant_id, name: row.name, config, created_at: row.created_at };
    return { id: row.tenant_id, name: row.name, config, webhookSecret: row.webhook_secret, jwt, view };
  }
}

function mergeConfig(
  current: StoredConfig,
  currentSecret: string | null,
  input: TenantConfigInput,
): { stored: StoredConfig; secret: string | null } {
  const stored: StoredConfig = { ...current };
  const numeric = ["rate_limit", "rate_limit_burst", "user_message_rate", "max_message_bytes", "max_attachment_bytes", "attachment_quota_bytes", "max_connections", "max_pending_deliveries"] as const;
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

function jwtKeysOf(row: TenantRow): TenantJwtKeys {
  return { secret: row.jwt_secret ?? null, publicKeys: (row.jwt_public_keys as PublicJwk[] | null) ?? [] };
}

// `null` clears a key, an absent key keeps it; the public keys are replaced as a whole list.
function mergeJwt(current: TenantJwtKeys, input: TenantConfigInput, jwks: PublicJwk[] | null | undefined): TenantJwtKeys {
  const secret = input.jwt_secret === undefined ? current.secret : input.jwt_secret;
  const publicKeys = jwks === undefined ? current.publicKeys : (jwks ?? []);
  return { secret, publicKeys };
}
