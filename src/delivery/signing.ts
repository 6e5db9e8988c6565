// Webhook request headers and the HMAC signature of docs/guides/webhooks.md.
import { createHmac } from "node:crypto";

/** `sha256=<hex HMAC-SHA256(secret, timestamp + "." + rawBody)>`. */
export function signWebhook(secret: string, timestampS: number, rawBody: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestampS}.${rawBody}`).digest("hex")}`;
}

/** The headers of one webhook POST; the signature only when the tenant has a secret. */
export function webhookHeaders(eventId: string, rawBody: string, secret: string | null, nowMs: number): Record<string, string> {
  const ts = Math.floor(nowMs / 1000);
  const h: Record<string, string> = {
    "Content-Type": "application/json",
    "User-Agent": "ChatAPI-Webhooks/1",
    "X-ChatAPI-Event-Id": eventId,
    "X-ChatAPI-Timestamp": String(ts),
  };
  if (secret) h["X-ChatAPI-Signature"] = signWebhook(secret, ts, rawBody);
  return h;
}
