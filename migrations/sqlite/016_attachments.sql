-- Attachments (API.md "Attachments"): one record per uploaded file; the bytes live in the blob store
-- (ATTACHMENTS_STORE) under blob_key, never a user-supplied name. message_id is set when a send
-- attaches it (once); records without one are orphans, deleted after ATTACHMENT_ORPHAN_TTL.
CREATE TABLE attachments (
  tenant_id     TEXT NOT NULL,
  attachment_id TEXT NOT NULL,
  room_id       TEXT NOT NULL,
  uploader_id   TEXT NOT NULL,
  filename      TEXT NOT NULL,
  content_type  TEXT NOT NULL,
  size          INTEGER NOT NULL,
  sha256        TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  message_id    TEXT,
  blob_key      TEXT NOT NULL,
  PRIMARY KEY (tenant_id, attachment_id)
) WITHOUT ROWID;
-- A signed URL names only the attachment id.
CREATE UNIQUE INDEX attachments_by_id ON attachments(attachment_id);
-- Deleting a message deletes its attachments.
CREATE INDEX attachments_by_message ON attachments(tenant_id, message_id) WHERE message_id IS NOT NULL;
-- The orphan sweep.
CREATE INDEX attachments_orphans ON attachments(created_at) WHERE message_id IS NULL;
-- Stored bytes per tenant (attachment_quota_bytes), updated with each insert and delete.
CREATE TABLE attachment_usage (
  tenant_id TEXT PRIMARY KEY,
  bytes     INTEGER NOT NULL
);
-- The message carries its attachments' metadata (JSON array; NULL = none): history, replay, search
-- and webhooks read them without a join.
ALTER TABLE messages ADD COLUMN attachments TEXT;
