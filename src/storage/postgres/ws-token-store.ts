// Single-use WebSocket tokens on PostgreSQL.
import type { WsTokenGrant, WsTokenStore } from "../ws-token-store";
import { instant, type Conn } from "./conn";

/** WsTokenStore on Bun.SQL. */
export class PgWsTokenStore implements WsTokenStore {
  constructor(private readonly c: Conn) {}

  async insert(hash: string, tenantId: string, userId: string, expiresAt: string): Promise<void> {
    await this.c.q`INSERT INTO ws_tokens (token_hash, tenant_id, user_id, expires_at) VALUES (${hash}, ${tenantId}, ${userId}, ${expiresAt}::timestamptz)`;
  }
  async consume(hash: string): Promise<WsTokenGrant | null> {
    // DELETE ... RETURNING: of two transactions consuming one token, the second waits for the
    // first's row lock, then finds the row gone and returns nothing.
    const [r] = await this.c.q`DELETE FROM ws_tokens WHERE token_hash = ${hash} RETURNING tenant_id, user_id, expires_at`;
    return r ? { tenant_id: r.tenant_id, user_id: r.user_id, expires_at: instant(r.expires_at) } : null;
  }
  async peek(hash: string): Promise<WsTokenGrant | null> {
    const [r] = await this.c.q`SELECT tenant_id, user_id, expires_at FROM ws_tokens WHERE token_hash = ${hash}`;
    return r ? { tenant_id: r.tenant_id, user_id: r.user_id, expires_at: instant(r.expires_at) } : null;
  }
  async purgeExpired(now: string): Promise<number> {
    const r = await this.c.q`DELETE FROM ws_tokens WHERE expires_at < ${now}::timestamptz`;
    return r.count;
  }
}
