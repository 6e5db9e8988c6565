// SQL for tenants. The only place tenant rows are read or written.
import type { Database, Statement } from "bun:sqlite";

/** A tenant row as stored; `config` holds only the keys set explicitly. */
export interface TenantRow {
  tenant_id: string;
  name: string;
  api_key_hash: string;
  config: string;
  webhook_secret: string | null;
  /** HS256 secret of signed user tokens, or null. */
  jwt_secret: string | null;
  /** JSON array of public JWKs, or null. */
  jwt_public_keys: string | null;
  created_at: string;
  updated_at: string;
}

/** The mutable fields of a tenant row (PATCH). */
export interface TenantUpdate {
  name: string;
  config: string;
  webhook_secret: string | null;
  jwt_secret: string | null;
  jwt_public_keys: string | null;
  updated_at: string;
}

/** Persistence of tenants and their key hashes. */
export interface TenantStore {
  insert(row: TenantRow): void;
  get(tenantId: string): TenantRow | null;
  byKeyHash(hash: string): TenantRow | null;
  list(): TenantRow[];
  update(tenantId: string, fields: TenantUpdate): void;
  setKeyHash(tenantId: string, hash: string, updatedAt: string): void;
}

/** TenantStore on bun:sqlite with statements prepared once. */
export class SqliteTenantStore implements TenantStore {
  private readonly qInsert: Statement;
  private readonly qGet: Statement<TenantRow, [string]>;
  private readonly qByHash: Statement<TenantRow, [string]>;
  private readonly qList: Statement<TenantRow, []>;
  private readonly qUpdate: Statement;
  private readonly qSetKey: Statement;

  constructor(db: Database) {
    this.qInsert = db.query(
      "INSERT INTO tenants (tenant_id, name, api_key_hash, config, webhook_secret, jwt_secret, jwt_public_keys, created_at, updated_at) VALUES ($tenant_id, $name, $api_key_hash, $config, $webhook_secret, $jwt_secret, $jwt_public_keys, $created_at, $updated_at)",
    );
    this.qGet = db.query("SELECT * FROM tenants WHERE tenant_id = ?");
    this.qByHash = db.query("SELECT * FROM tenants WHERE api_key_hash = ?");
    this.qList = db.query("SELECT * FROM tenants ORDER BY created_at, tenant_id");
    this.qUpdate = db.query(
      "UPDATE tenants SET name = $name, config = $config, webhook_secret = $webhook_secret, jwt_secret = $jwt_secret, jwt_public_keys = $jwt_public_keys, updated_at = $updated_at WHERE tenant_id = $tenant_id",
    );
    this.qSetKey = db.query("UPDATE tenants SET api_key_hash = ?, updated_at = ? WHERE tenant_id = ?");
  }

  insert(row: TenantRow): void {
    this.qInsert.run(row as never);
  }
  get(tenantId: string): TenantRow | null {
    return this.qGet.get(tenantId);
  }
  byKeyHash(hash: string): TenantRow | null {
    return this.qByHash.get(hash);
  }
  list(): TenantRow[] {
    return this.qList.all();
  }
  update(tenantId: string, f: TenantUpdate): void {
    this.qUpdate.run({ tenant_id: tenantId, ...f } as never);
  }
  setKeyHash(tenantId: string, hash: string, updatedAt: string): void {
    this.qSetKey.run(hash, updatedAt, tenantId);
  }
}
