// Issue 17: the tenant's JWT keys through the admin API. jwt_secret is write-only (has_jwt_secret),
// jwt_public_keys are public JWKs with unique kids; bad input is a 400 with details, on PATCH and POST.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, TEST_MASTER_KEY, type RestClient, type TestServer } from "../helpers";
import { genKey, privateJwk, SECRET } from "./jwt-helpers";

let s: TestServer;
let admin: RestClient;
beforeAll(async () => {
  s = await startTestServer();
  admin = s.raw({ "x-master-key": TEST_MASTER_KEY });
});
afterAll(() => s.stop());

async function expect400(config: Record<string, unknown>, path: string) {
  const t = await s.createTenant("v");
  for (const r of [await admin.patch(`/admin/tenants/${t.tenant_id}`, { config }), await admin.post("/admin/tenants", { name: "v2", config })]) {
    expect({ status: r.status, error: r.body?.error }).toEqual({ status: 400, error: "invalid_request" });
    expect(r.body.details?.map((d: any) => d.path)).toContain(path);
  }
  // Nothing was stored.
  const after = await admin.get(`/admin/tenants/${t.tenant_id}`);
  expect(after.body.config).toMatchObject({ has_jwt_secret: false, jwt_public_keys: [] });
}

describe("jwt_secret", () => {
  test("write-only: has_jwt_secret reports it, no response shows it, null clears it", async () => {
    const created = await admin.post("/admin/tenants", { name: "sec", config: { jwt_secret: SECRET } });
    expect(created.status).toBe(201);
    expect(created.body.config.has_jwt_secret).toBe(true);
    const id = created.body.tenant_id;
    for (const r of [created, await admin.get(`/admin/tenants/${id}`), await admin.get("/admin/tenants"), await admin.patch(`/admin/tenants/${id}`, { name: "renamed" })]) {
      expect(JSON.stringify(r.body)).not.toContain(SECRET);
    }
    expect((await admin.get(`/admin/tenants/${id}`)).body.config.has_jwt_secret).toBe(true);
    const cleared = await admin.patch(`/admin/tenants/${id}`, { config: { jwt_secret: null } });
    expect(cleared.body.config.has_jwt_secret).toBe(false);
  });

  test("400: a secret shorter than 32 bytes", () => expect400({ jwt_secret: "x".repeat(31) }, "/config/jwt_secret"));
  test("400: a secret longer than 512 bytes", () => expect400({ jwt_secret: "x".repeat(513) }, "/config/jwt_secret"));
  test("bytes, not characters: 16 two-byte characters are 32 bytes and accepted", async () => {
    const t = await s.createTenant("bytes");
    const r = await admin.patch(`/admin/tenants/${t.tenant_id}`, { config: { jwt_secret: "é".repeat(16) } });
    expect(r.status).toBe(200);
  });
  test("400: a secret that is not a string", () => expect400({ jwt_secret: 12345 }, "/config/jwt_secret"));
  test("a refused or accepted secret is never echoed in a response nor written to the log", async () => {
    const t = await s.createTenant("no-echo");
    const short = "short-secret-do-not-echo";
    const long = "L".repeat(3000);
    for (const v of [short, long, SECRET]) {
      const r = await admin.patch(`/admin/tenants/${t.tenant_id}`, { config: { jwt_secret: v } });
      expect(JSON.stringify(r.body)).not.toContain(v.slice(0, 24));
    }
    expect(s.logs.filter((l) => l.includes(short) || l.includes("L".repeat(64)) || l.includes(SECRET))).toEqual([]);
  });
});

describe("jwt_public_keys", () => {
  test("RS256, ES256 and EdDSA public JWKs are stored and shown (alg filled in), replacing the list; null clears", async () => {
    const keys = await Promise.all([genKey("RS256", "r"), genKey("ES256", "e"), genKey("EdDSA", "d")]);
    const t = await s.createTenant("jwks");
    const r = await admin.patch(`/admin/tenants/${t.tenant_id}`, { config: { jwt_public_keys: keys.map((k) => k.jwk) } });
    expect(r.status).toBe(200);
    expect(r.body.config.jwt_public_keys.map((k: any) => [k.kid, k.kty, k.alg])).toEqual([
      ["r", "RSA", "RS256"],
      ["e", "EC", "ES256"],
      ["d", "OKP", "EdDSA"],
    ]);
    expect(r.body.config.jwt_public_keys[1]).toEqual({ kty: "EC", kid: "e", alg: "ES256", crv: "P-256", x: keys[1]!.jwk.x, y: keys[1]!.jwk.y });
    const one = await admin.patch(`/admin/tenants/${t.tenant_id}`, { config: { jwt_public_keys: [keys[2]!.jwk] } });
    expect(one.body.config.jwt_public_keys.map((k: any) => k.kid)).toEqual(["d"]);
    expect((await admin.get(`/admin/tenants/${t.tenant_id}`)).body.config.jwt_public_keys.map((k: any) => k.kid)).toEqual(["d"]);
    const cleared = await admin.patch(`/admin/tenants/${t.tenant_id}`, { config: { jwt_public_keys: null } });
    expect(cleared.body.config.jwt_public_keys).toEqual([]);
  });

  test("400: private key material (RSA d/p/q..., EC d, OKP d)", async () => {
    for (const alg of ["RS256", "ES256", "EdDSA"] as const) await expect400({ jwt_public_keys: [await privateJwk(await genKey(alg, "p"))] }, "/config/jwt_public_keys/0");
  });
  test("400: a symmetric JWK (kty oct, k)", () => expect400({ jwt_public_keys: [{ kty: "oct", kid: "s", k: "c2VjcmV0" }] }, "/config/jwt_public_keys/0"));
  test("400: duplicate kid", async () => {
    const a = await genKey("ES256", "same");
    const b = await genKey("RS256", "same");
    await expect400({ jwt_public_keys: [a.jwk, b.jwk] }, "/config/jwt_public_keys/1");
  });
  test("400: missing kid", async () => {
    const { kid: _, ...noKid } = (await genKey("ES256", "x")).jwk;
    await expect400({ jwt_public_keys: [noKid] }, "/config/jwt_public_keys/0");
  });
  test("400: bad JWKs (garbage coordinates, unsupported curve, wrong alg, non-object)", async () => {
    const es = (await genKey("ES256", "e")).jwk;
    await expect400({ jwt_public_keys: [{ ...es, x: "AAAA" }] }, "/config/jwt_public_keys/0");
    await expect400({ jwt_public_keys: [{ ...es, crv: "P-384" }] }, "/config/jwt_public_keys/0");
    await expect400({ jwt_public_keys: [{ ...es, alg: "RS256" }] }, "/config/jwt_public_keys/0");
    await expect400({ jwt_public_keys: [{ ...es, use: "enc" }] }, "/config/jwt_public_keys/0");
    await expect400({ jwt_public_keys: [{ kty: "RSA", kid: "r", n: "AQAB", e: "AQAB" }] }, "/config/jwt_public_keys/0");
    await expect400({ jwt_public_keys: ["not a key"] }, "/config/jwt_public_keys/0");
  });
  test("400: an RSA key under 2048 bits", async () => {
    const { generateKeyPairSync } = await import("node:crypto");
    const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
    await expect400({ jwt_public_keys: [{ ...publicKey.export({ format: "jwk" }), kid: "small" }] }, "/config/jwt_public_keys/0");
  });
  test("400: more than 20 keys", async () => {
    const k = (await genKey("EdDSA", "k")).jwk;
    const r = await admin.post("/admin/tenants", { name: "many", config: { jwt_public_keys: Array.from({ length: 21 }, (_, i) => ({ ...k, kid: `k${i}` })) } });
    expect(r.status).toBe(400);
  });
});
