// SQL for single-use WebSocket tokens (stored as SHA-256).
import type { Database, Statement } from "bun:sqlite";

/** Persistence of /ws tokens. */
export interface WsTokenStore {
  insert(hash: string, tenantId: string, userId: string, expiresAtMs: number): void;
  /** Deletes and returns the token (single use); null when unknown or already used. */
  consume(hash: string): { tenant_id: string; user_id: string; expires_at: number } | null;
  /** The token without using it up (null when unknown or already used). */
  peek(hash: string): { tenant_id: string; user_id: string; expires_at: number } | null;
  /** Deletes expired tokens; returns how many. */
  purgeExpired(nowMs: number): number;
}

/** WsTokenStore on bun:sqlite. */
export class SqliteWsTokenStore implements WsTokenStore {
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
  peek(hash: string): { tenant_id: string; user_id: string; expires_at: number } | null {
    return this.qPeek.get(hash);
  }
  insert(hash: string, tenantId: string, userId: string, expiresAtMs: number): void {
    this.qInsert.run(hash, tenantId, userId, expiresAtMs);
  }
  consume(hash: string): { tenant_id: string; user_id: string; expires_at: number } | null {
    return this.qConsume.get(hash);
  }
  purgeExpired(nowMs: number): number {
    return this.qPurge.run(nowMs).changes;
  }
}
