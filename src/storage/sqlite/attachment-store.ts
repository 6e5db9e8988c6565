// Attachment records on bun:sqlite (migration 016). Usage per tenant in attachment_usage.
import type { Database, Statement } from "bun:sqlite";
import type { AttachmentRow, AttachmentStore } from "../attachment-store";
import { UnsupportedByStoreError } from "../errors";
import type { Sync } from "./facade";

/** Method names of AttachmentStore. */
export const ATTACHMENT_METHODS = ["get", "byIdAnyTenant", "usage", "orphans", "insert", "attach", "removeForMessage", "remove", "sharedSecret"] as const;

const COLS = "tenant_id, attachment_id, room_id, uploader_id, filename, content_type, size, sha256, created_at, message_id, blob_key";

/** AttachmentStore on bun:sqlite; statements prepared once. */
export class SqliteAttachmentStore implements Sync<AttachmentStore> {
  private readonly q: Record<string, Statement<any, any>>;

  constructor(db: Database) {
    this.q = {
      get: db.query(`SELECT ${COLS} FROM attachments WHERE tenant_id = ? AND attachment_id = ?`),
      byId: db.query(`SELECT ${COLS} FROM attachments WHERE attachment_id = ?`),
      usage: db.query("SELECT bytes FROM attachment_usage WHERE tenant_id = ?"),
      orphans: db.query(`SELECT ${COLS} FROM attachments WHERE message_id IS NULL AND created_at < ? ORDER BY created_at LIMIT ?`),
      insert: db.query(
        `INSERT INTO attachments (${COLS}) VALUES ($tenant_id, $attachment_id, $room_id, $uploader_id, $filename, $content_type, $size, $sha256, $created_at, $message_id, $blob_key)`,
      ),
      addUsage: db.query(
        "INSERT INTO attachment_usage (tenant_id, bytes) VALUES (?1, ?2) ON CONFLICT(tenant_id) DO UPDATE SET bytes = bytes + ?2",
      ),
      attach: db.query("UPDATE attachments SET message_id = ? WHERE tenant_id = ? AND attachment_id = ? AND message_id IS NULL"),
      // "IS NOT NULL" lets SQLite use the partial index attachments_by_message.
      forMessage: db.query(`SELECT ${COLS} FROM attachments INDEXED BY attachments_by_message WHERE tenant_id = ? AND message_id = ? AND message_id IS NOT NULL`),
      delete: db.query("DELETE FROM attachments WHERE tenant_id = ? AND attachment_id = ?"),
    };
  }

  get(tenantId: string, attachmentId: string): AttachmentRow | null {
    return this.q.get!.get(tenantId, attachmentId) ?? null;
  }
  byIdAnyTenant(attachmentId: string): AttachmentRow | null {
    return this.q.byId!.get(attachmentId) ?? null;
  }
  usage(tenantId: string): number {
    return (this.q.usage!.get(tenantId) as { bytes: number } | null)?.bytes ?? 0;
  }
  orphans(before: string, limit: number): AttachmentRow[] {
    return this.q.orphans!.all(before, limit);
  }
  insert(row: AttachmentRow, quotaBytes: number): boolean {
    // One writer connection: the read and the update below cannot interleave with another insert.
    if (this.usage(row.tenant_id) + row.size > quotaBytes) return false;
    this.q.insert!.run(row);
    this.q.addUsage!.run(row.tenant_id, row.size);
    return true;
  }
  attach(tenantId: string, attachmentIds: readonly string[], messageId: string): number {
    let n = 0;
    for (const id of attachmentIds) n += this.q.attach!.run(messageId, tenantId, id).changes;
    return n;
  }
  removeForMessage(tenantId: string, messageId: string): AttachmentRow[] {
    const rows: AttachmentRow[] = this.q.forMessage!.all(tenantId, messageId);
    for (const r of rows) this.drop(r);
    return rows;
  }
  remove(tenantId: string, attachmentId: string): AttachmentRow | null {
    const r = this.get(tenantId, attachmentId);
    if (r) this.drop(r);
    return r;
  }
  sharedSecret(): string {
    throw new UnsupportedByStoreError("SQLite keeps its shared secrets in DATA_DIR");
  }

  private drop(r: AttachmentRow): void {
    if (this.q.delete!.run(r.tenant_id, r.attachment_id).changes > 0) this.q.addUsage!.run(r.tenant_id, -r.size);
  }
}
