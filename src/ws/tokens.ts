// Single-use, short-lived WebSocket tokens for browsers (the app's backend mints them with its key).
import { AppError } from "../errors";
import type { WsTokenStore } from "../storage/ws-token-store";
import { generateSecret, sha256Hex } from "../tenancy/keys";
import type { Writer } from "../storage/writer";

/** Mints and redeems /ws tokens. Tokens survive key rotation; they are bound to tenant and user. */
export class WsTokenService {
  constructor(
    private readonly store: WsTokenStore,
    private readonly writer: Writer,
    private readonly ttlMs: number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** A new token for (tenant, user); only its hash is stored. */
  async mint(tenantId: string, userId: string): Promise<{ token: string; expires_in: number }> {
    const token = generateSecret(32);
    const hash = sha256Hex(token);
    await this.writer.submit(() => this.store.insert(hash, tenantId, userId, this.now() + this.ttlMs));
    return { token, expires_in: Math.floor(this.ttlMs / 1000) };
  }

  /**
   * Checks a token without using it up (unauthorized when unknown, used or expired): the handshake
   * runs every other check after this one and redeems only when it is about to upgrade, so a refused
   * handshake leaves the token usable.
   */
  check(token: string): { tenantId: string; userId: string } {
    if (token.length < 16 || token.length > 128) throw new AppError("unauthorized", "invalid token");
    const row = this.store.peek(sha256Hex(token));
    if (!row) throw new AppError("unauthorized", "invalid or already used token");
    if (row.expires_at < this.now()) throw new AppError("unauthorized", "token expired");
    return { tenantId: row.tenant_id, userId: row.user_id };
  }

  /** Redeems a token once; throws unauthorized when unknown, used or expired. Synchronous (runs in the upgrade). */
  redeem(token: string): { tenantId: string; userId: string } {
    if (token.length < 16 || token.length > 128) throw new AppError("unauthorized", "invalid token");
    const row = this.store.consume(sha256Hex(token));
    if (!row) throw new AppError("unauthorized", "invalid or already used token");
    if (row.expires_at < this.now()) throw new AppError("unauthorized", "token expired");
    return { tenantId: row.tenant_id, userId: row.user_id };
  }

  /** Deletes expired tokens (worker). */
  purge(): number {
    return this.store.purgeExpired(this.now());
  }
}
