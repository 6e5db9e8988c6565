// The contract of single-use WebSocket tokens (only their SHA-256 is stored).
import type { Instant } from "./store";

/** What a redeemed token names. */
export interface WsTokenGrant {
  tenant_id: string;
  user_id: string;
  expires_at: Instant;
}

/** /ws token persistence; every method runs inside a transaction (consume is a write). */
export interface WsTokenStore {
  /** Unique: token_hash (a collision throws UniqueViolationError("other")). */
  insert(hash: string, tenantId: string, userId: string, expiresAt: Instant): Promise<void>;
  /**
   * Deletes and returns the token: single use, so of two transactions consuming the same hash at
   * once exactly one gets the grant, the other null (also null when unknown). Expiry is the
   * caller's check (an expired token is consumed too, so it cannot be retried).
   */
  consume(hash: string): Promise<WsTokenGrant | null>;
  /** The token without using it up (null when unknown or already used). */
  peek(hash: string): Promise<WsTokenGrant | null>;
  /** Deletes tokens with expires_at < now; returns how many. */
  purgeExpired(now: Instant): Promise<number>;
}
