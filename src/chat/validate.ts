// Domain-level input rules that a schema cannot express (UTF-8 byte lengths, JSON sizes).
import { invalid } from "../errors";

export const MAX_JSON_BYTES = 4096;
const encoder = new TextEncoder();

/** UTF-8 byte length of a string. */
export function utf8Bytes(s: string): number {
  // Fast path: pure ASCII strings have one byte per char.
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(s) ? s.length : encoder.encode(s).length;
}

/** Content: a well-formed string of 1..max UTF-8 bytes (whitespace kept as is). */
export function checkContent(content: unknown, maxBytes: number, path = "/content"): string {
  if (typeof content !== "string") throw invalid("content must be a string", [{ path, message: "expected string" }]);
  if (!content.isWellFormed()) throw invalid("content must be valid Unicode text (no lone surrogates)", [{ path, message: "lone surrogate" }]);
  const n = utf8Bytes(content);
  if (n < 1 || n > maxBytes) throw invalid(`content must be 1..${maxBytes} bytes`, [{ path, message: `${n} bytes; allowed 1..${maxBytes}` }]);
  return content;
}

/** Any JSON value up to 4 KiB serialized; returns its JSON text (null for null/undefined). */
export function jsonText(value: unknown, path: string): string | null {
  if (value === undefined || value === null) return null;
  const text = JSON.stringify(value);
  if (text === undefined) throw invalid(`${path.slice(1)} must be JSON`, [{ path, message: "not JSON" }]);
  const n = utf8Bytes(text);
  if (n > MAX_JSON_BYTES) throw invalid(`${path.slice(1)} must be at most ${MAX_JSON_BYTES} bytes serialized`, [{ path, message: `${n} bytes` }]);
  return text;
}

/** Any JSON value up to 4 KiB serialized; returns the value (null for null/undefined). */
export function checkJson(value: unknown, path: string): unknown {
  return jsonText(value, path) === null ? null : value;
}

/** Parses stored JSON text back to the value it was (null stays null). */
export function parseJson(text: string | null): unknown {
  return text === null ? null : JSON.parse(text);
}

// C0, DEL and C1: the control characters (Unicode category Cc).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;

/**
 * The one string rule of the API (client_msg_id, topics, names, ids): a string of min..max
 * characters (UTF-16 code units), well-formed Unicode (no lone surrogates) and, unless `controls`
 * is true, without control characters. Throws invalid_request naming `path`.
 */
export function checkText(value: unknown, o: { path: string; what: string; min: number; max: number; controls?: boolean }): string {
  const ok = typeof value === "string" && value.length >= o.min && value.length <= o.max && value.isWellFormed() && (o.controls === true || !CONTROL.test(value));
  if (!ok) {
    const rule = `${o.min}..${o.max} characters of well-formed Unicode${o.controls ? "" : " without control characters"}`;
    throw invalid(`${o.what} must be ${rule}`, [{ path: o.path, message: `invalid ${o.what}` }]);
  }
  return value as string;
}

/**
 * The user-id rule, the same for the X-User-Id header and every id in a body: 1..128 characters that
 * an HTTP header value can carry as they are, i.e. printable ASCII and Latin-1 (U+0020..U+007E,
 * U+00A0..U+00FF), without leading or trailing spaces (HTTP strips them from header values). An id a
 * header cannot carry would name a member who could never act.
 */
const USER_ID_RE = /^(?! )[\x20-\x7e\xa0-\xff]{1,128}(?<! )$/;

/** True when `id` follows the user-id rule. */
export function isValidUserId(id: unknown): id is string {
  return typeof id === "string" && USER_ID_RE.test(id);
}

export const USER_ID_RULE = "1..128 printable ASCII or Latin-1 characters (U+0020..U+007E, U+00A0..U+00FF), no leading or trailing space";

/** A user id in a body: the header rule (isValidUserId). */
export function checkUserId(id: unknown, path: string): string {
  if (!isValidUserId(id)) throw invalid(`user ids must be ${USER_ID_RULE}`, [{ path, message: "invalid user id" }]);
  return id;
}

/** A short display string (room name): 1..max chars, no control characters, well-formed. */
export function checkName(name: unknown, path: string, max = 200): string {
  return checkText(name, { path, what: "name", min: 1, max });
}
