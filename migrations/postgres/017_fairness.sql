-- Issue 13 (fairness). Webhook payloads are stored once per message or notification and referenced
-- by each delivery (the per-recipient fields are composed when sending); fan-out to recipients is a
-- durable job expanded in background chunks; unread counts use two small indexes instead of a scan.
CREATE TABLE webhook_payloads (
  payload_id text COLLATE "C" PRIMARY KEY,
  tenant_id  text COLLATE "C" NOT NULL,
  kind       text NOT NULL CHECK (kind IN ('message.new', 'notification.new')),
  body       text NOT NULL,                 -- the webhook body without event_id and recipient_id, JSON
  created_at timestamptz NOT NULL
);

-- deliveries.payload becomes nullable: new rows reference webhook_payloads instead of a copy.
ALTER TABLE deliveries ALTER COLUMN payload DROP NOT NULL;
ALTER TABLE deliveries ADD COLUMN payload_id text COLLATE "C";
ALTER TABLE deliveries ADD COLUMN recipient_id text COLLATE "C";
-- Payload pruning: is a payload still referenced?
CREATE INDEX deliveries_by_payload ON deliveries (payload_id) WHERE payload_id IS NOT NULL;

-- A fan-out in progress, expanded a chunk at a time; resumed after a restart.
CREATE TABLE fanout_jobs (
  job_id       text COLLATE "C" PRIMARY KEY,  -- UUIDv7: FIFO per tenant
  tenant_id    text COLLATE "C" NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('message', 'notification')),
  ref_id       text NOT NULL,
  payload_id   text,
  room_id      text COLLATE "C",
  exclude_user text,
  topic        text,
  user_ids     json,                          -- JSON array of explicit recipients, or NULL
  as_of        timestamptz NOT NULL,
  stage        integer NOT NULL DEFAULT 0,
  cursor       text NOT NULL DEFAULT '',
  recipients   integer NOT NULL DEFAULT 0,
  created_at   timestamptz NOT NULL,
  lease_until  timestamptz                    -- the running node renews it; past it, another node resumes the job
);

-- Unread counts without scanning the unread range: tombstones and the member's own live messages.
CREATE INDEX messages_tombstones ON messages (tenant_id, room_id, seq) WHERE deleted_at IS NOT NULL;
CREATE INDEX messages_by_sender ON messages (tenant_id, room_id, sender_id, seq) WHERE deleted_at IS NULL;
-- Fan-out pages of a topic's subscribers in subscription-id order (SQLite's index carries the key).
CREATE INDEX subscriptions_by_topic_id ON subscriptions (tenant_id, topic, id);
-- Payload pruning by age.
CREATE INDEX webhook_payloads_created ON webhook_payloads (created_at);
