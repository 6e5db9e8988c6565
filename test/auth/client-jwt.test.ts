// Issue 17: the TypeScript client with a JWT from getToken, against a real server: one token for the
// socket and REST, reused while fresh, fetched again after a 4001 (key change), replay makes it lossless.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createChatClient, createRestClient, type ChatClient, type Message } from "../../src/client/index.ts";
import { startTestServer, waitFor, type TestServer } from "../helpers";
import { claims, jwtTenant, patchConfig, signHs, type JwtTenant } from "./jwt-helpers";

let s: TestServer;
let t: JwtTenant;
beforeAll(async () => {
  s = await startTestServer();
  t = await jwtTenant(s, "client");
});
afterAll(() => s.stop());

describe("ChatClient with a JWT", () => {
  test("getToken's JWT serves the socket and client.rest, and is reused while fresh", async () => {
    const room = await t.room("alice", ["bob"]);
    let calls = 0;
    const client = createChatClient({ url: s.wsUrl, getToken: async () => (calls++, t.token("alice")) });
    try {
      await client.connect();
      expect(client.userId).toBe("alice");
      const sent = await client.rest.sendMessage(room, "over REST with a JWT");
      expect(sent.sender_id).toBe("alice");
      const page = await client.rest.getMessages(room, { limit: 10 });
      expect(page.messages.map((m) => m.content)).toEqual(["over REST with a JWT"]);
      expect((await client.rest.listRooms()).rooms.map((r) => r.room_id)).toEqual([room]);
      expect(calls).toBe(1);
    } finally {
      client.close();
    }
  });

  test("after a key change the socket closes with 4001 and the client reconnects with a fresh token, losing nothing", async () => {
    const tenant = await jwtTenant(s, "client-rotate");
    const room = await tenant.room("alice", ["bob"]);
    let secret = tenant.secret;
    let calls = 0;
    const client: ChatClient = createChatClient({ url: s.wsUrl, getToken: async () => (calls++, signHs(secret, claims(tenant.tenant_id, "alice"))), reconnectBaseDelayMs: 10 });
    const got: Message[] = [];
    const closes: number[] = [];
    client.on("message", (m) => got.push(m));
    client.on("close", (e) => closes.push(e.code));
    try {
      await client.connect();
      secret = "k".repeat(40);
      await patchConfig(s, tenant.tenant_id, { jwt_secret: secret });
      // Sent while the client is away: it must arrive after the reconnect (replay).
      await waitFor(() => closes.includes(4001), 2000, "4001 close");
      expect((await tenant.as("bob").post(`/rooms/${room}/messages`, { content: "while away" })).status).toBe(201);
      await waitFor(() => got.some((m) => m.content === "while away"), 5000, "replayed message");
      expect(client.state).toBe("open");
      expect(calls).toBe(2);
      // REST with the refreshed token works too.
      expect((await client.rest.getRoom(room)).room_id).toBe(room);
    } finally {
      client.close();
    }
  });
});

describe("RestClient", () => {
  test("a refused JWT is fetched again and the call retried once", async () => {
    const tenant = await jwtTenant(s, "rest-retry");
    let secret = tenant.secret;
    let calls = 0;
    const rest = createRestClient({ baseUrl: s.url, getToken: async () => (calls++, signHs(secret, claims(tenant.tenant_id, "carol"))) });
    expect((await rest.createRoom({ type: "channel", name: "c" })).created_by).toBe("carol");
    secret = "m".repeat(40);
    await patchConfig(s, tenant.tenant_id, { jwt_secret: secret });
    expect((await rest.listRooms()).rooms.length).toBe(1);
    expect(calls).toBe(2);
  });

  test("errors carry the API code, the HTTP status and the request id", async () => {
    const rest = createRestClient({ baseUrl: s.url, getToken: async () => t.token("dave") });
    const err = await rest.getRoom("0190f000-0000-7000-8000-000000000000").catch((e) => e);
    expect({ code: err.code, status: err.status }).toEqual({ code: "not_found", status: 404 });
    expect(err.requestId).toStartWith("req_");
  });

  test("with the API key (server side): X-API-Key and X-User-Id", async () => {
    const rest = createRestClient({ baseUrl: s.url, apiKey: t.api_key, userId: "erin" });
    expect((await rest.createRoom({ type: "channel", name: "k" })).created_by).toBe("erin");
  });
});
