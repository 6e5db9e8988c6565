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
-- call with the actual tsquery and the caller's actual rooms, so the planner's statistics choose the
-- plan: the GIN index for rare words, messages_newest for common ones. (A prepared statement falls
-- back to a generic plan that guesses both; a join with room_members, estimated at one room, made the
-- planner repeat the GIN scan once per room.)
CREATE FUNCTION chatapi_search_page(p_tq tsquery, p_tenant text, p_user text, p_room text, p_before_at timestamptz, p_before_id text, p_limit integer)
RETURNS SETOF messages LANGUAGE plpgsql STABLE AS $fn$
DECLARE
  v_rooms text[];
BEGIN
  IF p_room IS NOT NULL THEN
    v_rooms := ARRAY[p_room];
  ELSE
    SELECT coalesce(array_agg(room_id), '{}') INTO v_rooms FROM room_members WHERE tenant_id = p_tenant AND user_id = p_user;
  END IF;
  RETURN QUERY EXECUTE
    'SELECT m.* FROM messages m
      WHERE m.search_tsv @@ $1 AND m.tenant_id = $2 AND m.room_id = ANY ($3) AND m.deleted_at IS NULL
        AND (m.created_at, m.message_id) < ($4, $5)
      ORDER BY m.created_at DESC, m.message_id DESC LIMIT $6'
    USING p_tq, p_tenant, v_rooms, p_before_at, p_before_id, p_limit;
END
$fn$;
