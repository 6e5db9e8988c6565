// Tenants on PostgreSQL. `config` is a json object column.
import type { TenantRow, TenantStore, TenantUpdate } from "../tenant-store";
import { instant, jsonParam, type Conn } from "./conn";

function row(r: any): TenantRow {
  return {
    tenant_id: r.tenant_id,
    name: r.name,
    api_key_hash: r.api_key_hash,
    config: r.config,
    webhook_secret: r.webhook_secret,
    jwt_secret: r.jwt_secret ?? null,
    jwt_public_keys: r.jwt_public_keys ?? null,
    created_at: instant(r.created_at),
    updated_at: instant(r.updated_at),
  };
}

/** TenantStore on Bun.SQL. */
export class PgTenantStore implements TenantStore {
  constructor(private readonly c: Conn) {}

  async insert(r: TenantRow): Promise<void> {
    await this.c.q`INSERT INTO tenants (tenant_id, name, api_key_hash, config, webhook_secret, jwt_secret, jwt_public_keys, created_at, updated_at)
      VALUES (${r.tenant_id}, ${r.name}, ${r.api_key_hash}, ${JSON.stringify(r.config)}::text::json, ${r.webhook_secret}, ${r.jwt_secret},
        ${jsonParam(r.jwt_public_keys)}::text::json, ${r.created_at}::timestamptz, ${r.updated_at}::timestamptz)`;
  }
  async get(tenantId: string): Promise<TenantRow | null> {
    // In a transaction the row is locked: a config patch merges into what it read (see Conn.inTx).
    const [r] = this.c.inTx
      ? await this.c.q`SELECT * FROM tenants WHERE tenant_id = ${tenantId} FOR NO KEY UPDATE`
      : await this.c.q`SELECT * FROM tenants WHERE tenant_id = ${tenantId}`;
    return r ? row(r) : null;
  }
  async byKeyHash(hash: string): Promise<TenantRow | null> {
    const [r] = await this.c.q`SELECT * FROM tenants WHERE api_key_hash = ${hash}`;
    return r ? row(r) : null;
  }
  async list(): Promise<TenantRow[]> {
    return (await this.c.q`SELECT * FROM tenants ORDER BY created_at, tenant_id`).map(row);
  }
  async update(tenantId: string, f: TenantUpdate): Promise<boolean> {
    const r = await this.c.q`UPDATE tenants SET name = ${f.name}, config = ${JSON.stringify(f.config)}::text::json,
      webhook_secret = ${f.webhook_secret}, jwt_secret = ${f.jwt_secret}, jwt_public_keys = ${jsonParam(f.jwt_public_keys)}::text::json,
      updated_at = ${f.updated_at}::timestamptz WHERE tenant_id = ${tenantId}`;
    return r.count > 0;
  }
  async setKeyHash(tenantId: string, hash: string, updatedAt: string): Promise<boolean> {
    const r = await this.c.q`UPDATE tenants SET api_key_hash = ${hash}, updated_at = ${updatedAt}::timestamptz WHERE tenant_id = ${tenantId}`;
    return r.count > 0;
  }
}
