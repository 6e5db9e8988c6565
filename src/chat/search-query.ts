// Our own small search grammar (docs/reference/rest.md "Search"): user text becomes a list of terms that the stores
// pass as bound parameters or quoted tokens. No character of `q` is ever query syntax of FTS5 or tsquery.
import { invalid } from "../errors";

/** One term: every word of `text` must appear in order (one word unless it was a "phrase"); `prefix`: the last word is a prefix. */
export interface SearchTerm {
  text: string;
  prefix: boolean;
}

export const MAX_QUERY_CHARS = 256;
// More terms than this cannot come from 256 characters of real words; the cap bounds the query cost.
export const MAX_TERMS = 32;

// Control characters (NUL included) and lone surrogates are separators, never text.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\p{Cc}\p{Cs}]/gu;
const WHITESPACE = /\s/u;
const SEARCHABLE = /[\p{L}\p{N}]/u;

/**
 * Parses `q`: split at whitespace into terms (AND), `"..."` a phrase, a trailing `*` a prefix;
 * every other character is plain text. Throws 400 for a length outside 1..256 code points or a query
 * without a searchable term (one with a letter or digit).
 */
export function parseSearchQuery(q: unknown): SearchTerm[] {
  if (typeof q !== "string") throw invalid("q is required", [{ path: "/q", message: "required" }]);
  const chars = [...q].length;
  if (chars < 1 || chars > MAX_QUERY_CHARS) throw invalid(`q must be 1..${MAX_QUERY_CHARS} characters`, [{ path: "/q", message: `${chars} characters` }]);
  const text = q.replace(CONTROL, " ");
  const raw: SearchTerm[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (WHITESPACE.test(c)) {
      i++;
      continue;
    }
    if (c === '"') {
      const end = text.indexOf('"', i + 1);
      const body = end === -1 ? text.slice(i + 1) : text.slice(i + 1, end);
      i = end === -1 ? text.length : end + 1;
      let prefix = false;
      while (i < text.length && text[i] === "*") {
        prefix = true;
        i++;
      }
      raw.push({ text: body.trim().replace(/\s+/gu, " "), prefix });
      continue;
    }
    let j = i;
    while (j < text.length && !WHITESPACE.test(text[j]!) && text[j] !== '"') j++;
    let word = text.slice(i, j);
    i = j;
    const stripped = word.replace(/\*+$/u, "");
    raw.push({ text: stripped, prefix: stripped.length < word.length });
    word = stripped;
  }
  const terms = raw.filter((t) => SEARCHABLE.test(t.text));
  if (terms.length === 0) throw invalid("q has no searchable term (a word with a letter or digit)", [{ path: "/q", message: "no searchable term" }]);
  if (terms.length > MAX_TERMS) throw invalid(`q has more than ${MAX_TERMS} terms`, [{ path: "/q", message: `${terms.length} terms` }]);
  return terms;
}

/** The FTS5 MATCH expression: each term a double-quoted string (quotes doubled), `*` after it for a prefix, implicit AND. */
export function toFts5Match(terms: readonly SearchTerm[]): string {
  return terms.map((t) => `"${t.text.replaceAll('"', '""')}"${t.prefix ? " *" : ""}`).join(" ");
}
