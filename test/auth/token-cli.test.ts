// Issue 17: `chatapi token <tenant_id> <user_id> [--ttl 1h]` prints a user JWT signed with the
// tenant's jwt_secret, from the same environment (DATA_DIR) as the server; refusals exit 2.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decodeJwt } from "jose";
import { startTestServer, type TestServer } from "../helpers";
import { runCli } from "../foundation/cli";
import { bearer, jwtTenant, type JwtTenant } from "./jwt-helpers";

let s: TestServer;
let t: JwtTenant;
let keyOnly: { tenant_id: string };
beforeAll(async () => {
  s = await startTestServer();
  t = await jwtTenant(s, "cli");
  keyOnly = await s.createTenant("no-secret");
});
afterAll(() => s.stop());

// The CLI reads the server's database (same DATA_DIR, and DATABASE_DSN when it is PostgreSQL), as an operator on the same host would.
const cli = (args: string[], env: Record<string, string> = {}) =>
  runCli(["token", ...args], { DATA_DIR: s.dataDir, LOG_LEVEL: "warn", ...(s.api.config.databaseUrl ? { DATABASE_DSN: s.api.config.databaseUrl } : {}), ...env });

describe("chatapi token", () => {
  test("prints only a JWT (default TTL 1 h) that the server accepts as the user", async () => {
    const r = await cli([t.tenant_id, "alice"]);
    expect(r.code).toBe(0);
    const token = r.stdout.trim();
    expect(r.stdout).toBe(`${token}\n`);
    const c = decodeJwt(token);
    expect(c).toMatchObject({ tid: t.tenant_id, sub: "alice" });
    expect(c.exp! - c.iat!).toBe(3600);
    const room = await t.room("alice", ["bob"]);
    const got = await bearer(s, token).get(`/rooms/${room}`);
    expect(got.status).toBe(200);
  });

  test("--ttl sets the lifetime (--ttl 15m and --ttl=2h)", async () => {
    for (const [args, secs] of [[["--ttl", "15m"], 900], [["--ttl=2h"], 7200]] as const) {
      const r = await cli([t.tenant_id, "bob", ...args]);
      expect(r.code).toBe(0);
      const c = decodeJwt(r.stdout.trim());
      expect(c.exp! - c.iat!).toBe(secs);
    }
  });

  test("a tenant without jwt_secret: exit 2 with a message, nothing on stdout", async () => {
    const r = await cli([keyOnly.tenant_id, "alice"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("jwt_secret");
  });

  test("a TTL beyond JWT_MAX_TTL: exit 2 (default 24 h, and a configured one)", async () => {
    const over = await cli([t.tenant_id, "alice", "--ttl", "25h"]);
    expect(over.code).toBe(2);
    expect(over.stderr).toContain("JWT_MAX_TTL");
    const configured = await cli([t.tenant_id, "alice", "--ttl", "2h"], { JWT_MAX_TTL: "1h" });
    expect(configured.code).toBe(2);
    expect((await cli([t.tenant_id, "alice", "--ttl", "30m"], { JWT_MAX_TTL: "1h" })).code).toBe(0);
  });

  test("bad arguments exit 2: unknown tenant, missing user, bad TTL, invalid user id, unknown option", async () => {
    for (const args of [["0190f000-0000-7000-8000-000000000000", "alice"], [t.tenant_id], [t.tenant_id, "alice", "--ttl", "soon"], [t.tenant_id, "a".repeat(129)], [t.tenant_id, "alice", "--forever"]]) {
      const r = await cli(args);
      expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 2, stdout: "" });
      expect(r.stderr.length).toBeGreaterThan(0);
    }
  });

  test("JWT_MAX_TTL outside 1s..7d is a configuration error (exit 2)", async () => {
    const r = await cli([t.tenant_id, "alice"], { JWT_MAX_TTL: "30d" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("JWT_MAX_TTL");
  });

  test("--help lists the command", async () => {
    const r = await runCli(["--help"], {});
    expect(r.stdout).toContain("chatapi token TENANT_ID USER_ID [--ttl 1h]");
    expect(r.stdout).toContain("JWT_MAX_TTL");
  });
});
