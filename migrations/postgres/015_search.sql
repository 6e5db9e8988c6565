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
-- One page of search results. Dynamic SQL with bound values (EXECUTE ... USING) is planned for each
-- call with the actual tsquery, so the planner's lexeme statistics choose the plan: the GIN index
-- for rare words, messages_newest for common ones. (A prepared statement would fall back to a generic
-- plan that guesses the selectivity, and walking messages_newest for a rare word reads the table.)
CREATE FUNCTION chatapi_search_page(p_tq tsquery, p_tenant text, p_user text, p_room text, p_before_at timestamptz, p_before_id text, p_limit integer)
RETURNS SETOF messages LANGUAGE plpgsql STABLE AS $fn$
BEGIN
  IF p_room IS NOT NULL THEN
    RETURN QUERY EXECUTE
      'SELECT m.* FROM messages m
        WHERE m.search_tsv @@ $1 AND m.tenant_id = $2 AND m.room_id = $3 AND m.deleted_at IS NULL
          AND (m.created_at, m.message_id) < ($4, $5)
        ORDER BY m.created_at DESC, m.message_id DESC LIMIT $6'
      USING p_tq, p_tenant, p_room, p_before_at, p_before_id, p_limit;
  ELSE
    RETURN QUERY EXECUTE
      'SELECT m.* FROM messages m
        WHERE m.search_tsv @@ $1 AND m.tenant_id = $2 AND m.deleted_at IS NULL
          AND m.room_id IN (SELECT room_id FROM room_members WHERE tenant_id = $2 AND user_id = $3)
          AND (m.created_at, m.message_id) < ($4, $5)
        ORDER BY m.created_at DESC, m.message_id DESC LIMIT $6'
      USING p_tq, p_tenant, p_user, p_before_at, p_before_id, p_limit;
  END IF;
END
$fn$;
