import { describe, expect, test } from "bun:test";
import { CLIENT_FRAME_TYPES, parseClientFrame, type ParseClientFrameResult } from "./frames.ts";

function parse(value: unknown): ParseClientFrameResult {
  return parseClientFrame(typeof value === "string" ? value : JSON.stringify(value));
}

function expectOk(value: unknown) {
  const result = parse(value);
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result)}`);
  return result.frame;
}

function expectFail(value: unknown) {
  const result = parse(value);
  if (result.ok) throw new Error(`expected failure, got ${JSON.stringify(result)}`);
  expect(result.error).toBe("invalid_request");
  return result;
}

const ROOM = "0193a2b4-0000-7000-8000-000000000001";

describe("valid frames of every type", () => {
  const valid: [string, unknown][] = [
    ["send_message", { room_id: ROOM, content: "hello" }],
    ["send_message", { room_id: ROOM, content: " hi ", meta: { a: [1, 2] }, client_msg_id: "c-1" }],
    ["send_message", { room_id: ROOM, content: "x", meta: "a string stays a string" }],
    ["send_message", { room_id: ROOM, content: "x", meta: null }],
    ["edit_message", { room_id: ROOM, message_id: "m1", content: "new" }],
    ["edit_message", { room_id: ROOM, message_id: "m1", meta: 42 }],
    ["delete_message", { room_id: ROOM, message_id: "m1" }],
    ["ack", { room_id: ROOM, seq: 0 }],
    ["ack", { room_id: ROOM, seq: Number.MAX_SAFE_INTEGER }],
    ["typing.start", { room_id: ROOM }],
    ["typing.stop", { room_id: ROOM }],
    ["sync", { room_id: ROOM }],
    ["sync", { room_id: ROOM, after_seq: 5, before_seq: 100, limit: 200 }],
    ["list_rooms", {}],
    ["list_rooms", { limit: 1, cursor: "abc" }],
    ["notification.ack", { notification_id: "n1" }],
    ["send_message", { room_id: ROOM, content: "re", parent_id: "m1", mentions: ["bob", "carol"] }],
    ["edit_message", { room_id: ROOM, message_id: "m1", mentions: [] }],
    ["react", { room_id: ROOM, message_id: "m1", reaction: "👍" }],
    ["unreact", { room_id: ROOM, message_id: "m1", reaction: ":+1:" }],
    ["changes", { room_id: ROOM }],
    ["changes", { room_id: ROOM, since: "MTcuYWJj", limit: 200 }],
    ["ping", {}],
  ];
  for (const [type, data] of valid) {
    test(`${type} ${JSON.stringify(data)}`, () => {
      const frame = expectOk({ type, id: "r1", data });
      expect(frame.type as string).toBe(type);
      expect(frame.id).toBe("r1");
      expect(frame.data).toEqual(data as never);
    });
  }

  test("the table covers every client frame type", () => {
    expect(new Set(valid.map(([type]) => type))).toEqual(new Set(CLIENT_FRAME_TYPES));
  });

  test("ping without data, and without id", () => {
    const frame = expectOk({ type: "ping" });
    expect(frame).toEqual({ type: "ping", data: {} });
    expect("id" in frame).toBe(false);
  });

  test("list_rooms without data gets {}", () => {
    expect(expectOk({ type: "list_rooms", id: "x" }).data).toEqual({});
  });

  test("null optional fields read as absent (docs/reference/rest.md#conventions)", () => {
    const frame = expectOk({ type: "sync", data: { room_id: ROOM, after_seq: null, limit: null } });
    expect(frame.data).toEqual({ room_id: ROOM });
    const send = expectOk({ type: "send_message", data: { room_id: ROOM, content: "x", client_msg_id: null } });
    expect(send.data).toEqual({ room_id: ROOM, content: "x" });
  });

  test("content at the schema's character limit is accepted (bytes are the domain's check)", () => {
    expectOk({ type: "send_message", data: { room_id: ROOM, content: "a".repeat(32_768) } });
  });
});

describe("invalid frames", () => {
  test("bad JSON", () => {
    const result = expectFail('{"type": "ping"');
    expect(result.message).toBe("invalid JSON");
    expect(result.id).toBeUndefined();
  });

  test("non-object JSON", () => {
    for (const text of ["[]", "null", "42", '"ping"', "true"]) {
      expect(expectFail(text).message).toBe("frame must be a JSON object");
    }
  });

  test("missing or non-string type", () => {
    expect(expectFail({ id: "a" }).details).toEqual([{ path: "/type", message: "Expected required property" }]);
    const wrong = expectFail({ type: 7, id: "a" });
    expect(wrong.details?.[0]?.path).toBe("/type");
    expect(wrong.id).toBe("a");
  });

  test("unknown type", () => {
    const result = expectFail({ type: "send_mesage", id: "q", data: {} });
    expect(result.message).toBe('unknown frame type "send_mesage"');
    expect(result.id).toBe("q");
  });

  test("prototype names are unknown types", () => {
    for (const type of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
      expect(expectFail({ type, data: {} }).message).toBe(`unknown frame type "${type}"`);
    }
  });

  test("missing field", () => {
    const result = expectFail({ type: "send_message", id: "m", data: { content: "x" } });
    expect(result.details).toEqual([{ path: "/data/room_id", message: "Expected required property" }]);
    expect(result.message).toContain("/data/room_id");
  });

  test("missing data", () => {
    expect(expectFail({ type: "ack", id: "m" }).details).toEqual([
      { path: "/data", message: "Expected required property" },
    ]);
  });

  test("data that is not an object", () => {
    for (const data of [[], "x", 3, true]) {
      expect(expectFail({ type: "ack", data }).details?.[0]?.path).toBe("/data");
    }
  });

  test("wrong types", () => {
    expect(expectFail({ type: "ack", data: { room_id: ROOM, seq: "7" } }).details?.[0]?.path).toBe("/data/seq");
    expect(expectFail({ type: "ack", data: { room_id: ROOM, seq: 1.5 } }).details?.[0]?.path).toBe("/data/seq");
    expect(expectFail({ type: "ack", data: { room_id: 1, seq: 1 } }).details?.[0]?.path).toBe("/data/room_id");
    expect(expectFail({ type: "send_message", data: { room_id: ROOM, content: { x: 1 } } }).details?.[0]?.path).toBe(
      "/data/content",
    );
    expect(expectFail({ type: "edit_message", data: { room_id: ROOM, message_id: "m", meta: 1, content: 5 } }).details)
      .toEqual([{ path: "/data/content", message: expect.any(String) }]);
  });

  test("extra field in data is rejected", () => {
    const result = expectFail({ type: "typing.start", id: "t", data: { room_id: ROOM, roomId: ROOM } });
    expect(result.details).toEqual([{ path: "/data/roomId", message: "Unexpected property" }]);
    expect(expectFail({ type: "ping", data: { x: 1 } }).details?.[0]?.path).toBe("/data/x");
  });

  test("extra field on the envelope is rejected", () => {
    const result = expectFail({ type: "ping", id: "p", date: {} });
    expect(result.details).toEqual([{ path: "/date", message: "Unexpected property" }]);
    expect(result.id).toBe("p");
  });

  test("__proto__ keys are ordinary unexpected properties", () => {
    const text = '{"type":"ack","id":"z","data":{"__proto__":{"seq":1},"room_id":"r","seq":1}}';
    const result = parseClientFrame(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.details).toEqual([{ path: "/data/__proto__", message: "Unexpected property" }]);
    expect(({} as Record<string, unknown>).seq).toBeUndefined();
    expect(parseClientFrame('{"__proto__":{"type":"ping"}}').ok).toBe(false);
  });

  test("negative, fractional and unsafe seqs", () => {
    for (const seq of [-1, 0.5, 2 ** 53, 1e400]) {
      expect(expectFail(`{"type":"ack","data":{"room_id":"r","seq":${seq === 1e400 ? "1e400" : seq}}}`).details?.[0]?.path)
        .toBe("/data/seq");
    }
    expect(expectFail({ type: "sync", data: { room_id: ROOM, after_seq: -1 } }).details?.[0]?.path).toBe(
      "/data/after_seq",
    );
  });

  test("limit 0 and 201", () => {
    for (const limit of [0, 201]) {
      expect(expectFail({ type: "sync", data: { room_id: ROOM, limit } }).details?.[0]?.path).toBe("/data/limit");
      expect(expectFail({ type: "list_rooms", data: { limit } }).details?.[0]?.path).toBe("/data/limit");
    }
  });

  test("string length limits", () => {
    const long = "r".repeat(65);
    expect(expectFail({ type: "typing.start", data: { room_id: "" } }).details?.[0]?.path).toBe("/data/room_id");
    expect(expectFail({ type: "typing.start", data: { room_id: long } }).details?.[0]?.path).toBe("/data/room_id");
    expect(
      expectFail({ type: "send_message", data: { room_id: ROOM, content: "x", client_msg_id: long } }).details?.[0]?.path,
    ).toBe("/data/client_msg_id");
    expect(
      expectFail({ type: "send_message", data: { room_id: ROOM, content: "a".repeat(32_769) } }).details?.[0]?.path,
    ).toBe("/data/content");
    expect(expectFail({ type: "list_rooms", data: { cursor: "c".repeat(513) } }).details?.[0]?.path).toBe(
      "/data/cursor",
    );
    expect(expectFail({ type: "notification.ack", data: { notification_id: long } }).details?.[0]?.path).toBe(
      "/data/notification_id",
    );
  });

  test("id correlation: a string id is surfaced on every kind of failure", () => {
    expect(expectFail({ type: "nope", id: "c1" }).id).toBe("c1");
    expect(expectFail({ type: "ack", id: "c2", data: { room_id: ROOM } }).id).toBe("c2");
    expect(expectFail({ type: "ack", id: "c3", data: { room_id: ROOM, seq: 1, x: 1 } }).id).toBe("c3");
    expect(expectFail({ id: "c4" }).id).toBe("c4");
    // An id that breaks its own limit is still echoed so the client can correlate the error.
    const tooLong = "i".repeat(129);
    const result = expectFail({ type: "ping", id: tooLong });
    expect(result.id).toBe(tooLong);
    expect(result.details?.[0]?.path).toBe("/id");
    expect(expectFail({ type: "ping", id: "" }).id).toBe("");
  });

  test("a non-string id is an error and is not echoed", () => {
    const result = expectFail({ type: "ping", id: 5 });
    expect(result.id).toBeUndefined();
    expect(result.details).toEqual([{ path: "/id", message: "Expected string" }]);
  });

  test("a long unknown type is truncated in the message", () => {
    const result = expectFail({ type: "t".repeat(10_000) });
    expect(result.message.length).toBeLessThan(120);
  });

  test("details are bounded", () => {
    const data: Record<string, number> = { room_id: 1 as never };
    for (let i = 0; i < 1000; i++) data[`k${i}`] = i;
    const result = expectFail({ type: "typing.start", data });
    expect(result.details?.length).toBe(10);
    expect(result.message).toContain("(and 9 more)");
  });
});

describe("hostile input never throws", () => {
  test("10,000-deep nested array as the whole frame and as meta", () => {
    const deep = "[".repeat(10_000) + "]".repeat(10_000);
    expect(parseClientFrame(deep).ok).toBe(false);
    const frame = `{"type":"send_message","data":{"room_id":"r","content":"x","meta":${deep}}}`;
    expect(parseClientFrame(frame).ok).toBe(true);
    const bad = `{"type":"ack","data":{"room_id":"r","seq":${deep}}}`;
    expect(parseClientFrame(bad).ok).toBe(false);
  });

  test("1,000,000-deep nested objects and huge arrays", () => {
    const deep = '{"a":'.repeat(1_000_000) + "1" + "}".repeat(1_000_000);
    expect(() => parseClientFrame(deep)).not.toThrow();
    const huge = `{"type":"typing.stop","data":{"room_id":[${"0,".repeat(200_000)}0]}}`;
    const result = parseClientFrame(huge);
    expect(result.ok).toBe(false);
  });

  test("odd inputs", () => {
    for (const text of ["", " ", "\u0000", "undefined", "{}", '{"type":null}', "\"\\ud800\""]) {
      expect(() => parseClientFrame(text)).not.toThrow();
      expect(parseClientFrame(text).ok).toBe(false);
    }
    expect(parseClientFrame(undefined as unknown as string).ok).toBe(false);
  });
});
