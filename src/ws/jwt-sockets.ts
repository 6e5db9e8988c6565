// Sockets opened with a signed user token (JWT): closed with 4001 `token expired` once the token's
// exp + leeway has passed, or as soon as it no longer verifies after a key change of its tenant.
import { WS_CLOSE } from "../errors";
import type { Logger } from "../log";
import type { JwtVerifier } from "../tenancy/jwt";
import type { Socket } from "./registry";

/** The expiry timers and key-change re-verification of JWT sockets; the gateway calls it at open, close and key changes. */
export class JwtSockets {
  constructor(
    private readonly jwt: JwtVerifier | undefined,
    private readonly log: Logger,
  ) {}

  /** A socket opened: when it came with a JWT, close it by exp + leeway (the token was accepted up to then). */
  opened(ws: Socket): void {
    const expMs = ws.data.jwtExpMs;
    if (expMs === undefined) return;
    const leewayMs = this.jwt?.leewayMs ?? 0;
    ws.data.jwtTimer = setTimeout(() => this.end(ws), Math.max(0, expMs + leewayMs - Date.now()));
    ws.data.jwtTimer.unref?.();
  }

  /** A socket closed: its timer goes. */
  closed(ws: Socket): void {
    if (ws.data.jwtTimer !== undefined) clearTimeout(ws.data.jwtTimer);
  }

  /**
   * The tenant's JWT keys changed (its cached verifications are already gone): each of its sockets
   * opened with a JWT is verified again and closed with 4001 when its token no longer verifies.
   */
  revalidate(tenantId: string, sockets: Iterable<Socket>): void {
    const jwt = this.jwt;
    if (!jwt) return;
    // A copy: closing a socket removes it from the registry being iterated.
    for (const ws of [...sockets]) {
      const token = ws.data.jwt;
      if (ws.data.tenantId !== tenantId || token === undefined) continue;
      const end = () => this.end(ws);
      try {
        const v = jwt.verify(token);
        if (v instanceof Promise) v.then((c) => c.tenant.id !== tenantId && end(), end);
        else if (v.tenant.id !== tenantId) end();
      } catch {
        end();
      }
    }
  }

  private end(ws: Socket): void {
    if (ws.readyState > 1) return;
    this.log.info({ tenant_id: ws.data.tenantId, user_id: ws.data.userId, connection_id: ws.data.connectionId }, "closing socket: its user token expired or no longer verifies");
    ws.close(WS_CLOSE.tokenExpired, "token expired");
  }
}
