// Attachments on messages (docs/reference/rest.md "Attachments", section 4 send_message, section 5 webhooks): sends
// over REST and WebSocket, the attachability rules, deletion with the message, the tenant quota,
// orphan cleanup, and signed urls in webhook payloads; on the file store and on S3.
import { expect, test } from "bun:test";
import { waitFor } from "../helpers";
import { Receiver } from "../delivery/receiver";
import { connectWs, keyHeaders } from "../ws/ws-helpers";
import { forEachBlobStore } from "./suite";
import { download, upload } from "./upload-helpers";

forEachBlobStore("attachments: messages", (ctx) => {
  async function setup(config?: Record<string, unknown>) {
    const t = await ctx.tenant(config);
    const r = await t.as("a").post("/rooms", { type: "group", members: ["b"] });
    const up = (u: string, data: string | Uint8Array = "file body", roomId: string = r.body.room_id, filename = "f.txt") =>
      upload(ctx.s().url, t.h(u), roomId, { filename, type: "text/plain", data }).then((x) => {
        expect(x.status).toBe(201);
        return x.body;
      });
    return { t, roomId: r.body.room_id as string, up };
  }

  test("REST send with attachments: content may be omitted or empty; the Message carries signed Attachments everywhere", async () => {
    const { t, roomId, up } = await setup();
    const a1 = await up("a");
    const a2 = await up("a", "second");
    const sent = await t.as("a").post(`/rooms/${roomId}/messages`, { attachments: [a2.attachment_id, a1.attachment_id] });
    expect(sent.status).toBe(201);
    expect(sent.body.content).toBe("");
    expect(sent.body.attachments.map((a: any) => a.attachment_id)).toEqual([a2.attachment_id, a1.attachment_id]);
    expect(sent.body.attachments[0]).toMatchObject({ filename: "f.txt", size: 6, uploader_id: "a", room_id: roomId });
    const a3 = await up("a");
    expect((await t.as("a").post(`/rooms/${roomId}/messages`, { content: "", attachments: [a3.attachment_id] })).status).toBe(201);
    // Without attachments, empty content stays a 400.
    expect((await t.as("a").post(`/rooms/${roomId}/messages`, { content: "" })).status).toBe(400);
    expect((await t.as("a").post(`/rooms/${roomId}/messages`, {})).status).toBe(400);
    const history = await t.as("b").get(`/rooms/${roomId}/messages`);
    const m = history.body.messages[0];
    expect(m.attachments).toHaveLength(2);
    const d = await download(ctx.s().url + m.attachments[1].url);
    expect(new TextDecoder().decode(d.bytes)).toBe("file body");
    expect((await t.as("b").get(`/rooms/${roomId}/messages/${sent.body.message_id}`)).body.attachments).toHaveLength(2);
    const rooms = await t.as("b").get("/rooms");
    expect(rooms.body.rooms[0].last_message.attachments).toHaveLength(1);
    // A plain message has attachments: [].
    expect((await t.as("a").post(`/rooms/${roomId}/messages`, { content: "hi" })).body.attachments).toEqual([]);
  });

  test("each attachment: uploaded by the sender, to this room, not attached elsewhere; 0..10, distinct; else 400", async () => {
    const { t, roomId, up } = await setup();
    const other = await t.as("a").post("/rooms", { type: "group", members: ["b"] });
    const byB = await up("b");
    const elsewhere = await up("a", "x", other.body.room_id);
    const used = await up("a");
    expect((await t.as("a").post(`/rooms/${roomId}/messages`, { attachments: [used.attachment_id] })).status).toBe(201);
    const fresh = await up("a");
    const cases: unknown[] = [[byB.attachment_id], [elsewhere.attachment_id], [used.attachment_id], ["01900000-0000-7000-8000-000000000000"], [fresh.attachment_id, fresh.attachment_id], "nope", [1]];
    for (const attachments of cases) {
      const r = await t.as("a").post(`/rooms/${roomId}/messages`, { content: "x", attachments });
      expect({ attachments, status: r.status, error: r.body.error }).toEqual({ attachments, status: 400, error: "invalid_request" });
    }
    const eleven = [];
    for (let i = 0; i < 11; i++) eleven.push((await up("a", `n${i}`)).attachment_id);
    expect((await t.as("a").post(`/rooms/${roomId}/messages`, { attachments: eleven })).status).toBe(400);
    const ten = await t.as("a").post(`/rooms/${roomId}/messages`, { attachments: eleven.slice(0, 10) });
    expect(ten.status).toBe(201);
    expect(ten.body.attachments).toHaveLength(10);
    // The failed sends attached nothing: `fresh` can still be sent once.
    expect((await t.as("a").post(`/rooms/${roomId}/messages`, { attachments: [fresh.attachment_id] })).status).toBe(201);
    // Another tenant's attachment id is unknown here.
    const other2 = await ctx.tenant();
    const r2 = await other2.as("a").post("/rooms", { type: "group", members: ["b"] });
    expect((await other2.as("a").post(`/rooms/${r2.body.room_id}/messages`, { attachments: [eleven[10]] })).status).toBe(400);
  });

  test("WebSocket send_message with attachments; the message frame carries them", async () => {
    const { t, roomId, up } = await setup();
    const a1 = await up("a", "via ws");
    const ws = await connectWs(ctx.s().wsUrl, { headers: keyHeaders(t.api_key, "a") });
    const wsB = await connectWs(ctx.s().wsUrl, { headers: keyHeaders(t.api_key, "b") });
    try {
      const reply = await ws.call("send_message", { room_id: roomId, attachments: [a1.attachment_id] });
      expect(reply.content).toBe("");
      expect(reply.attachments[0].attachment_id).toBe(a1.attachment_id);
      const frame = await wsB.waitForFrame((f) => f.type === "message" && f.message_id === reply.message_id, 3000, "message frame");
      expect(new TextDecoder().decode((await download(ctx.s().url + frame.attachments[0].url)).bytes)).toBe("via ws");
      const bad = await ws.request("send_message", { room_id: roomId, content: "x", attachments: [a1.attachment_id] });
      expect(bad).toMatchObject({ type: "error", error: "invalid_request" });
    } finally {
      ws.close();
      wsB.close();
    }
  });

  test("deleting the message deletes its files; the tombstone has attachments: []; the quota is freed", async () => {
    const { t, roomId, up } = await setup({ attachment_quota_bytes: 2500 });
    const a1 = await up("a", new Uint8Array(1000));
    const a2 = await up("a", new Uint8Array(1000));
    const third = await upload(ctx.s().url, t.h("a"), roomId, { filename: "q.bin", data: new Uint8Array(1000) });
    expect({ status: third.status, error: third.body.error }).toEqual({ status: 413, error: "payload_too_large" });
    expect((await upload(ctx.s().url, t.h("b"), roomId, { filename: "q.bin", data: new Uint8Array(600) })).status).toBe(413);
    const sent = await t.as("a").post(`/rooms/${roomId}/messages`, { content: "files", attachments: [a1.attachment_id, a2.attachment_id] });
    const key = `${t.tenant_id}/${a1.attachment_id}`;
    expect(await ctx.s().api.blobs.exists(key)).toBe(true);
    expect((await t.as("a").del(`/rooms/${roomId}/messages/${sent.body.message_id}`)).status).toBe(204);
    const tomb = await t.as("b").get(`/rooms/${roomId}/messages/${sent.body.message_id}`);
    expect(tomb.body).toMatchObject({ content: "", attachments: [] });
    await waitFor(async () => !(await ctx.s().api.blobs.exists(key)), 5000, "file deleted");
    expect((await download(`${ctx.s().url}/attachments/${a1.attachment_id}`, t.h("a"))).status).toBe(404);
    expect((await download(ctx.s().url + a2.url)).status).toBe(404);
    // 2000 bytes were freed: two more uploads fit again.
    await up("a", new Uint8Array(1000));
    await up("a", new Uint8Array(1000));
  });

  test("webhook message.attachments carry urls signed when the delivery is sent", async () => {
    const rx = new Receiver();
    try {
      const { t, roomId, up } = await setup({ webhook_url: rx.url });
      const a1 = await up("a", "for the webhook");
      await t.as("a").post(`/rooms/${roomId}/messages`, { content: "see file", attachments: [a1.attachment_id] });
      const [hook] = await rx.waitForCount(1);
      const att = hook!.body.message.attachments;
      expect(att).toHaveLength(1);
      expect(att[0]).toMatchObject({ attachment_id: a1.attachment_id, filename: "f.txt", size: 15 });
      expect(att[0].url).toMatch(/^\/attachments\/.+\?expires=\d+&signature=[0-9a-f]{64}$/);
      expect(Date.parse(att[0].url_expires_at) > Date.now()).toBe(true);
      expect(new TextDecoder().decode((await download(ctx.s().url + att[0].url)).bytes)).toBe("for the webhook");
      // Plain messages carry attachments: [].
      await t.as("a").post(`/rooms/${roomId}/messages`, { content: "plain" });
      const hooks = await rx.waitForCount(2);
      expect(hooks[1]!.body.message.attachments).toEqual([]);
    } finally {
      rx.stop();
    }
  });
});

forEachBlobStore(
  "attachments: orphan cleanup",
  (ctx) => {
    test("an upload not attached within ATTACHMENT_ORPHAN_TTL loses record and file; attached ones stay", async () => {
      const t = await ctx.tenant();
      const r = await t.as("a").post("/rooms", { type: "group", members: ["b"] });
      const orphan = (await upload(ctx.s().url, t.h("a"), r.body.room_id, { filename: "o.txt", data: "orphan" })).body;
      const kept = (await upload(ctx.s().url, t.h("a"), r.body.room_id, { filename: "k.txt", data: "kept" })).body;
      await t.as("a").post(`/rooms/${r.body.room_id}/messages`, { attachments: [kept.attachment_id] });
      const orphanKey = `${t.tenant_id}/${orphan.attachment_id}`;
      await waitFor(async () => {
        await ctx.s().api.orphanSweeper.runNow();
        return !(await ctx.s().api.blobs.exists(orphanKey));
      }, 5000, "orphan swept");
      expect((await download(ctx.s().url + orphan.url)).status).toBe(404);
      expect((await download(ctx.s().url + kept.url)).status).toBe(200);
      expect(await ctx.s().api.store.attachments.usage(t.tenant_id)).toBe(4);
    });
  },
  { ATTACHMENT_ORPHAN_TTL: "50ms" },
);
