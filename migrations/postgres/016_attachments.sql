-- Attachments (API.md "Attachments"): one record per uploaded file; the bytes live in the blob store
-- (ATTACHMENTS_STORE) under blob_key, never a user-supplied name. message_id is set when a send
-- attaches it (once); records without one are orphans, deleted after ATTACHMENT_ORPHAN_TTL.
CREATE TABLE attachments (
  tenant_id     text COLLATE "C" NOT NULL,
  attachment_id text COLLATE "C" NOT NULL,
  room_id       text COLLATE "C" NOT NULL,
  uploader_id   text COLLATE "C" NOT NULL,
  filename      text NOT NULL,
  content_type  text NOT NULL,
  size          integer NOT NULL,          -- at most 100 MiB
  sha256        text NOT NULL,
  created_at    timestamptz NOT NULL,
  message_id    text COLLATE "C",
  blob_key      text NOT NULL,
  PRIMARY KEY (tenant_id, attachment_id)
);
-- A signed URL names only the attachment id.
CREATE UNIQUE INDEX attachments_by_id ON attachments (attachment_id);
-- Deleting a message deletes its attachments.
CREATE INDEX attachments_by_message ON attachments (tenant_id, message_id) WHERE message_id IS NOT NULL;
-- The orphan sweep.
CREATE INDEX attachments_orphans ON attachments (created_at) WHERE message_id IS NULL;
-- Stored bytes per tenant (attachment_quota_bytes); the row lock serializes concurrent uploads.
CREATE TABLE attachment_usage (
  tenant_id text COLLATE "C" PRIMARY KEY,
  bytes     bigint NOT NULL
);
-- The message carries its attachments' metadata (NULL = none): history, replay, search and webhooks
-- read them without a join.
ALTER TABLE messages ADD COLUMN attachments json;
-- Secrets every node must share (the signing key of attachment URLs), created once by whichever
-- node needs one first. SQLite keeps its key in DATA_DIR instead.
CREATE TABLE server_secrets (
  name       text PRIMARY KEY,
  value      text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
