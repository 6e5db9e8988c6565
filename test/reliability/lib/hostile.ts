// Hostile values for the fuzzers: wrong types, limits, huge and deep values, invalid UTF-8 and lone
// surrogates, control characters, prototype-pollution keys, SQL and path fragments, number edge cases.
// None of them is an absolute URL to anything but loopback: a fuzzed webhook_url must never make the
// server call out of this machine.
import type { Prng } from "./prng";

/** Strings that are hostile as ids, names, topics and header values (before any URL encoding). */
export const HOSTILE_STRINGS: readonly string[] = [
  "", " ", "\t", "\u0000", "\u0001", "\u001f", "\u007f", "\u0085", "\u009f", "a\u0000b", "a\nb", "\r\n",
  "..", "../", "../../etc/passwd", "..\\..\\windows", "%2e%2e", "%2e%2e%2f", "%00", "%", "%zz", "/", "//", "\\",
  "'; DROP TABLE messages; --", "' OR '1'='1", "\" OR 1=1 --", "1; SELECT * FROM tenants", "`", "$(id)", "{{7*7}}",
  "__proto__", "constructor", "prototype", "constructor.prototype", "toString", "hasOwnProperty", "valueOf",
  "NaN", "Infinity", "-Infinity", "undefined", "null", "true", "[object Object]", "-1", "0", "1e309", "9".repeat(40),
  "\ud800", "\udfff", "a\ud800b", "\udc00\ud800", "😀", "\u202e", "\ufeff", "\uffff", "\u2028", "e\u0301",
  "a".repeat(64), "a".repeat(65), "a".repeat(128), "a".repeat(129), "a".repeat(4096), "x".repeat(70_000),
  "http://127.0.0.1:9/hook", "javascript:alert(1)", "<script>alert(1)</script>", "*", "?", "#", "&", "=",
];

/** Numbers at and beyond the limits (as JSON they stay numbers; 1e400 parses to Infinity). */
export const EDGE_NUMBERS_JSON: readonly string[] = [
  "0", "-0", "1", "-1", "0.5", "1.5", "199", "200", "201", "1000", "1001", "8192", "8193", "4096", "65536",
  "2147483647", "2147483648", "4294967296", "9007199254740991", "9007199254740992", "9007199254740993",
  "-9007199254740993", "1e308", "1e400", "-1e400", "1e-400", "123456789012345678901234567890",
];

/** Query-string values for numeric and boolean parameters. */
export const HOSTILE_QUERY_VALUES: readonly string[] = [
  "", "-1", "0", "1", "200", "201", "1000", "1001", "1.5", "1e3", "1e309", "NaN", "Infinity", "-Infinity", "0x10", "010", " 1", "1 ",
  "9007199254740993", "-0", "true", "false", "yes", "null", "[]", "{}", "%00", "%ff", "%c3%28", "%ed%a0%80", "a".repeat(5000), "%2e%2e%2f",
  "json", "prometheus", "JSON", "__proto__",
];

/** Deeply nested JSON text (arrays or objects). */
export function deepJson(depth: number, kind: "array" | "object" = "array"): string {
  return kind === "array" ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
}

/** A JSON value (as text) that is hostile in place of any field. */
export function hostileJsonValue(r: Prng): string {
  switch (r.int(0, 13)) {
    case 0:
      return r.pick(["null", "true", "false", "{}", "[]", '""', "[null]", '{"":""}', "[[]]", '[""]', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}']);
    case 1:
      return r.pick(EDGE_NUMBERS_JSON);
    case 2:
    case 3:
    case 4:
      return JSON.stringify(r.pick(HOSTILE_STRINGS));
    case 5:
      return `"${r.pick(["\\ud800", "\\udfff", "a\\ud800", "\\u0000", "\\u001f\\u007f", "\\ud83d", "\\ude00x"])}"`;
    case 6:
      return deepJson(r.pick([50, 500, 5000, 20_000]), r.bool() ? "array" : "object");
    case 7:
      return `[${Array.from({ length: r.pick([1001, 5000]) }, () => '"u"').join(",")}]`;
    case 8:
      return JSON.stringify("é".repeat(r.pick([2001, 4097, 8193, 20_000])));
    case 9:
      return JSON.stringify({ [r.pick(["__proto__", "constructor", "prototype", "toString"])]: r.pick(HOSTILE_STRINGS) });
    case 10:
      return `{"a":${"1".repeat(r.int(20, 400))}}`;
    case 11:
      return JSON.stringify(Array.from({ length: r.int(2, 30) }, () => r.pick(HOSTILE_STRINGS.slice(0, 60))));
    case 12:
      return JSON.stringify({ nested: { deeper: [r.pick(HOSTILE_STRINGS), { k: r.int(-5, 5) }] } });
    default:
      return JSON.stringify(r.word(r.int(0, 12)));
  }
}

/** Malformed or almost-JSON body text. */
export function malformedJson(r: Prng, valid: string): string {
  switch (r.int(0, 11)) {
    case 0:
      return valid.slice(0, r.int(0, Math.max(0, valid.length - 1)));
    case 1:
      return `${valid}garbage`;
    case 2:
      return valid.replace(/"/g, "'");
    case 3:
      return `\ufeff${valid}`;
    case 4:
      return valid.replace(/}$/, ",}");
    case 5:
      return r.pick(["", " ", "\n", "null", "[]", "0", '"str"', "true", "NaN", "{", "}", "{{}}", "[}", '{"a":}', '{"a" 1}', "{a:1}", "/* c */{}", "{}{}"]);
    case 6:
      return "{".repeat(r.pick([1000, 100_000]));
    case 7:
      return valid.replace(/:/, ":NaN,\"x\":");
    case 8:
      return valid.replace(/:\s*"[^"]*"/, ":Infinity");
    case 9:
      return `[${valid}]`;
    case 10:
      return valid.replace(/"([a-z_]+)":/, '"$1":1,"$1":');
    default:
      return `{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"isAdmin":true}},${valid.slice(1)}`;
  }
}

/** Bytes that are not valid UTF-8 (overlong, surrogates, beyond U+10FFFF, truncated, stray continuation). */
export const INVALID_UTF8: readonly number[][] = [[0xc3, 0x28], [0xff], [0xfe, 0xff], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe0, 0x80, 0xaf], [0xc0, 0xaf], [0x80], [0xe2, 0x82]];

/** `text` with an invalid UTF-8 sequence spliced in at a random point. */
export function withInvalidUtf8(r: Prng, text: string): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  const at = r.int(0, bytes.length);
  const bad = r.pick(INVALID_UTF8);
  const out = new Uint8Array(bytes.length + bad.length);
  out.set(bytes.subarray(0, at), 0);
  out.set(bad, at);
  out.set(bytes.subarray(at), at + bad.length);
  return out;
}
