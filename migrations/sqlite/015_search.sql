-- Full-text search (API.md "Search"): an FTS5 external-content index over messages.content, kept by
-- triggers in the same transaction as every message write (a send is searchable once it is answered).
-- messages is WITHOUT ROWID, so each message gets an integer search_id (insertion order, newest =
-- highest: search pages newest first by walking the index backwards). The tokenizer folds case and
-- diacritics (unicode61 remove_diacritics 2: "cafe" finds "Café").
ALTER TABLE messages ADD COLUMN search_id INTEGER;
WITH o AS (SELECT tenant_id, message_id, row_number() OVER (ORDER BY created_at, message_id) AS n FROM messages)
UPDATE messages SET search_id = o.n FROM o WHERE o.tenant_id = messages.tenant_id AND o.message_id = messages.message_id;
-- The external content lookup (and max(search_id) for the next id) use this index.
CREATE UNIQUE INDEX messages_search_id ON messages(search_id);
CREATE VIRTUAL TABLE messages_fts USING fts5(
  content,
  content = 'messages',
  content_rowid = 'search_id',
  tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
-- Empty content (tombstones) holds no token: nothing to index or to remove.
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN NEW.content <> '' BEGIN
  INSERT INTO messages_fts(rowid, content) VALUES (NEW.search_id, NEW.content);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, content) SELECT 'delete', OLD.search_id, OLD.content WHERE OLD.content <> '';
  INSERT INTO messages_fts(rowid, content) SELECT NEW.search_id, NEW.content WHERE NEW.content <> '';
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN OLD.content <> '' BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', OLD.search_id, OLD.content);
END;
