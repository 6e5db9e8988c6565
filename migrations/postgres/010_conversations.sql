-- Threads, mentions, reactions and the per-room changes feed (issue 16).
-- A reply is an ordinary message with parent_id; the root keeps reply_count/last_reply_at, written in
-- the reply's transaction. mentions: JSON array of user ids (NULL = []). reactions: the summary
-- [{reaction, count, user_ids (first 10)}] kept in the reacting transaction, so building a Message
-- never reads the reactions table. change_seq: the room's change position of the message's latest
-- change (create, edit, delete, reaction, reply count); rooms.last_change is its per-room counter,
-- incremented under the room's row lock (UPDATE ... RETURNING), so positions commit in order.
ALTER TABLE messages ADD COLUMN parent_id text COLLATE "C";
ALTER TABLE messages ADD COLUMN reply_count integer NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN last_reply_at timestamptz;
ALTER TABLE messages ADD COLUMN mentions json;
ALTER TABLE messages ADD COLUMN reactions json;
ALTER TABLE messages ADD COLUMN change_seq integer NOT NULL DEFAULT 0;
ALTER TABLE rooms ADD COLUMN last_change integer NOT NULL DEFAULT 0;
UPDATE messages SET change_seq = seq;
UPDATE rooms SET last_change = last_seq;
-- GET /rooms/{id}/changes: the messages changed after a position, in change order.
CREATE UNIQUE INDEX messages_changes ON messages (tenant_id, room_id, change_seq);
-- GET .../replies and the root's last_reply_at after a reply's deletion.
CREATE INDEX messages_thread ON messages (tenant_id, room_id, parent_id, seq) WHERE parent_id IS NOT NULL;
-- History with ?top_level=true skips replies without reading them.
CREATE INDEX messages_top_level ON messages (tenant_id, room_id, seq) WHERE parent_id IS NULL;

-- One row per (message, mentioned user other than its sender) while the message is not deleted:
-- unread_mentions = the rows with seq > last_ack, an index range count (never the unread messages).
CREATE TABLE message_mentions (
  tenant_id text COLLATE "C" NOT NULL,
  room_id   text COLLATE "C" NOT NULL,
  user_id   text COLLATE "C" NOT NULL,
  seq       integer NOT NULL,
  PRIMARY KEY (tenant_id, room_id, user_id, seq),
  FOREIGN KEY (tenant_id, room_id) REFERENCES rooms (tenant_id, room_id) ON DELETE CASCADE
);

-- One row per (message, reaction, user). ord: the room's change position when it was added.
CREATE TABLE reactions (
  tenant_id  text COLLATE "C" NOT NULL,
  message_id text COLLATE "C" NOT NULL,
  reaction   text COLLATE "C" NOT NULL,
  user_id    text COLLATE "C" NOT NULL,
  ord        integer NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, message_id, reaction, user_id)
);
CREATE INDEX reactions_by_ord ON reactions (tenant_id, message_id, ord);
CREATE INDEX reactions_by_reaction ON reactions (tenant_id, message_id, reaction, ord);
CREATE INDEX reactions_by_user ON reactions (tenant_id, message_id, user_id);
