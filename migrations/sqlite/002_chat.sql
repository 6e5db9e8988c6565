-- Rooms, members and messages. Every key starts with tenant_id so every query is tenant-scoped.
CREATE TABLE rooms (
  tenant_id        TEXT NOT NULL REFERENCES tenants(tenant_id),
  room_id          TEXT NOT NULL,
  type             TEXT NOT NULL CHECK (type IN ('dm', 'group', 'channel')),
  name             TEXT,
  metadata         TEXT,             -- JSON text; NULL = null
  dm_key           TEXT,             -- escaped sorted pair, dm only
  last_seq         INTEGER NOT NULL DEFAULT 0,
  last_activity_at TEXT NOT NULL,    -- last message, else creation
  created_by       TEXT NOT NULL,
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL,
  PRIMARY KEY (tenant_id, room_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX rooms_dm_key ON rooms(tenant_id, dm_key) WHERE dm_key IS NOT NULL;

CREATE TABLE room_members (
  tenant_id  TEXT NOT NULL,
  room_id    TEXT NOT NULL,
  user_id    TEXT NOT NULL,
  role       TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  joined_at  TEXT NOT NULL,
  join_order INTEGER NOT NULL,       -- tie-break for "longest-standing member"
  last_ack   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, room_id, user_id),
  FOREIGN KEY (tenant_id, room_id) REFERENCES rooms(tenant_id, room_id) ON DELETE CASCADE
) WITHOUT ROWID;
-- A user's rooms (GET /rooms, connect replay).
CREATE INDEX room_members_by_user ON room_members(tenant_id, user_id);

CREATE TABLE messages (
  tenant_id     TEXT NOT NULL,
  room_id       TEXT NOT NULL,
  seq           INTEGER NOT NULL,
  message_id    TEXT NOT NULL,
  sender_id     TEXT NOT NULL,
  content       TEXT NOT NULL,
  meta          TEXT,                -- JSON text; NULL = null
  client_msg_id TEXT,
  created_at    TEXT NOT NULL,
  edited_at     TEXT,
  deleted_at    TEXT,
  PRIMARY KEY (tenant_id, room_id, seq),
  FOREIGN KEY (tenant_id, room_id) REFERENCES rooms(tenant_id, room_id) ON DELETE CASCADE
) WITHOUT ROWID;
-- GET/PATCH/DELETE by message_id.
CREATE UNIQUE INDEX messages_by_id ON messages(tenant_id, message_id);
-- Idempotent sends: one row per (room, sender, client_msg_id).
CREATE UNIQUE INDEX messages_idempotency ON messages(tenant_id, room_id, sender_id, client_msg_id)
  WHERE client_msg_id IS NOT NULL;
