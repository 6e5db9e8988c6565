// Content and JSON rules: byte limits in UTF-8 bytes, well-formed text, meta/metadata of any JSON type.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type Res, type RestClient, type TestServer } from "../helpers";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.stop());

async function setup(config?: Record<string, unknown>) {
  const t = await s.createTenant("validation", { user_message_rate: 1000, ...config });
  const a = s.client(t.api_key, "a");
  const b = s.client(t.api_key, "b");
  const room = await a.post("/rooms", { type: "group", members: ["b"] });
  expect(room.status).toBe(201);
  const roomId: string = room.body.room_id;
  return { a, b, roomId, send: (body: unknown) => a.post(`/rooms/${roomId}/messages`, body) };
}

function expect400(r: Res, path?: string) {
  expect({ status: r.status, error: r.body?.error }).toEqual({ status: 400, error: "invalid_request" });
  if (path) expect(r.body.details?.map((d: any) => d.path)).toContain(path);
}

const bytes = (s: string) => new TextEncoder().encode(s).length;
const JSON_VALUES: unknown[] = [{ a: 1, nested: { list: [1, "two", null, false] } }, [1, "x", null, { y: [] }], "just a string", "", 42, -3.25, 0, true, false, null, {}, []];

describe("content size in UTF-8 bytes", () => {
  test("default limit 4000: exactly 4000 bytes accepted, 4001 rejected (ASCII, 2-byte, 4-byte characters)", async () => {
    const { send, b, roomId } = await setup();
    const ok = ["a".repeat(4000), "é".repeat(2000), "😀".repeat(1000), "😀".repeat(999) + "éé", "€".repeat(1333) + "a"];
    for (const c of ok) {
      expect(bytes(c)).toBe(4000);
      const r = await send({ content: c });
      expect(r.status).toBe(201);
      expect(r.body.content).toBe(c);
    }
    const tooBig = ["a".repeat(4001), "é".repeat(2000) + "a", "é".repeat(2001), "😀".repeat(1000) + "a", "€".repeat(1334)];
    for (const c of tooBig) {
      expect(bytes(c)).toBeGreaterThan(4000);
      expect400(await send({ content: c }), "/content");
    }
    // Character count alone would have accepted "é".repeat(2001) (2001 chars).
    const h = await b.get(`/rooms/${roomId}/messages`);
    expect(h.body.messages.map((m: any) => m.content)).toEqual(ok);
  });

  test("a tenant with max_message_bytes 10 counts bytes too (send and edit)", async () => {
    const { send, a, roomId } = await setup({ max_message_bytes: 10 });
    for (const c of ["aaaaaaaaaa", "ééééé", "😀😀é", "😀ab€a"]) {
      expect(bytes(c)).toBe(10);
      expect((await send({ content: c })).status).toBe(201);
    }
    for (const c of ["aaaaaaaaaaa", "éééééa", "😀😀éa", "😀😀😀"]) expect400(await send({ content: c }), "/content");
    const m = await send({ content: "short" });
    const path = `/rooms/${roomId}/messages/${m.body.message_id}`;
    expect((await a.patch(path, { content: "😀😀éé".slice(0, 5) })).status).toBe(200);
    expect400(await a.patch(path, { content: "ééééé!" }), "/content");
    expect((await a.get(path)).body.content).toBe("😀😀é");
  });

  test("empty content is 400; whitespace is kept exactly", async () => {
    const { send } = await setup();
    expect400(await send({ content: "" }), "/content");
    expect400(await send({}));
    expect400(await send({ content: 5 }));
    expect400(await send({ content: null }));
    for (const c of [" ", "\n\t x \r\n", "  lead", "trail  "]) expect((await send({ content: c })).body.content).toBe(c);
  });

  test("lone surrogates are 400 on send and edit; surrogate pairs are fine", async () => {
    const { send, a, roomId } = await setup();
    for (const c of ["\ud800", "a\udc00b", "x\ud83d", "\ude00y"]) expect400(await send({ content: c }), "/content");
    // Raw JSON escapes too (JSON.stringify would escape them the same way).
    expect400(await a.post(`/rooms/${roomId}/messages`, '{"content":"bad \\ud83d here"}'), "/content");
    const ok = await send({ content: "ok \ud83d\ude00" });
    expect(ok.status).toBe(201);
    expect(ok.body.content).toBe("ok 😀");
    expect400(await a.patch(`/rooms/${roomId}/messages/${ok.body.message_id}`, { content: "\udfff" }), "/content");
  });
});

describe("meta", () => {
  test("meta of every JSON type round-trips unchanged via send, GET, history and edit", async () => {
    const { send, a, b, roomId } = await setup();
    const sent: { value: unknown; id: string }[] = [];
    for (const value of JSON_VALUES) {
      const r = await send({ content: "m", meta: value });
      expect(r.status).toBe(201);
      expect(r.body.meta).toStrictEqual(value);
      sent.push({ value, id: r.body.message_id });
    }
    const h = await b.get(`/rooms/${roomId}/messages?limit=200`);
    expect(h.body.messages.map((m: any) => m.meta)).toStrictEqual(JSON_VALUES);
    for (const { value, id } of sent) expect((await b.get(`/rooms/${roomId}/messages/${id}`)).body.meta).toStrictEqual(value);
    const e = await a.patch(`/rooms/${roomId}/messages/${sent[0]!.id}`, { meta: "now a string" });
    expect(e.body.meta).toBe("now a string");
    const e2 = await a.patch(`/rooms/${roomId}/messages/${sent[1]!.id}`, { meta: false });
    expect(e2.body.meta).toBe(false);
    expect((await b.get(`/rooms/${roomId}/messages/${sent[1]!.id}`)).body.meta).toBe(false);
  });

  test("omitted meta is null", async () => {
    const { send } = await setup();
    expect((await send({ content: "x" })).body.meta).toBeNull();
  });

  test("meta up to 4096 bytes serialized is accepted; 4097 is 400 (send and edit)", async () => {
    const { send, a, roomId } = await setup();
    const exact = "x".repeat(4094); // JSON text "xxx..." with quotes: 4096 bytes
    expect(bytes(JSON.stringify(exact))).toBe(4096);
    const ok = await send({ content: "m", meta: exact });
    expect(ok.status).toBe(201);
    expect(ok.body.meta).toBe(exact);
    expect400(await send({ content: "m", meta: exact + "x" }), "/meta");
    expect400(await send({ content: "m", meta: { k: "é".repeat(2045) } }), "/meta"); // 2045*2 + 8 = 4098 bytes
    expect400(await a.patch(`/rooms/${roomId}/messages/${ok.body.message_id}`, { meta: exact + "x" }), "/meta");
  });
});

describe("room metadata", () => {
  test("metadata of every JSON type round-trips via create, GET, PATCH and GET /rooms", async () => {
    const t = await s.createTenant("metadata");
    const c = s.client(t.api_key, "owner");
    for (const value of JSON_VALUES) {
      const r = await c.post("/rooms", { type: "channel", metadata: value });
      expect(r.status).toBe(201);
      expect(r.body.metadata).toStrictEqual(value);
      expect((await c.get(`/rooms/${r.body.room_id}`)).body.metadata).toStrictEqual(value);
    }
    const list = await c.get("/rooms?limit=200");
    expect(list.body.rooms.map((r: any) => r.metadata).reverse()).toStrictEqual(JSON_VALUES);
    const room = (await c.post("/rooms", { type: "channel" })).body;
    expect(room.metadata).toBeNull();
    for (const value of JSON_VALUES) {
      const p = await c.patch(`/rooms/${room.room_id}`, { metadata: value });
      expect(p.status).toBe(200);
      expect(p.body.metadata).toStrictEqual(value);
      expect((await c.get(`/rooms/${room.room_id}`)).body.metadata).toStrictEqual(value);
    }
    // PATCH without metadata keeps it.
    await c.patch(`/rooms/${room.room_id}`, { metadata: { keep: true } });
    expect((await c.patch(`/rooms/${room.room_id}`, { name: "n" })).body.metadata).toEqual({ keep: true });
  });

  test("metadata over 4096 bytes is 400 on create and PATCH", async () => {
    const t = await s.createTenant("metadata-size");
    const c = s.client(t.api_key, "owner");
    const big = { blob: "x".repeat(5000) };
    expect400(await c.post("/rooms", { type: "channel", metadata: big }), "/metadata");
    const room = await c.post("/rooms", { type: "channel", metadata: "x".repeat(4094) });
    expect(room.status).toBe(201);
    expect400(await c.patch(`/rooms/${room.body.room_id}`, { metadata: big }), "/metadata");
    expect((await c.get(`/rooms/${room.body.room_id}`)).body.metadata).toBe("x".repeat(4094));
  });

  test("room names: 1..200 characters, no control characters", async () => {
    const t = await s.createTenant("names");
    const c = s.client(t.api_key, "owner");
    expect400(await c.post("/rooms", { type: "channel", name: "" }));
    expect400(await c.post("/rooms", { type: "channel", name: "x".repeat(201) }));
    expect400(await c.post("/rooms", { type: "channel", name: "bad\nname" }));
    expect((await c.post("/rooms", { type: "channel", name: "ok 😀" })).body.name).toBe("ok 😀");
  });
});
