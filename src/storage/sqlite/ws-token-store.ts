// Single-use WebSocket tokens on bun:sqlite (expires_at is an integer ms column).
import type { Database, Statement } from "bun:sqlite";
import type { WsTokenGrant, WsTokenStore } from "../ws-token-store";
import type { Sync } from "./facade";
import { instantToMs, msToInstant } from "./json";

/** Method names of WsTokenStore. */
export const WS_TOKEN_METHODS = ["insert", "consume", "peek", "purgeExpired"] as const;

/** WsTokenStore statements. */
export class SqliteWsTokenStore implements Sync<WsTokenStore> {
  private readonly qInsert: Statement;
  private readonly qConsume: Statement<{ tenant_id: string; user_id: string; expires_at: number }, [string]>;
  private readonly qPurge: Statement;
  private readonly qPeek: Statement<{ tenant_id: string; user_id: string; expires_at: number }, [string]>;

  constructor(db: Database) {
    this.qInsert = db.query("INSERT INTO ws_tokens (token_hash, tenant_id, user_id, expires_at) VALUES (?, ?, ?, ?)");
    this.qConsume = db.query("DELETE FROM ws_tokens WHERE token_hash = ? RETURNING tenant_id, user_id, expires_at");
    this.qPurge = db.query("DELETE FROM ws_tokens WHERE expires_at < ?");
    this.qPeek = db.query("SELECT tenant_id, user_id, expires_at FROM ws_tokens WHERE token_hash = ?");
  }
  insert(hash: string, tenantId: string, userId: string, expiresAt: string): void {
    this.qInsert.run(hash, tenantId, userId, instantToMs(expiresAt));
  }
  consume(hash: string): WsTokenGrant | null {
    const r = this.qConsume.get(hash);
    return r ? { tenant_id: r.tenant_id, user_id: r.user_id, expires_at: msToInstant(r.expires_at) } : null;
  }
  peek(hash: string): WsTokenGrant | null {
    const r = this.qPeek.get(hash);
    return r ? { tenant_id: r.tenant_id, user_id: r.user_id, expires_at: msToInstant(r.expires_at) } : null;
  }
  purgeExpired(now: string): number {
    return this.qPurge.run(instantToMs(now)).changes;
  }
}
