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

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;

/** A user id: 1..128 chars, no control characters. */
export function checkUserId(id: unknown, path: string): string {
  if (typeof id !== "string" || id.length < 1 || id.length > 128 || CONTROL.test(id) || !id.isWellFormed()) {
    throw invalid("user ids must be 1..128 characters without control characters", [{ path, message: "invalid user id" }]);
  }
  return id;
}

/** A short display string (room name): 1..max chars, no control characters, well-formed. */
export function checkName(name: unknown, path: string, max = 200): string {
  if (typeof name !== "string" || name.length < 1 || name.length > max || CONTROL.test(name) || !name.isWellFormed()) {
    throw invalid(`name must be 1..${max} characters without control characters`, [{ path, message: "invalid name" }]);
  }
  return name;
}
