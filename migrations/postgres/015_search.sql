-- Full-text search (API.md "Search"): a generated tsvector column (computed in the same transaction
-- as every message write) with a GIN index. The configuration folds case (simple) and diacritics
-- (unaccent: "cafe" finds "Café"). unaccent is a trusted extension shipped with PostgreSQL.
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE TEXT SEARCH CONFIGURATION chatapi_search (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION chatapi_search
  ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part WITH unaccent, simple;
ALTER TABLE messages ADD COLUMN search_tsv tsvector
  GENERATED ALWAYS AS (to_tsvector('chatapi_search'::regconfig, content)) STORED;
CREATE INDEX messages_search ON messages USING gin (search_tsv);
-- Newest first within a tenant: for words in many messages the planner walks this and tests each row,
-- instead of sorting every match the GIN index finds.
CREATE INDEX messages_newest ON messages (tenant_id, created_at DESC, message_id DESC);
