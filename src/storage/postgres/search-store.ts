// Search on PostgreSQL: the generated tsvector column messages.search_tsv (migration 015, GIN index).
// Each term is a bound parameter turned into a tsquery by phraseto_tsquery (PostgreSQL's own parser:
// no character of it is query syntax); a prefix term gets `:*` on its last lexeme by editing the
// tsquery's canonical text, which PostgreSQL itself wrote with every lexeme quoted. That canonical
// text goes back as a bound parameter of the search statement.
import { invalid } from "../../errors";
import type { MessageRow } from "../message-store";
import type { SearchReads, SearchSpec } from "../search-store";
import { instant, type Conn } from "./conn";
import { messageRow } from "./message-store";

const CURSOR = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\|([0-9a-f-]{1,64})$/;
const FAR_FUTURE = "9999-12-31T23:59:59.999Z";

/** SearchReads on Bun.SQL. */
export class PgSearchStore implements SearchReads {
  constructor(private readonly c: Conn) {}

  async messages(spec: SearchSpec): Promise<{ rows: MessageRow[]; next: string | null }> {
    let beforeAt = FAR_FUTURE;
    let beforeId = "";
    if (spec.cursor !== null) {
      const m = CURSOR.exec(spec.cursor);
      if (!m || Number.isNaN(Date.parse(m[1]!))) throw invalid("cursor is not valid", [{ path: "/cursor", message: "not issued by this server" }]);
      beforeAt = m[1]!;
      beforeId = m[2]!;
    }
    const texts = spec.terms.map((t) => t.text);
    const prefixes = spec.terms.map((t) => t.prefix);
    // Step 1: PostgreSQL turns each term into a tsquery (its own parser; a term without a lexeme
    // matches nothing, so n must equal the term count) and writes their AND in canonical form.
    const [built] = await this.c.q`WITH t AS (
        SELECT phraseto_tsquery('chatapi_search'::regconfig, x) AS q, p FROM unnest(${texts}::text[], ${prefixes}::boolean[]) AS u(x, p)
      ), parts AS (
        SELECT CASE WHEN p THEN q::text || ':*' ELSE q::text END AS s FROM t WHERE numnode(q) > 0
      )
      SELECT string_agg('(' || s || ')', ' & ') AS tq, count(*)::int AS n FROM parts`;
    if (!built || built.n !== texts.length || !built.tq) return { rows: [], next: null };
    // Step 2: chatapi_search_page (migration 015) plans the page with this tsquery's statistics.
    const tq: string = built.tq;
    const before = spec.cursor === null ? "\uffff" : beforeId;
    const rows = await this.c.q`SELECT tenant_id, room_id, seq, message_id, sender_id, content, meta, client_msg_id, created_at, edited_at, deleted_at, parent_id, reply_count, last_reply_at, mentions, reactions, attachments, change_seq
      FROM chatapi_search_page(${tq}::tsquery, ${spec.tenantId}::text, ${spec.userId}::text, ${spec.roomId}::text, ${beforeAt}::timestamptz, ${before}::text, ${spec.limit + 1}::integer)`;
    const more = rows.length > spec.limit;
    const page = (more ? rows.slice(0, spec.limit) : rows).map(messageRow);
    const last = page[page.length - 1];
    return { rows: page, next: more && last ? `${instant(last.created_at)}|${last.message_id}` : null };
  }
}
