// Input rules of threads, mentions and reactions (docs/reference/rest.md Rules), and the opaque cursors
// of the changes feed and of reaction listings.
import { createHash } from "node:crypto";
import { invalid } from "../errors";
import { checkUserId, utf8Bytes } from "./validate";

/** Most distinct user ids one message may mention. */
export const MAX_MENTIONS = 50;
/** Most different reactions one user may hold on one message. */
export const MAX_REACTIONS_PER_USER = 20;
/** Reactors listed per reaction in Message.reactions. */
export const REACTION_SUMMARY_USERS = 10;
/** Longest reaction in UTF-8 bytes. */
export const MAX_REACTION_BYTES = 64;

/** Mentions: an array of 0..50 distinct user ids (repeats count once), in first-given order. */
export function checkMentions(value: unknown, path = "/mentions"): string[] {
  if (!Array.isArray(value)) throw invalid("mentions must be an array of user ids", [{ path, message: "expected array" }]);
  const out = new Set<string>();
  value.forEach((v, i) => out.add(checkUserId(v, `${path}/${i}`)));
  if (out.size > MAX_MENTIONS) throw invalid(`mentions may name at most ${MAX_MENTIONS} distinct users`, [{ path, message: `${out.size} distinct users` }]);
  return [...out];
}

// Unicode White_Space and control characters (Cc) are never part of a reaction.
const BAD_REACTION = /[\p{White_Space}\p{Cc}]/u;

/** A reaction: 1..64 UTF-8 bytes, well-formed, no White_Space or control characters. */
export function checkReaction(value: unknown, path = "/reaction"): string {
  if (typeof value !== "string" || value.length === 0 || !value.isWellFormed() || BAD_REACTION.test(value) || utf8Bytes(value) > MAX_REACTION_BYTES) {
    throw invalid(`reaction must be 1..${MAX_REACTION_BYTES} UTF-8 bytes without whitespace or control characters`, [{ path, message: "invalid reaction" }]);
  }
  return value;
}

// A cursor names a position and carries a check over (tenant, scope, position), so a cursor the
// server did not issue (edited, truncated, or from another room or message) is refused (400).
// Not a secret: it only has to tell our cursors from anything else, and never expire.
function check(tenantId: string, scope: string, pos: number): string {
  return createHash("sha256").update(`chatapi-cursor\u0000${tenantId}\u0000${scope}\u0000${pos}`).digest("base64url").slice(0, 12);
}

/** An opaque cursor for position `pos` of `scope` (a room id for changes, a message id for reactions). */
export function encodePosition(tenantId: string, scope: string, pos: number): string {
  return Buffer.from(`${pos}.${check(tenantId, scope, pos)}`).toString("base64url");
}

/** The position of a cursor issued by encodePosition for the same tenant and scope; 400 otherwise. */
export function decodePosition(tenantId: string, scope: string, cursor: string, path: string): number {
  const text = /^[A-Za-z0-9_-]{1,64}$/.test(cursor) ? Buffer.from(cursor, "base64url").toString("utf8") : "";
  const m = /^(0|[1-9]\d{0,15})\.([A-Za-z0-9_-]{12})$/.exec(text);
  const pos = m ? Number(m[1]) : NaN;
  // Re-encoding must give the cursor back: base64 decoding alone ignores stray trailing characters.
  if (!m || !Number.isSafeInteger(pos) || m[2] !== check(tenantId, scope, pos) || encodePosition(tenantId, scope, pos) !== cursor) throw invalid("cursor was not issued by this server for this resource", [{ path, message: "unknown cursor" }]);
  return pos;
}
