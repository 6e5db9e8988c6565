// Issue 13 (docs/reference/limits.md): routing whatever the Host header, 415 for non-JSON bodies, plain
// decimal query integers, limit ranges, one string rule and one user-id rule.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rawRequest } from "../reliability/lib/raw-http";
import { request, startTestServer, type TestServer } from "../helpers";

let s: TestServer;
let key: string;
let room: string;
beforeAll(async () => {
  s = await startTestServer();
  key = (await s.createTenant("routing")).api_key;
  room = (await s.client(key, "alice").post("/rooms", { type: "channel", name: "c" })).body.room_id;
});
afterAll(() => s.stop());

const port = () => Number(new URL(s.url).port);

describe("Host header", () => {
  for (const host of ["x", "api", "ab", "a:1", "[::1]", "localhost:8080", "chat.example.com"]) {
    test(`Host: ${host} routes like any other Host (/health 200, an API route authenticates)`, async () => {
      const health = await rawRequest("127.0.0.1", port(), `GET /health HTTP/1.1\r\nHost: ${host}\r\nConnection: close`);
      expect(health.status).toBe(200);
      expect(JSON.parse(health.body).status).toBe("ok");
      const rooms = await rawRequest("127.0.0.1", port(), `GET /rooms/${room}/messages?limit=5 HTTP/1.1\r\nHost: ${host}\r\nX-API-Key: ${key}\r\nX-User-Id: alice\r\nConnection: close`);
      expect(rooms.status).toBe(200);
      expect(JSON.parse(rooms.body)).toEqual({ messages: [], has_more: false });
    });
  }

  test("a request without any Host header is routed too", async () => {
    const r = await rawRequest("127.0.0.1", port(), "GET /health HTTP/1.1\r\nConnection: close");
    // HTTP/1.1 requires Host; Bun may refuse such a request itself (400), but never answers 404 or 5xx.
    expect([200, 400]).toContain(r.status);
  });
});

describe("415 unsupported_media_type on JSON routes", () => {
  const cases: [string, string | undefined, string][] = [
    ["form-urlencoded", "application/x-www-form-urlencoded", "type=channel"],
    ["multipart", "multipart/form-data; boundary=xyz", '--xyz\r\nContent-Disposition: form-data; name="type"\r\n\r\nchannel\r\n--xyz--\r\n'],
    ["text/plain", "text/plain", '{"type":"channel"}'],
    ["no Content-Type with a body", undefined, '{"type":"channel"}'],
  ];
  for (const [label, ct, body] of cases) {
    test(`${label}: 415 and nothing created`, async () => {
      const headers: Record<string, string> = { "x-api-key": key, "x-user-id": "bob" };
      if (ct) headers["content-type"] = ct;
      const res = await fetch(`${s.url}/rooms`, { method: "POST", headers, body: ct === undefined ? new Blob([body]) : body });
      expect(res.status).toBe(415);
      const b = (await res.json()) as any;
      expect(b.error).toBe("unsupported_media_type");
      expect(b.request_id).toBe(res.headers.get("x-request-id"));
      expect((await s.client(key, "bob").get("/rooms")).body.rooms).toEqual([]);
    });
  }

  test("application/json with a charset, and a POST without a body, are accepted", async () => {
    const r = await request(`${s.url}/rooms`, "POST", '{"type":"channel"}', { "x-api-key": key, "x-user-id": "carol", "content-type": "application/json; charset=utf-8" });
    expect(r.status).toBe(201);
    const tok = await fetch(`${s.url}/ws/token`, { method: "POST", headers: { "x-api-key": key, "x-user-id": "carol" } });
    expect(tok.status).toBe(200);
  });
});

describe("query integers are plain decimal digits", () => {
  for (const v of ["0x10", "1e2", "%2B5", "+5", "%205", "1.0", "-1", "", "5a"]) {
    test(`limit=${v} is 400 on every route that takes limit`, async () => {
      const u = s.client(key, "alice");
      for (const path of [`/rooms?limit=${v}`, `/rooms/${room}/messages?limit=${v}`, `/notifications?limit=${v}`]) {
        const r = await u.get(path);
        expect(r.status).toBe(400);
        expect(r.body.error).toBe("invalid_request");
      }
      expect((await s.client(key).get(`/admin/dead-letters?limit=${v}`)).status).toBe(400);
    });
  }

  test("after_seq and before_seq follow the same rule; leading zeros are fine", async () => {
    const u = s.client(key, "alice");
    expect((await u.get(`/rooms/${room}/messages?after_seq=0x1`)).status).toBe(400);
    expect((await u.get(`/rooms/${room}/messages?before_seq=1e1`)).status).toBe(400);
    expect((await u.get(`/rooms/${room}/messages?after_seq=00&limit=007`)).status).toBe(200);
    expect((await u.get("/rooms?limit=010")).status).toBe(200);
  });

  test("limit=0 and limit past the range are 400 on GET /rooms and GET /admin/dead-letters (never clamped)", async () => {
    const u = s.client(key, "alice");
    for (const l of ["0", "201"]) expect((await u.get(`/rooms?limit=${l}`)).status).toBe(400);
    for (const l of ["0", "1001"]) expect((await s.client(key).get(`/admin/dead-letters?limit=${l}`)).status).toBe(400);
    expect((await s.client(key).get("/admin/dead-letters?limit=1000")).status).toBe(200);
  });
});

describe("one string rule", () => {
  const post = (path: string, text: string, userId = "alice") =>
    request(`${s.url}${path}`, "POST", text, { "x-api-key": key, "x-user-id": userId, "content-type": "application/json" });

  test("client_msg_id: a lone surrogate or a control character is 400, like every other string", async () => {
    expect((await post(`/rooms/${room}/messages`, '{"content":"hi","client_msg_id":"a\\ud800"}')).status).toBe(400);
    expect((await post(`/rooms/${room}/messages`, '{"content":"hi","client_msg_id":"a\\u0000b"}')).status).toBe(400);
    expect((await post(`/rooms/${room}/messages`, '{"content":"hi","client_msg_id":"ok-1"}')).status).toBe(201);
  });

  test("topics: NUL, control characters and lone surrogates are 400 (notify and subscriptions)", async () => {
    for (const topic of ["a\\u0000b", "tab\\there", "x\\udc00"]) {
      expect((await post("/subscriptions", `{"topic":"${topic}"}`)).status).toBe(400);
      const r = await request(`${s.url}/notify`, "POST", `{"topic":"${topic}","payload":1,"targets":{"user_ids":["alice"]}}`, { "x-api-key": key, "content-type": "application/json" });
      expect(r.status).toBe(400);
    }
    expect((await post("/subscriptions", '{"topic":"déploiements 🚀"}')).status).toBe(201);
  });

  test("room names: lone surrogates and control characters are 400", async () => {
    expect((await post("/rooms", '{"type":"channel","name":"a\\ud800"}')).status).toBe(400);
    expect((await post("/rooms", '{"type":"channel","name":"a\\u0007"}')).status).toBe(400);
  });
});

describe("one user-id rule for headers and bodies", () => {
  test("a body user id a header cannot carry is 400: non-Latin-1, leading or trailing space", async () => {
    const u = s.client(key, "alice");
    for (const bad of ["日本", "emoji😀", " lead", "trail ", "a\u0085b"]) {
      const r = await u.post("/rooms", { type: "group", name: "g", members: [bad] });
      expect(r.status).toBe(400);
      expect((await u.post(`/rooms/${room}/members`, { user_ids: [bad] })).status).toBe(400);
      expect((await s.client(key).post("/notify", { topic: "t", payload: 1, targets: { user_ids: [bad] } })).status).toBe(400);
    }
  });

  test("a Latin-1 user id is accepted in a body and can act through X-User-Id", async () => {
    const u = s.client(key, "alice");
    const g = await u.post("/rooms", { type: "group", name: "g", members: ["josé müller"] });
    expect(g.status).toBe(201);
    // fetch sends header values as Latin-1 bytes: the same id reaches the server.
    const rooms = await fetch(`${s.url}/rooms`, { headers: { "x-api-key": key, "x-user-id": "josé müller" } });
    expect(rooms.status).toBe(200);
    expect(((await rooms.json()) as any).rooms.map((r: any) => r.room_id)).toContain(g.body.room_id);
  });
});
