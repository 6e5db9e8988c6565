// Dead letters: deliveries that used every attempt. Listed and re-queued per tenant (tenant key only).
import { notFound } from "../errors";
import type { DeliveryKind, DeliveryRow } from "../storage/delivery-store";
import type { Store } from "../storage/store";
import type { Tenant } from "../tenancy/tenants";

/** docs/reference/rest.md DeadLetter; `payload` is the webhook body as a JSON object. */
export interface DeadLetter {
  id: string;
  kind: DeliveryKind;
  target_url: string | null;
  attempts: number;
  last_error: string | null;
  payload: Record<string, unknown>;
  created_at: string;
  last_attempt_at: string | null;
}

/** The webhook URL as shown to the tenant: without credentials (`user:pass@`). */
export function redactUrl(url: string | null): string | null {
  if (url === null) return null;
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = "";
    u.password = "";
    return u.toString();
  } catch {
    return null;
  }
}

// What last_error may say; anything else (rows written before errors were sanitized) is shown generically.
const SAFE_ERROR = /^(HTTP \d{3}|timeout after \d+ ms|network error( \([A-Za-z0-9_]{1,40}\))?|tenant has no webhook_url|tenant not found|outbox quota exceeded: [\w ()]+)$/;

/** last_error as shown to the tenant: a known, host-free form. */
export function safeLastError(e: string | null): string | null {
  return e === null || SAFE_ERROR.test(e) ? e : "network error";
}

function toDeadLetter(r: DeliveryRow): DeadLetter {
  return {
    id: r.delivery_id,
    kind: r.kind,
    target_url: redactUrl(r.target_url),
    attempts: r.attempts,
    last_error: safeLastError(r.last_error),
    payload: JSON.parse(r.payload) as Record<string, unknown>,
    created_at: r.created_at,
    last_attempt_at: r.last_attempt_at,
  };
}

/** The dead-letter list of one tenant and its retry. */
export class DeadLetterService {
  constructor(
    private readonly d: { store: Store; worker: { wake(): void }; now?: () => number },
  ) {}

  /** This tenant's dead letters, newest first (another tenant's never appear). */
  async list(tenant: Tenant, limit = 100): Promise<DeadLetter[]> {
    return (await this.d.store.deliveries.listDead(tenant.id, limit)).map(toDeadLetter);
  }

  /** Back to pending with attempts 0, attempted at once; not_found for an id that is not this tenant's dead letter. */
  async retry(tenant: Tenant, id: string): Promise<void> {
    const now = new Date((this.d.now ?? Date.now)()).toISOString();
    const ok = await this.d.store.transaction(async (tx) => {
      const requeued = await tx.deliveries.requeueDead(tenant.id, id, now);
      if (requeued) tx.afterCommit(() => this.d.worker.wake());
      return requeued;
    });
    if (!ok) throw notFound("dead letter not found");
  }
}
