// Issue 17: JWT_MAX_TTL (default 24 h, 1s..7d) bounds how far in the future a user token's exp may be.
import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "../../src/config";
import { startTestServer } from "../helpers";
import { bearer, jwtTenant } from "./jwt-helpers";

const problems = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
    return [];
  } catch (e) {
    return e instanceof ConfigError ? e.problems : [String(e)];
  }
};

describe("JWT_MAX_TTL", () => {
  test("defaults to 24 h; takes durations from 1s to 7d", () => {
    expect(loadConfig({}).jwtMaxTtlMs).toBe(86_400_000);
    expect(loadConfig({ JWT_MAX_TTL: "90m" }).jwtMaxTtlMs).toBe(5_400_000);
    expect(loadConfig({ JWT_MAX_TTL: "7d" }).jwtMaxTtlMs).toBe(7 * 86_400_000);
  });

  test("values outside 1s..7d or not durations are configuration errors naming the variable", () => {
    for (const bad of ["0", "500ms", "8d", "forever", "-1h"]) {
      const p = problems({ JWT_MAX_TTL: bad });
      expect(p.length).toBe(1);
      expect(p[0]).toStartWith("JWT_MAX_TTL:");
    }
  });

  test("the server refuses a token whose exp is beyond the configured JWT_MAX_TTL", async () => {
    const s = await startTestServer({ JWT_MAX_TTL: "1h" });
    try {
      const t = await jwtTenant(s, "ttl");
      const now = Math.floor(Date.now() / 1000);
      expect((await bearer(s, await t.token("alice", { exp: now + 3000 })).get("/rooms")).status).toBe(200);
      const r = await bearer(s, await t.token("alice", { exp: now + 7200 })).get("/rooms");
      expect(r.status).toBe(401);
      expect(r.body.message).toContain("JWT_MAX_TTL");
    } finally {
      await s.stop();
    }
  });
});
