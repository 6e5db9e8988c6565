// Threads, mentions and reactions together with attachments (docs/reference/rest.md "Threads", "Mentions",
// "Attachments", section 5 webhooks): one message carries all of them on every path.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers";
import { Receiver } from "../delivery/receiver";
import { download, upload } from "../attachments/upload-helpers";
import { keyHeaders } from "../ws/ws-helpers";
import { convo } from "./helpers";

describe("attachments in threads", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(() => s.stop());

  test("a WebSocket reply with mentions and an attachment: the Message has all of them; history, replies and changes sign the url", async () => {
    const c = await convo(s, ["alice", "bob"]);
    const root = await c.send("alice", { content: "root" });
    const up = await upload(s.url, keyHeaders(c.apiKey, "bob"), c.roomId, { filename: "r.txt", type: "text/plain", data: "reply file" });
    expect(up.status).toBe(201);
    const ws = await c.connect("bob");
    try {
      const reply = await ws.call("send_message", { room_id: c.roomId, content: "see @alice", parent_id: root.message_id, mentions: ["alice"], attachments: [up.body.attachment_id] });
      expect(reply).toMatchObject({ parent_id: root.message_id, mentions: ["alice"], reply_count: 0, reactions: [] });
      expect(reply.attachments.map((a: any) => a.attachment_id)).toEqual([up.body.attachment_id]);
    } finally {
      ws.close();
    }
    const replies = await c.as("alice").get(`/rooms/${c.roomId}/messages/${root.message_id}/replies`);
    const got = replies.body.messages[0];
    expect(got.attachments[0].url).toMatch(/^\/attachments\/.+\?expires=\d+&signature=[0-9a-f]{64}$/);
    expect(new TextDecoder().decode((await download(s.url + got.attachments[0].url)).bytes)).toBe("reply file");
    const rootNow = await c.as("alice").get(`/rooms/${c.roomId}/messages/${root.message_id}`);
    expect(rootNow.body.reply_count).toBe(1);
    // The changes feed carries the reply with a usable signed url too.
    const start = await c.as("alice").get(`/rooms/${c.roomId}/changes`);
    const react = await c.as("alice").post(`/rooms/${c.roomId}/messages/${got.message_id}/reactions`, { reaction: "👍" });
    expect(react.status).toBe(200);
    expect(react.body.attachments[0].url).toMatch(/signature=[0-9a-f]{64}$/);
    const changed = await c.as("alice").get(`/rooms/${c.roomId}/changes?since=${encodeURIComponent(start.body.next_cursor)}`);
    const fed = changed.body.messages.find((m: any) => m.message_id === got.message_id);
    expect(fed.reactions).toEqual([{ reaction: "👍", count: 1, user_ids: ["alice"] }]);
    expect(fed.attachments[0].url).toMatch(/^\/attachments\/.+\?expires=\d+&signature=[0-9a-f]{64}$/);
    expect(new TextDecoder().decode((await download(s.url + fed.attachments[0].url)).bytes)).toBe("reply file");
  });

  test("deleting a reply with an attachment drops attachments and reactions, and the root's reply_count", async () => {
    const c = await convo(s, ["alice", "bob"]);
    const root = await c.send("alice", { content: "root" });
    const up = await upload(s.url, keyHeaders(c.apiKey, "bob"), c.roomId, { filename: "d.txt", type: "text/plain", data: "gone soon" });
    const reply = await c.send("bob", { content: "", parent_id: root.message_id, attachments: [up.body.attachment_id] });
    expect((await c.as("alice").post(`/rooms/${c.roomId}/messages/${reply.message_id}/reactions`, { reaction: "👀" })).status).toBe(200);
    expect((await c.as("bob").del(`/rooms/${c.roomId}/messages/${reply.message_id}`)).status).toBe(204);
    const tomb = await c.as("alice").get(`/rooms/${c.roomId}/messages/${reply.message_id}`);
    expect(tomb.body).toMatchObject({ content: "", attachments: [], reactions: [], parent_id: root.message_id });
    expect(typeof tomb.body.deleted_at).toBe("string");
    expect((await c.as("alice").get(`/rooms/${c.roomId}/messages/${root.message_id}`)).body.reply_count).toBe(0);
    expect((await c.as("bob").get(`/attachments/${up.body.attachment_id}`)).status).toBe(404);
  });

  test("a webhook of a reply carries parent_id, mentioned and signed attachments", async () => {
    const rx = new Receiver();
    try {
      const c = await convo(s, ["alice", "bob"], { webhook_url: rx.url });
      const root = await c.send("alice", { content: "root" });
      const up = await upload(s.url, keyHeaders(c.apiKey, "alice"), c.roomId, { filename: "w.txt", type: "text/plain", data: "hooked" });
      await c.send("alice", { content: "for bob", parent_id: root.message_id, mentions: ["bob"], attachments: [up.body.attachment_id] });
      const hooks = await rx.waitForCount(2);
      const hook = hooks.find((h) => h.body.message.parent_id === root.message_id)!;
      expect(hook.body.recipient_id).toBe("bob");
      expect(hook.body.mentioned).toBe(true);
      expect(hook.body.message.attachments.map((a: any) => a.attachment_id)).toEqual([up.body.attachment_id]);
      expect(new TextDecoder().decode((await download(s.url + hook.body.message.attachments[0].url)).bytes)).toBe("hooked");
    } finally {
      rx.stop();
    }
  });
});
