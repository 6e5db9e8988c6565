// Issue 17: a fuzz of malformed user tokens over REST and the WebSocket handshake. Random bytes,
// truncated and shuffled parts, huge headers near the limits, JSON bombs and deep nesting in claims,
// non-JSON segments: every answer is a 4xx (never a 5xx), and the server stays healthy.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers";
import { Prng } from "../reliability/lib/prng";
import { tryUpgrade } from "../ws/ws-helpers";
import { b64u, claims, jwtTenant, rawToken, SECRET, signHs, type JwtTenant } from "./jwt-helpers";

const SEED = Number(process.env.FUZZ_SEED ?? 1705);
let s: TestServer;
let t: JwtTenant;
let valid: string;
beforeAll(async () => {
  s = await startTestServer();
  t = await jwtTenant(s, "fuzz");
  valid = await t.token("alice");
});
afterAll(() => s.stop());

/** A signed token whose claims are `payload` (so only the claim checks can refuse it). */
const signed = (payload: Record<string, unknown>) => signHs(SECRET, payload);

function nested(depth: number, leaf: unknown = 1): unknown {
  let v: unknown = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 ? { a: v } : [v];
  return v;
}

/** Malformed tokens of every family; the PRNG makes the random ones reproducible from SEED. */
async function corpus(rnd: Prng): Promise<{ family: string; token: string }[]> {
  const out: { family: string; token: string }[] = [];
  const add = (family: string, token: string) => out.push({ family, token });
  const [h, p, sig] = valid.split(".") as [string, string, string];
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => rnd.int(0, 255));
  for (let i = 0; i < 40; i++) add("random bytes (base64url)", b64u(bytes(rnd.int(1, 400))));
  for (let i = 0; i < 40; i++) add("random three parts", `${b64u(bytes(rnd.int(0, 60)))}.${b64u(bytes(rnd.int(0, 200)))}.${b64u(bytes(rnd.int(0, 80)))}`);
  for (let i = 0; i < 20; i++) add("random printable", Array.from({ length: rnd.int(1, 200) }, () => String.fromCharCode(rnd.int(0x21, 0x7e))).join(""));
  for (let cut = 1; cut < valid.length; cut += Math.max(1, Math.floor(valid.length / 40))) add("truncated", valid.slice(0, cut));
  add("two parts", `${h}.${p}`);
  add("four parts", `${h}.${p}.${sig}.${sig}`);
  add("empty parts", "..");
  add("parts swapped", `${p}.${h}.${sig}`);
  add("signature dropped", `${h}.${p}.`);
  add("standard base64 padding", `${h}==.${p}.${sig}`);
  add("non-JSON header", `${b64u("not json")}.${p}.${sig}`);
  add("non-JSON payload", `${h}.${b64u("{oops")}.${sig}`);
  add("payload is an array", `${h}.${b64u("[1,2,3]")}.${sig}`);
  add("payload is a string", `${h}.${b64u('"tid"')}.${sig}`);
  add("payload is null", `${h}.${b64u("null")}.${sig}`);
  add("header is an array", `${b64u('["HS256"]')}.${p}.${sig}`);
  add("invalid UTF-8 in payload", `${h}.${b64u(Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d]))}.${sig}`);
  add("header with crit", rawToken({ alg: "HS256", crit: ["exp"], exp: 1 }, claims(t.tenant_id, "alice")));
  add("header with a jwk to trust", rawToken({ alg: "RS256", jwk: { kty: "RSA", n: "AQAB", e: "AQAB" } }, claims(t.tenant_id, "alice")));
  add("alg as an object", rawToken({ alg: { toString: "HS256" } }, claims(t.tenant_id, "alice")));
  add("kid as an object", rawToken({ alg: "RS256", kid: { $ne: null } }, claims(t.tenant_id, "alice")));
  add("kid path traversal", rawToken({ alg: "RS256", kid: "../../etc/passwd" }, claims(t.tenant_id, "alice")));
  // Near the limits: the token cap (8192 characters) and Bun's header limit.
  add("token just over the cap", rawToken({ alg: "HS256" }, { ...claims(t.tenant_id, "alice"), pad: "x".repeat(6200) }));
  add("huge header segment", `${b64u(JSON.stringify({ alg: "HS256", pad: "h".repeat(7000) }))}.${p}.${sig}`);
  add("JSON bomb: deep nesting in a claim", rawToken({ alg: "HS256" }, { ...claims(t.tenant_id, "alice"), deep: nested(2000) }));
  add("JSON bomb: deep nesting as the payload", `${h}.${b64u("[".repeat(5000) + "]".repeat(5000))}.${sig}`);
  add("JSON bomb: deep nesting in the header", `${b64u('{"alg":"HS256","x":' + "[".repeat(5000) + "]".repeat(5000) + "}")}.${p}.${sig}`);
  add("JSON bomb: many keys", rawToken({ alg: "HS256" }, Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i]))));
  add("__proto__ claim", `${h}.${b64u(`{"__proto__":{"tid":"${t.tenant_id}"},"sub":"alice","exp":9999999999}`)}.${sig}`);
  // Validly signed, hostile claims: only the claim rules can refuse these.
  add("signed: deep nesting in sub", await signed({ ...claims(t.tenant_id, "alice"), sub: nested(300) }));
  add("signed: tid as an object", await signed({ ...claims(t.tenant_id, "alice"), tid: { id: t.tenant_id } }));
  add("signed: exp huge", await signed({ ...claims(t.tenant_id, "alice"), exp: 1e308 }));
  add("signed: exp negative", await signed({ ...claims(t.tenant_id, "alice"), exp: -1 }));
  add("signed: exp NaN-like string", await signed({ ...claims(t.tenant_id, "alice"), exp: "NaN" }));
  add("signed: nbf as a string", await signed({ ...claims(t.tenant_id, "alice"), nbf: "yesterday" }));
  add("signed: iat as an array", await signed({ ...claims(t.tenant_id, "alice"), iat: [1] }));
  add("signed: sub with a NUL", await signed(claims(t.tenant_id, "al\u0000ice")));
  add("signed: tid huge", await signed(claims("t".repeat(5000), "alice")));
  return out;
}

describe("malformed tokens: 0 5xx", () => {
  test(`REST (Authorization: Bearer) and the WS handshake (?token=) answer 4xx to every malformed token (seed ${SEED})`, async () => {
    const cases = await corpus(new Prng(SEED));
    const bad: string[] = [];
    for (const c of cases) {
      const rest = await s.raw({ authorization: `Bearer ${c.token}` }).get("/rooms");
      const ws = await tryUpgrade(s.url, `?token=${encodeURIComponent(c.token)}`, {});
      for (const [where, status] of [["REST", rest.status], ["WS", ws.status]] as const) {
        // 401 for every token; 431 only where the HTTP layer itself refuses an oversized head.
        if (status !== 401 && status !== 431) bad.push(`${where} ${status} for ${c.family}`);
      }
    }
    expect(bad).toEqual([]);
    expect(cases.length).toBeGreaterThan(150);
    // Still healthy, and a valid token still works.
    expect((await s.raw({}).get("/health")).status).toBe(200);
    expect((await s.raw({ authorization: `Bearer ${valid}` }).get("/rooms")).status).toBe(200);
    expect(s.logs.filter((l) => l.includes('"level":50'))).toEqual([]);
  });

  test("a Bearer header at the HTTP header size limit is refused with a 4xx, never a 5xx", async () => {
    for (const n of [8_000, 16_000, 60_000]) {
      const r = await fetch(`${s.url}/rooms`, { headers: { authorization: `Bearer ${"A".repeat(n)}.${"B".repeat(10)}.c` } });
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
    }
  });
});
