// The contract of message search (docs/reference/rest.md "Search"), one interface for SQLite (FTS5) and PostgreSQL
// (tsvector). Terms come from src/chat/search-query.ts: stores bind them as parameters or quoted
// tokens, never as query syntax.
import type { MessageRow } from "./message-store";

/** One term: the words of `text` in order (tokenized by the store); `prefix`: the last word is a prefix. */
export interface SearchTermSpec {
  text: string;
  prefix: boolean;
}

export interface SearchSpec {
  tenantId: string;
  /** Searched rooms: `roomId` alone when given (the caller checked it may read it), else every room `userId` is a member of. */
  userId: string;
  roomId: string | null;
  /** AND of the terms; at least one. */
  terms: readonly SearchTermSpec[];
  /** A `next` of an earlier page of the same search, or null for the first page. */
  cursor: string | null;
  limit: number;
}

/**
 * Search reads (committed data). Matching is case- and diacritic-insensitive on whole words (a
 * prefix term on word starts). Deleted messages never match; an edited message matches its current
 * content only. Newest first; `next` is null when no more match.
 * A cursor this store did not issue throws AppError invalid_request.
 */
export interface SearchReads {
  messages(spec: SearchSpec): Promise<{ rows: MessageRow[]; next: string | null }>;
}
