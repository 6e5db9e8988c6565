// Single-use, short-lived WebSocket tokens for browsers (the app's backend mints them with its key).
import { AppError } from "../errors";
import type { Store } from "../storage/store";
import { generateSecret, sha256Hex } from "../tenancy/keys";

/** Mints and redeems /ws tokens. Tokens survive key rotation; they are bound to tenant and user. */
export class WsTokenService {
  constructor(
    private readonly store: Store,
    private readonly ttlMs: number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** A new token for (tenant, user); only its hash is stored. */
  async mint(tenantId: string, userId: string): Promise<{ token: string; expires_in: number }> {
    const token = generateSecret(32);
    const hash = sha256Hex(token);
    const expiresAt = new Date(this.now() + this.ttlMs).toISOString();
    await this.store.transaction((tx) => tx.wsTokens.insert(hash, tenantId, userId, expiresAt));
    return { token, expires_in: Math.floor(this.ttlMs / 1000) };
  }

  /**
   * Checks a token without using it up (unauthorized when unknown, used or expired): the handshake
   * runs every other check after this one and redeems only when it is about to upgrade, so a refused
   * handshake leaves the token usable.
   */
  async check(token: string): Promise<{ tenantId: string; userId: string }> {
    if (token.length < 16 || token.length > 128) throw new AppError("unauthorized", "invalid token");
    const hash = sha256Hex(token);
    const row = await this.store.transaction((tx) => tx.wsTokens.peek(hash));
    if (!row) throw new AppError("unauthorized", "invalid or already used token");
    if (Date.parse(row.expires_at) < this.now()) throw new AppError("unauthorized", "token expired");
    return { tenantId: row.tenant_id, userId: row.user_id };
  }

  /** Redeems a token once (of two concurrent redeems one wins); throws unauthorized when unknown, used or expired. */
  async redeem(token: string): Promise<{ tenantId: string; userId: string }> {
    if (token.length < 16 || token.length > 128) throw new AppError("unauthorized", "invalid token");
    const hash = sha256Hex(token);
    const row = await this.store.transaction((tx) => tx.wsTokens.consume(hash));
    if (!row) throw new AppError("unauthorized", "invalid or already used token");
    if (Date.parse(row.expires_at) < this.now()) throw new AppError("unauthorized", "token expired");
    return { tenantId: row.tenant_id, userId: row.user_id };
  }

  /** Deletes expired tokens (the retention worker also does this). */
  purge(): Promise<number> {
    const now = new Date(this.now()).toISOString();
    return this.store.transaction((tx) => tx.wsTokens.purgeExpired(now));
  }
}
