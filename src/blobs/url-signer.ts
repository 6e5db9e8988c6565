// Signed attachment URLs (docs/reference/rest.md "Attachments"): `/attachments/<id>?expires=<unix s>&signature=<hex>`,
// HMAC-SHA256 over the id and the expiry with a server secret: DATA_DIR/attachment-url.key (0600) on
// SQLite, the database on PostgreSQL (so every node of a cluster verifies the same signatures).
import { createHmac, timingSafeEqual } from "node:crypto";
import { chmodSync, existsSync, openSync, readFileSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";
import type { Store } from "../storage/store";
import { ensurePrivateDir } from "../storage/private-files";
import { generateSecret } from "../tenancy/keys";

const SECRET_NAME = "attachment_url";

/** Loads (creating on first use) the signing secret of attachment URLs. */
export async function loadUrlSecret(store: Store, dataDir: string): Promise<string> {
  if (store.kind === "postgres") return store.transaction((tx) => tx.attachments.sharedSecret(SECRET_NAME, generateSecret(32)));
  ensurePrivateDir(dataDir);
  const path = join(dataDir, "attachment-url.key");
  if (!existsSync(path)) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, `${generateSecret(32)}\n`);
      closeSync(fd);
      chmodSync(path, 0o600);
    } catch (err) {
      if ((err as { code?: string }).code !== "EEXIST") throw err;
    }
  }
  const secret = readFileSync(path, "utf8").trim();
  if (secret.length < 32) throw new Error(`${path} holds no usable secret`);
  return secret;
}

/** What a signed URL check found. */
export type UrlCheck = "ok" | "bad" | "expired";

/** Signs and verifies attachment URLs. */
export class AttachmentUrls {
  constructor(
    private readonly secret: string,
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  private mac(attachmentId: string, expires: number): string {
    return createHmac("sha256", this.secret).update(`${attachmentId}\n${expires}`).digest("hex");
  }

  /** A URL valid for ATTACHMENT_URL_TTL from now, and its expiry as an Instant. */
  sign(attachmentId: string, nowMs: number = this.now()): { url: string; url_expires_at: string } {
    const expires = Math.floor((nowMs + this.ttlMs) / 1000);
    const url = `/attachments/${encodeURIComponent(attachmentId)}?expires=${expires}&signature=${this.mac(attachmentId, expires)}`;
    return { url, url_expires_at: new Date(expires * 1000).toISOString() };
  }

  /** Checks a URL's `expires` and `signature` for the attachment (constant-time comparison). */
  verify(attachmentId: string, expires: string, signature: string): UrlCheck {
    if (!/^\d{1,12}$/.test(expires) || !/^[0-9a-f]{64}$/.test(signature)) return "bad";
    const expected = Buffer.from(this.mac(attachmentId, Number(expires)), "hex");
    if (!timingSafeEqual(expected, Buffer.from(signature, "hex"))) return "bad";
    return Number(expires) * 1000 <= this.now() ? "expired" : "ok";
  }
}

/**
 * A webhook body with its `message.attachments` given fresh signed urls (the delivery may be sent
 * long after it was stored). Bodies without attachments are returned unchanged, unparsed.
 */
export function signWebhookAttachments(payload: string, urls: AttachmentUrls): string {
  if (!payload.includes('"attachments":[{')) return payload;
  const body = JSON.parse(payload) as { message?: { attachments?: { attachment_id: string }[] } };
  const list = body.message?.attachments;
  if (!Array.isArray(list) || list.length === 0) return payload;
  body.message!.attachments = list.map((a) => ({ ...a, ...urls.sign(a.attachment_id) }));
  return JSON.stringify(body);
}
