import { describe, expect, test } from "bun:test";
import { AppError } from "../errors";
import { parseSearchQuery, toFts5Match } from "./search-query";

const bad = (q: unknown) => {
  try {
    parseSearchQuery(q);
  } catch (err) {
    return err instanceof AppError ? err.status : -1;
  }
  return 0;
};

describe("search query grammar", () => {
  test("terms split at whitespace; trailing * is a prefix; quotes make a phrase", () => {
    expect(parseSearchQuery("deploy  prod*")).toEqual([{ text: "deploy", prefix: false }, { text: "prod", prefix: true }]);
    expect(parseSearchQuery('"two   words" x')).toEqual([{ text: "two words", prefix: false }, { text: "x", prefix: false }]);
    expect(parseSearchQuery('"unterminated phrase')).toEqual([{ text: "unterminated phrase", prefix: false }]);
    expect(parseSearchQuery('"ab cd"*')).toEqual([{ text: "ab cd", prefix: true }]);
  });
  test("operators of FTS5 and tsquery are plain text", () => {
    expect(parseSearchQuery("a OR b NEAR(c) !d & e:* |")).toEqual([
      { text: "a", prefix: false },
      { text: "OR", prefix: false },
      { text: "b", prefix: false },
      { text: "NEAR(c)", prefix: false },
      { text: "!d", prefix: false },
      { text: "e:", prefix: true },
    ]);
  });
  test("no searchable term, or a length outside 1..256 code points: 400", () => {
    for (const q of ["", "   ", "*", '""', "!!! ***", "\u0000", undefined]) expect(bad(q)).toBe(400);
    expect(bad("é".repeat(256))).toBe(0);
    expect(bad("😀".repeat(256) + " a")).toBe(400);
    expect(bad("a".repeat(257))).toBe(400);
  });
  test("control characters and NUL separate terms", () => {
    expect(parseSearchQuery("a\u0000b")).toEqual([{ text: "a", prefix: false }, { text: "b", prefix: false }]);
  });
  test("FTS5 expression quotes every term", () => {
    expect(toFts5Match(parseSearchQuery('say"hi" x*'))).toBe('"say" "hi" "x" *');
    expect(toFts5Match([{ text: 'a"b', prefix: false }])).toBe('"a""b"');
  });
});
