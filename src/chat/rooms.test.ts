// dmKey: the deterministic DM key is symmetric and injective on unordered pairs (escaping).
import { describe, expect, test } from "bun:test";
import { dmKey } from "./rooms";

describe("dmKey", () => {
  test("is symmetric", () => {
    expect(dmKey("alice", "bob")).toBe(dmKey("bob", "alice"));
    expect(dmKey("a:b", "c")).toBe(dmKey("c", "a:b"));
  });

  test("the colliding pair of a naive join gets two keys", () => {
    expect(dmKey("a:b", "c")).not.toBe(dmKey("a", "b:c"));
    expect(dmKey("a\\", ":b")).not.toBe(dmKey("a\\:", "b"));
    expect(dmKey("a", "\\:b")).not.toBe(dmKey("a\\:", "b"));
    expect(dmKey("a\\", "b")).not.toBe(dmKey("a", "\\b"));
  });

  test("is injective over every unordered pair of short ids made of 'a', ':' and '\\\\'", () => {
    const alphabet = ["a", ":", "\\"];
    const ids: string[] = [];
    const grow = (prefix: string, depth: number) => {
      if (prefix) ids.push(prefix);
      if (depth === 0) return;
      for (const c of alphabet) grow(prefix + c, depth - 1);
    };
    grow("", 4);
    expect(ids.length).toBe(3 + 9 + 27 + 81);
    const seen = new Map<string, string>();
    for (let i = 0; i < ids.length; i++) {
      for (let j = i + 1; j < ids.length; j++) {
        const key = dmKey(ids[i]!, ids[j]!);
        const pair = JSON.stringify([ids[i], ids[j]]);
        const prev = seen.get(key);
        if (prev !== undefined) throw new Error(`collision: ${prev} and ${pair} share ${key}`);
        seen.set(key, pair);
      }
    }
    expect(seen.size).toBe((ids.length * (ids.length - 1)) / 2);
  });

  test("distinguishes ids that differ only in case or Unicode form", () => {
    expect(dmKey("Bob", "alice")).not.toBe(dmKey("bob", "alice"));
    expect(dmKey("\u00e9", "x")).not.toBe(dmKey("e\u0301", "x"));
  });
});
