-- Issue 13 (fairness). Webhook payloads are stored once per message or notification and referenced
-- by each delivery (the per-recipient fields are composed when sending); fan-out to recipients is a
-- durable job expanded in background chunks; unread counts use two small indexes instead of a scan.
CREATE TABLE webhook_payloads (
  payload_id TEXT PRIMARY KEY,
  tenant_id  TEXT NOT NULL,
  kind       TEXT NOT NULL CHECK (kind IN ('message.new', 'notification.new')),
  body       TEXT NOT NULL,              -- the webhook body without event_id and recipient_id, JSON
  created_at TEXT NOT NULL
) WITHOUT ROWID;

-- deliveries.payload becomes nullable: new rows reference webhook_payloads instead of a copy.
CREATE TABLE deliveries_v17 (
  delivery_id     TEXT PRIMARY KEY,
  tenant_id       TEXT NOT NULL REFERENCES tenants(tenant_id),
  kind            TEXT NOT NULL CHECK (kind IN ('message.new', 'notification.new')),
  payload         TEXT,                      -- legacy rows: the whole body; new rows: NULL
  payload_id      TEXT,                      -- webhook_payloads.payload_id
  recipient_id    TEXT,
  status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error      TEXT,
  target_url      TEXT,
  created_at      TEXT NOT NULL,
  last_attempt_at TEXT,
  finished_at     INTEGER,
  lease_owner     TEXT                       -- 009_delivery_leases
);
INSERT INTO deliveries_v17 (delivery_id, tenant_id, kind, payload, status, attempts, next_attempt_at, last_error, target_url, created_at, last_attempt_at, finished_at, lease_owner)
  SELECT delivery_id, tenant_id, kind, payload, status, attempts, next_attempt_at, last_error, target_url, created_at, last_attempt_at, finished_at, lease_owner FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_v17 RENAME TO deliveries;
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_dead ON deliveries(tenant_id, created_at) WHERE status = 'dead';
CREATE INDEX deliveries_finished ON deliveries(status, finished_at) WHERE status != 'pending';
CREATE INDEX deliveries_due_by_tenant ON deliveries(tenant_id, next_attempt_at) WHERE status = 'pending';
-- Payload pruning: is a payload still referenced?
CREATE INDEX deliveries_by_payload ON deliveries(payload_id) WHERE payload_id IS NOT NULL;

-- A fan-out in progress: recipients of a notification, or offline members of a room for a message's
-- webhooks, expanded a chunk at a time. Written in the transaction of the message or notification,
-- deleted by the transaction of its last chunk; resumed after a restart.
CREATE TABLE fanout_jobs (
  job_id          TEXT PRIMARY KEY,          -- UUIDv7: FIFO per tenant
  tenant_id       TEXT NOT NULL,
  kind            TEXT NOT NULL CHECK (kind IN ('message', 'notification')),
  ref_id          TEXT NOT NULL,             -- message_id or notification_id
  payload_id      TEXT,                      -- webhook payload (NULL: no webhooks)
  room_id         TEXT,
  exclude_user    TEXT,                      -- a message's sender
  topic           TEXT,                      -- notification to topic subscribers
  user_ids        TEXT,                      -- JSON array of explicit recipients
  as_of           TEXT NOT NULL,             -- members joined / subscriptions made up to this time
  stage           INTEGER NOT NULL DEFAULT 0,
  cursor          TEXT NOT NULL DEFAULT '',
  recipients      INTEGER NOT NULL DEFAULT 0,
  created_at      TEXT NOT NULL,
  lease_until     TEXT                       -- the running process renews it; past it, another may resume the job
) WITHOUT ROWID;

-- Unread counts without scanning the unread range: tombstones and the member's own live messages.
CREATE INDEX messages_tombstones ON messages(tenant_id, room_id, seq) WHERE deleted_at IS NOT NULL;
CREATE INDEX messages_by_sender ON messages(tenant_id, room_id, sender_id, seq) WHERE deleted_at IS NULL;

-- addMember takes max(join_order) + 1: without this index each insert scanned the whole room, so
-- adding 1,000 members to a room of 9,000 held the server for seconds.
CREATE INDEX room_members_join_order ON room_members(tenant_id, room_id, join_order);

-- Payload pruning reads the old payloads only.
CREATE INDEX webhook_payloads_created ON webhook_payloads(created_at);
