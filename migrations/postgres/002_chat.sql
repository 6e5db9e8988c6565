-- Rooms, members and messages. Every key starts with tenant_id so every query is tenant-scoped.
CREATE TABLE rooms (
  tenant_id        text COLLATE "C" NOT NULL REFERENCES tenants (tenant_id),
  room_id          text COLLATE "C" NOT NULL,
  type             text NOT NULL CHECK (type IN ('dm', 'group', 'channel')),
  name             text,
  metadata         json,                -- NULL = null
  dm_key           text COLLATE "C",    -- escaped sorted pair, dm only
  -- The per-room sequence: a send increments it with UPDATE ... RETURNING, holding the row lock to
  -- its commit, so concurrent sends serialize here and seqs are gapless.
  last_seq         integer NOT NULL DEFAULT 0,
  last_activity_at timestamptz NOT NULL, -- last message, else creation
  created_by       text NOT NULL,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, room_id)
);
-- One dm per pair (idempotent dm creation by constraint).
CREATE UNIQUE INDEX rooms_dm_key ON rooms (tenant_id, dm_key) WHERE dm_key IS NOT NULL;

CREATE TABLE room_members (
  tenant_id  text COLLATE "C" NOT NULL,
  room_id    text COLLATE "C" NOT NULL,
  user_id    text COLLATE "C" NOT NULL,
  role       text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  joined_at  timestamptz NOT NULL,
  join_order integer NOT NULL,         -- tie-break for "longest-standing member"
  last_ack   integer NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, room_id, user_id),
  FOREIGN KEY (tenant_id, room_id) REFERENCES rooms (tenant_id, room_id) ON DELETE CASCADE
);
-- A user's rooms (GET /rooms, connect replay, socket subscriptions, shared-room checks).
CREATE INDEX room_members_by_user ON room_members (tenant_id, user_id) INCLUDE (room_id, last_ack);

CREATE TABLE messages (
  tenant_id     text COLLATE "C" NOT NULL,
  room_id       text COLLATE "C" NOT NULL,
  seq           integer NOT NULL,
  message_id    text COLLATE "C" NOT NULL,
  sender_id     text COLLATE "C" NOT NULL,
  content       text NOT NULL,
  meta          json,                  -- NULL = null
  client_msg_id text COLLATE "C",
  created_at    timestamptz NOT NULL,
  edited_at     timestamptz,
  deleted_at    timestamptz,
  -- History ranges (after/before seq), unread counts, replay.
  PRIMARY KEY (tenant_id, room_id, seq),
  FOREIGN KEY (tenant_id, room_id) REFERENCES rooms (tenant_id, room_id) ON DELETE CASCADE
);
-- GET/PATCH/DELETE by message_id.
CREATE UNIQUE INDEX messages_by_id ON messages (tenant_id, message_id);
-- Idempotent sends: one row per (room, sender, client_msg_id). A racing duplicate fails with 23505
-- on this index, which the store reports as UniqueViolationError("message_client_id").
CREATE UNIQUE INDEX messages_idempotency ON messages (tenant_id, room_id, sender_id, client_msg_id)
  WHERE client_msg_id IS NOT NULL;
