// Tenants on bun:sqlite. `config` is a JSON object column.
import type { Database, Statement } from "bun:sqlite";
import type { TenantRow, TenantStore, TenantUpdate } from "../tenant-store";
import type { Sync } from "./facade";

type Raw = Omit<TenantRow, "config" | "jwt_public_keys"> & { config: string; jwt_public_keys: string | null };

function row(r: Raw | null): TenantRow | null {
  if (!r) return null;
  return { ...r, config: JSON.parse(r.config) as TenantRow["config"], jwt_public_keys: r.jwt_public_keys === null ? null : (JSON.parse(r.jwt_public_keys) as TenantRow["jwt_public_keys"]) };
}

const keysColumn = (keys: TenantRow["jwt_public_keys"]) => (keys === null ? null : JSON.stringify(keys));

/** Method names of TenantStore (the facade forwards these). */
export const TENANT_METHODS = ["get", "byKeyHash", "list", "insert", "update", "setKeyHash"] as const;

/** TenantStore statements, prepared once per connection. */
export class SqliteTenantStore implements Sync<TenantStore> {
  private readonly qInsert: Statement;
  private readonly qGet: Statement<Raw, [string]>;
  private readonly qByHash: Statement<Raw, [string]>;
  private readonly qList: Statement<Raw, []>;
  private readonly qUpdate: Statement;
  private readonly qSetKey: Statement;

  constructor(db: Database) {
    this.qInsert = db.query(
      "INSERT INTO tenants (tenant_id, name, api_key_hash, config, webhook_secret, jwt_secret, jwt_public_keys, created_at, updated_at) VALUES ($tenant_id, $name, $api_key_hash, $config, $webhook_secret, $jwt_secret, $jwt_public_keys, $created_at, $updated_at)",
    );
    const cols = "tenant_id, name, api_key_hash, config, webhook_secret, jwt_secret, jwt_public_keys, created_at, updated_at";
    this.qGet = db.query(`SELECT ${cols} FROM tenants WHERE tenant_id = ?`);
    this.qByHash = db.query(`SELECT ${cols} FROM tenants WHERE api_key_hash = ?`);
    this.qList = db.query(`SELECT ${cols} FROM tenants ORDER BY created_at, tenant_id`);
    this.qUpdate = db.query(
      "UPDATE tenants SET name = $name, config = $config, webhook_secret = $webhook_secret, jwt_secret = $jwt_secret, jwt_public_keys = $jwt_public_keys, updated_at = $updated_at WHERE tenant_id = $tenant_id",
    );
    this.qSetKey = db.query("UPDATE tenants SET api_key_hash = ?, updated_at = ? WHERE tenant_id = ?");
  }

  insert(r: TenantRow): void {
    this.qInsert.run({ ...r, config: JSON.stringify(r.config), jwt_public_keys: keysColumn(r.jwt_public_keys) } as never);
  }
  get(tenantId: string): TenantRow | null {
    return row(this.qGet.get(tenantId));
  }
  byKeyHash(hash: string): TenantRow | null {
    return row(this.qByHash.get(hash));
  }
  list(): TenantRow[] {
    return this.qList.all().map((r) => row(r)!);
  }
  update(tenantId: string, f: TenantUpdate): boolean {
    return this.qUpdate.run({ tenant_id: tenantId, ...f, config: JSON.stringify(f.config), jwt_public_keys: keysColumn(f.jwt_public_keys) } as never).changes > 0;
  }
  setKeyHash(tenantId: string, hash: string, updatedAt: string): boolean {
    return this.qSetKey.run(hash, updatedAt, tenantId).changes > 0;
  }
}
