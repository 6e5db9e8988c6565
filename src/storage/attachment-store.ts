// The contract of attachment records (docs/reference/rest.md "Attachments"). The bytes live in a BlobStore
// (src/blobs) under `blob_key`; this store keeps the metadata, the link to a message and each
// tenant's stored bytes (attachment_quota_bytes).
import type { Instant } from "./store";

/** The public metadata of an attachment (the Attachment object minus its signed url). */
export interface StoredAttachment {
  attachment_id: string;
  room_id: string;
  uploader_id: string;
  filename: string;
  content_type: string;
  size: number;
  sha256: string;
  created_at: Instant;
}

/** A record: the metadata plus its tenant, the message it is attached to (null: not yet), and its blob key. */
export interface AttachmentRow extends StoredAttachment {
  tenant_id: string;
  message_id: string | null;
  blob_key: string;
}

/** Attachment reads. */
export interface AttachmentReads {
  get(tenantId: string, attachmentId: string): Promise<AttachmentRow | null>;
  /** By id alone: a signed URL names no tenant (ids are UUIDv7, unique across tenants). */
  byIdAnyTenant(attachmentId: string): Promise<AttachmentRow | null>;
  /** Bytes the tenant stores (0 when none). */
  usage(tenantId: string): Promise<number>;
  /** Unattached records created before `before`, oldest first (the orphan sweep). */
  orphans(before: Instant, limit: number): Promise<AttachmentRow[]>;
}

/** Attachment writes, inside a transaction. */
export interface AttachmentStore extends AttachmentReads {
  /**
   * Inserts the record and adds its size to the tenant's usage, unless the usage would pass
   * `quotaBytes`: then nothing is written and false is returned. Concurrent inserts of one tenant
   * are serialized on its usage row, so the quota holds under races.
   */
  insert(row: AttachmentRow, quotaBytes: number): Promise<boolean>;
  /** Sets message_id on the given records of the tenant that have none; returns how many changed. */
  attach(tenantId: string, attachmentIds: readonly string[], messageId: string): Promise<number>;
  /** Deletes the message's records (usage decreases); returns them (their blobs are deleted after commit). */
  removeForMessage(tenantId: string, messageId: string): Promise<AttachmentRow[]>;
  /** Deletes one record (usage decreases); null when absent. */
  remove(tenantId: string, attachmentId: string): Promise<AttachmentRow | null>;
  /**
   * A secret shared by every node of a cluster: returns the stored value of `name`, storing
   * `candidate` first when there is none. SQLite throws UnsupportedByStoreError (its secrets live in DATA_DIR).
   */
  sharedSecret(name: string, candidate: string): Promise<string>;
}
