-- Transactional outbox of webhook deliveries, notifications and topic subscriptions.
CREATE TABLE deliveries (
  delivery_id     TEXT PRIMARY KEY,          -- also the webhook event_id
  tenant_id       TEXT NOT NULL REFERENCES tenants(tenant_id),
  kind            TEXT NOT NULL CHECK (kind IN ('message.new', 'notification.new')),
  payload         TEXT NOT NULL,             -- the webhook body, JSON
  status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,          -- unix ms
  last_error      TEXT,
  target_url      TEXT,
  created_at      TEXT NOT NULL,
  last_attempt_at TEXT,
  finished_at     INTEGER                    -- unix ms, delivered or dead
);
-- The worker's due scan.
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE status = 'pending';
-- Dead-letter listing per tenant, newest first.
CREATE INDEX deliveries_dead ON deliveries(tenant_id, created_at) WHERE status = 'dead';
-- Retention cleanup.
CREATE INDEX deliveries_finished ON deliveries(status, finished_at) WHERE status != 'pending';

CREATE TABLE notifications (
  tenant_id       TEXT NOT NULL REFERENCES tenants(tenant_id),
  notification_id TEXT NOT NULL,
  topic           TEXT NOT NULL,
  payload         TEXT NOT NULL,             -- JSON text (may be 'null')
  created_at      TEXT NOT NULL,
  PRIMARY KEY (tenant_id, notification_id)
) WITHOUT ROWID;

CREATE TABLE notification_recipients (
  tenant_id       TEXT NOT NULL,
  notification_id TEXT NOT NULL,
  user_id         TEXT NOT NULL,
  acked_at        TEXT,
  PRIMARY KEY (tenant_id, user_id, notification_id),
  FOREIGN KEY (tenant_id, notification_id) REFERENCES notifications(tenant_id, notification_id) ON DELETE CASCADE
) WITHOUT ROWID;
-- Unacked notifications of a user (connect replay, ?unacked=true).
CREATE INDEX notification_recipients_unacked ON notification_recipients(tenant_id, user_id, notification_id)
  WHERE acked_at IS NULL;

CREATE TABLE subscriptions (
  tenant_id       TEXT NOT NULL REFERENCES tenants(tenant_id),
  id              TEXT NOT NULL,
  user_id         TEXT NOT NULL,
  topic           TEXT NOT NULL,
  created_at      TEXT NOT NULL,
  PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX subscriptions_user_topic ON subscriptions(tenant_id, user_id, topic);
-- Resolving topic_subscribers targets.
CREATE INDEX subscriptions_by_topic ON subscriptions(tenant_id, topic);
