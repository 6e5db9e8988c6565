import { describe, expect, test } from "bun:test";
import { constantTimeEqual, generateSecret, sha256Hex } from "./keys";

describe("generateSecret", () => {
  test("32 random bytes as base64url (43 characters, no padding)", () => {
    const k = generateSecret();
    expect(k).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(k, "base64url")).toHaveLength(32);
  });

  test("never repeats", () => {
    const keys = new Set(Array.from({ length: 1000 }, () => generateSecret()));
    expect(keys.size).toBe(1000);
  });

  test("honours the byte count", () => {
    expect(Buffer.from(generateSecret(16), "base64url")).toHaveLength(16);
  });
});

describe("sha256Hex", () => {
  test("matches the FIPS 180-2 test vectors, lowercase hex", () => {
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  test("hashes UTF-8", () => {
    expect(sha256Hex("é")).toBe(new Bun.CryptoHasher("sha256").update(new TextEncoder().encode("é")).digest("hex"));
  });
});

describe("constantTimeEqual", () => {
  test("true only for identical strings", () => {
    expect(constantTimeEqual("secret-value", "secret-value")).toBe(true);
    expect(constantTimeEqual("secret-value", "secret-valuf")).toBe(false);
    expect(constantTimeEqual("secret-value", "secret-valu")).toBe(false);
    expect(constantTimeEqual("", "")).toBe(true);
    expect(constantTimeEqual("a", "")).toBe(false);
    expect(constantTimeEqual("é", "e\u0301")).toBe(false);
  });
});
