// Attachment records on PostgreSQL (migration 016). Usage per tenant in attachment_usage: its row
// lock serializes one tenant's concurrent inserts, so the quota holds under READ COMMITTED.
import type { AttachmentRow, AttachmentStore } from "../attachment-store";
import { instant, type Conn } from "./conn";

function row(r: any): AttachmentRow {
  return {
    tenant_id: r.tenant_id,
    attachment_id: r.attachment_id,
    room_id: r.room_id,
    uploader_id: r.uploader_id,
    filename: r.filename,
    content_type: r.content_type,
    size: Number(r.size),
    sha256: r.sha256,
    created_at: instant(r.created_at),
    message_id: r.message_id,
    blob_key: r.blob_key,
  };
}

/** AttachmentStore on Bun.SQL. */
export class PgAttachmentStore implements AttachmentStore {
  constructor(private readonly c: Conn) {}

  async get(tenantId: string, attachmentId: string): Promise<AttachmentRow | null> {
    const [r] = await this.c.q`SELECT * FROM attachments WHERE tenant_id = ${tenantId} AND attachment_id = ${attachmentId}`;
    return r ? row(r) : null;
  }
  async byIdAnyTenant(attachmentId: string): Promise<AttachmentRow | null> {
    const [r] = await this.c.q`SELECT * FROM attachments WHERE attachment_id = ${attachmentId}`;
    return r ? row(r) : null;
  }
  async usage(tenantId: string): Promise<number> {
    const [r] = await this.c.q`SELECT bytes FROM attachment_usage WHERE tenant_id = ${tenantId}`;
    return r ? Number(r.bytes) : 0;
  }
  async orphans(before: string, limit: number): Promise<AttachmentRow[]> {
    const rows = await this.c.q`SELECT * FROM attachments WHERE message_id IS NULL AND created_at < ${before}::timestamptz ORDER BY created_at LIMIT ${limit}`;
    return rows.map(row);
  }
  async insert(a: AttachmentRow, quotaBytes: number): Promise<boolean> {
    // The upsert takes the usage row's lock; a concurrent insert of the tenant waits and then sees this one's bytes.
    await this.c.q`INSERT INTO attachment_usage (tenant_id, bytes) VALUES (${a.tenant_id}, 0) ON CONFLICT (tenant_id) DO NOTHING`;
    const updated = await this.c.q`UPDATE attachment_usage SET bytes = bytes + ${a.size}
      WHERE tenant_id = ${a.tenant_id} AND bytes + ${a.size} <= ${quotaBytes} RETURNING bytes`;
    if (updated.length === 0) return false;
    await this.c.q`INSERT INTO attachments (tenant_id, attachment_id, room_id, uploader_id, filename, content_type, size, sha256, created_at, message_id, blob_key)
      VALUES (${a.tenant_id}, ${a.attachment_id}, ${a.room_id}, ${a.uploader_id}, ${a.filename}, ${a.content_type}, ${a.size}, ${a.sha256},
        ${a.created_at}::timestamptz, ${a.message_id}, ${a.blob_key})`;
    return true;
  }
  async attach(tenantId: string, attachmentIds: readonly string[], messageId: string): Promise<number> {
    if (attachmentIds.length === 0) return 0;
    const r = await this.c.q`UPDATE attachments SET message_id = ${messageId}
      WHERE tenant_id = ${tenantId} AND attachment_id = ANY(${[...attachmentIds]}::text[]) AND message_id IS NULL`;
    return r.count;
  }
  async removeForMessage(tenantId: string, messageId: string): Promise<AttachmentRow[]> {
    const rows = (await this.c.q`DELETE FROM attachments WHERE tenant_id = ${tenantId} AND message_id = ${messageId} RETURNING *`).map(row);
    const bytes = rows.reduce((n, r) => n + r.size, 0);
    if (bytes > 0) await this.c.q`UPDATE attachment_usage SET bytes = bytes - ${bytes} WHERE tenant_id = ${tenantId}`;
    return rows;
  }
  async remove(tenantId: string, attachmentId: string): Promise<AttachmentRow | null> {
    const [r] = await this.c.q`DELETE FROM attachments WHERE tenant_id = ${tenantId} AND attachment_id = ${attachmentId} RETURNING *`;
    if (!r) return null;
    const a = row(r);
    await this.c.q`UPDATE attachment_usage SET bytes = bytes - ${a.size} WHERE tenant_id = ${tenantId}`;
    return a;
  }
  async sharedSecret(name: string, candidate: string): Promise<string> {
    await this.c.q`INSERT INTO server_secrets (name, value) VALUES (${name}, ${candidate}) ON CONFLICT (name) DO NOTHING`;
    const [r] = await this.c.q`SELECT value FROM server_secrets WHERE name = ${name}`;
    return r.value;
  }
}
