-- Transactional outbox of webhook deliveries, notifications and topic subscriptions.
CREATE TABLE deliveries (
  delivery_id     text COLLATE "C" PRIMARY KEY,  -- also the webhook event_id
  tenant_id       text COLLATE "C" NOT NULL REFERENCES tenants (tenant_id),
  kind            text NOT NULL CHECK (kind IN ('message.new', 'notification.new')),
  payload         text NOT NULL,                 -- the webhook body, sent byte for byte
  status          text NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,          -- while claimed: the lease's end
  last_error      text,
  target_url      text,
  created_at      timestamptz NOT NULL,
  last_attempt_at timestamptz,
  finished_at     timestamptz                    -- delivered or dead
);
-- nextDueAfter: the earliest pending row.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
-- Dead-letter listing per tenant, newest first.
CREATE INDEX deliveries_dead ON deliveries (tenant_id, created_at) WHERE status = 'dead';
-- Retention cleanup.
CREATE INDEX deliveries_finished ON deliveries (status, finished_at) WHERE status <> 'pending';

CREATE TABLE notifications (
  tenant_id       text COLLATE "C" NOT NULL REFERENCES tenants (tenant_id),
  notification_id text COLLATE "C" NOT NULL,
  topic           text NOT NULL,
  payload         json NOT NULL,                 -- JSON null is 'null', never SQL NULL
  created_at      timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, notification_id)
);

CREATE TABLE notification_recipients (
  tenant_id       text COLLATE "C" NOT NULL,
  notification_id text COLLATE "C" NOT NULL,
  user_id         text COLLATE "C" NOT NULL,
  acked_at        timestamptz,
  -- A user's notifications, newest first (GET /notifications).
  PRIMARY KEY (tenant_id, user_id, notification_id),
  FOREIGN KEY (tenant_id, notification_id) REFERENCES notifications (tenant_id, notification_id) ON DELETE CASCADE
);
-- Unacked notifications of a user (connect replay, ?unacked=true).
CREATE INDEX notification_recipients_unacked ON notification_recipients (tenant_id, user_id, notification_id)
  WHERE acked_at IS NULL;

CREATE TABLE subscriptions (
  tenant_id  text COLLATE "C" NOT NULL REFERENCES tenants (tenant_id),
  id         text COLLATE "C" NOT NULL,
  user_id    text COLLATE "C" NOT NULL,
  topic      text COLLATE "C" NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
-- One subscription per (user, topic); a user's list.
CREATE UNIQUE INDEX subscriptions_user_topic ON subscriptions (tenant_id, user_id, topic);
-- Resolving topic_subscribers targets.
CREATE INDEX subscriptions_by_topic ON subscriptions (tenant_id, topic);
