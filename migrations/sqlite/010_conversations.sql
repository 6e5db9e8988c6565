-- Threads, mentions, reactions and the per-room changes feed (issue 16).
-- A reply is an ordinary message with parent_id; the root keeps reply_count/last_reply_at, written in
-- the reply's transaction. mentions: JSON array of user ids (NULL = []). reactions: the summary
-- [{reaction, count, user_ids (first 10)}] kept in the reacting transaction, so building a Message
-- never reads the reactions table. change_seq: the room's change position of the message's latest
-- change (create, edit, delete, reaction, reply count); rooms.last_change is its per-room counter.
ALTER TABLE messages ADD COLUMN parent_id TEXT;
ALTER TABLE messages ADD COLUMN reply_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN last_reply_at TEXT;
ALTER TABLE messages ADD COLUMN mentions TEXT;
ALTER TABLE messages ADD COLUMN reactions TEXT;
ALTER TABLE messages ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rooms ADD COLUMN last_change INTEGER NOT NULL DEFAULT 0;
-- Existing messages were created in seq order and never changed since as far as the feed knows.
UPDATE messages SET change_seq = seq;
UPDATE rooms SET last_change = last_seq;
-- GET /rooms/{id}/changes: the messages changed after a position, in change order.
CREATE UNIQUE INDEX messages_changes ON messages(tenant_id, room_id, change_seq);
-- GET .../replies and the root's last_reply_at after a reply's deletion.
CREATE INDEX messages_thread ON messages(tenant_id, room_id, parent_id, seq) WHERE parent_id IS NOT NULL;
-- History with ?top_level=true skips replies without reading them.
CREATE INDEX messages_top_level ON messages(tenant_id, room_id, seq) WHERE parent_id IS NULL;

-- One row per (message, mentioned user other than its sender) while the message is not deleted:
-- unread_mentions = the rows with seq > last_ack, an index range count (never the unread messages).
CREATE TABLE message_mentions (
  tenant_id TEXT NOT NULL,
  room_id   TEXT NOT NULL,
  user_id   TEXT NOT NULL,
  seq       INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, room_id, user_id, seq),
  FOREIGN KEY (tenant_id, room_id) REFERENCES rooms(tenant_id, room_id) ON DELETE CASCADE
) WITHOUT ROWID;

-- One row per (message, reaction, user). ord: the room's change position when it was added
-- (increasing), so "oldest first" and "first 10 reactors" are index-ordered reads.
CREATE TABLE reactions (
  tenant_id  TEXT NOT NULL,
  message_id TEXT NOT NULL,
  reaction   TEXT NOT NULL,
  user_id    TEXT NOT NULL,
  ord        INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (tenant_id, message_id, reaction, user_id)
) WITHOUT ROWID;
-- Listing (oldest first, with or without ?reaction=) and the first reactors of one reaction.
CREATE INDEX reactions_by_ord ON reactions(tenant_id, message_id, ord);
CREATE INDEX reactions_by_reaction ON reactions(tenant_id, message_id, reaction, ord);
-- The per-user limit (20 different reactions on one message).
CREATE INDEX reactions_by_user ON reactions(tenant_id, message_id, user_id);
