// The TypeScript client: uploadAttachment(roomId, file), sendMessage(..., {attachments}) over the
// socket and REST, search, and the attachment's absolute URL; also with a signed user token (JWT).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createChatClient } from "../../src/client/index.ts";
import { startTestServer, type TestServer } from "../helpers";
import { jwtTenant } from "../auth/jwt-helpers";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.stop());

test("uploadAttachment + sendMessage with attachments (socket and REST), then search and download", async () => {
  const t = await s.createTenant("client-att");
  const room = (await s.client(t.api_key, "alice").post("/rooms", { type: "group", members: ["bob"] })).body.room_id;
  const client = createChatClient({ url: s.wsUrl, apiKey: t.api_key, userId: "alice" });
  try {
    await client.connect();
    const a = await client.uploadAttachment(room, new File(["hello file"], "note.txt", { type: "text/plain" }));
    expect(a).toMatchObject({ filename: "note.txt", content_type: "text/plain", size: 10, uploader_id: "alice" });
    const sent = await client.sendMessage(room, "", { attachments: [a.attachment_id] });
    expect(sent.attachments.map((x) => x.attachment_id)).toEqual([a.attachment_id]);
    const b = await client.uploadAttachment(room, new Blob([new Uint8Array([1, 2, 3])], { type: "image/png" }), "dot.png");
    const viaRest = await client.rest.sendMessage(room, "a picture", { attachments: [b.attachment_id] });
    expect(viaRest.attachments[0]!.filename).toBe("dot.png");
    const found = await client.rest.search("picture");
    expect(found.messages.map((m) => m.message_id)).toEqual([viaRest.message_id]);
    const res = await fetch(client.rest.attachmentUrl(sent.attachments[0]!));
    expect(await res.text()).toBe("hello file");
    const bad = await client.rest.uploadAttachment(room, new Blob([]), "empty.txt").catch((e) => e);
    expect(bad.code).toBe("invalid_request");
  } finally {
    client.close();
  }
});

test("uploadAttachment with a signed user token", async () => {
  const t = await jwtTenant(s, "client-att-jwt");
  const room = await t.room("alice", ["bob"]);
  const client = createChatClient({ url: s.wsUrl, getToken: async () => t.token("alice") });
  try {
    await client.connect();
    const a = await client.uploadAttachment(room, new File(["jwt file"], "j.txt"));
    const m = await client.sendMessage(room, "with jwt", { attachments: [a.attachment_id] });
    expect(m.attachments[0]!.size).toBe(8);
  } finally {
    client.close();
  }
});
