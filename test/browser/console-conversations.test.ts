// The console's threads, mentions and reactions in real Chromium: reply counts and the thread
// drawer, "@user" mentions (highlight and unread badge), reactions with the picker (add, remove).
import { describe, expect, test } from "bun:test";
import { chromiumMissing, consoleSuite, eventually, openAliceAndBob, screenshot, selectRoom, send } from "./browser-harness";

const TEST_TIMEOUT_MS = 45_000;

describe.skipIf(chromiumMissing !== null)("console conversations in Chromium", () => {
  const suite = consoleSuite();

  test("threads: reply count on the root, the drawer lists and sends replies, live in the other pane", async () => {
    const { s } = suite;
    const t = await s.createTenant("threads-ui");
    const room = (await s.client(t.api_key, "alice").post("/rooms", { type: "group", name: "threads", members: ["bob"] })).body.room_id;
    const root = (await s.client(t.api_key, "alice").post(`/rooms/${room}/messages`, { content: "root message" })).body;
    await s.client(t.api_key, "bob").post(`/rooms/${room}/messages`, { content: "first reply", parent_id: root.message_id });
    const { page, problems } = await suite.newPage();
    const { alice, bob } = await openAliceAndBob(page, s.origin, t.api_key, room);
    const rootEl = alice.locator(`.msg[data-message-id="${root.message_id}"]`);
    await rootEl.locator(".thread-link", { hasText: "1 reply" }).waitFor();
    await rootEl.locator(".thread-link").click();
    const drawer = alice.locator(".thread-drawer");
    await drawer.locator(".thread-list .thread-msg .msg-body", { hasText: "first reply" }).waitFor();
    await drawer.locator(".thread-input").fill("second reply from the drawer");
    await drawer.locator(".thread-input").press("Enter");
    await drawer.locator(".thread-list .thread-msg .msg-body", { hasText: "second reply from the drawer" }).waitFor();
    // Bob sees the root's count move live (thread.updated).
    await bob.locator(`.msg[data-message-id="${root.message_id}"] .thread-link`, { hasText: "2 replies" }).waitFor();
    const replies = (await s.client(t.api_key, "bob").get(`/rooms/${room}/messages/${root.message_id}/replies`)).body.messages;
    expect(replies.map((m: any) => m.content)).toEqual(["first reply", "second reply from the drawer"]);
    await screenshot(page, "console-thread");
    expect(problems).toEqual([]);
  }, TEST_TIMEOUT_MS);

  test("mentions: @bob in the composer mentions bob; his room shows an unread mention badge and the message is highlighted", async () => {
    const { s } = suite;
    const t = await s.createTenant("mentions-ui");
    const room = (await s.client(t.api_key, "alice").post("/rooms", { type: "group", name: "mentions", members: ["bob"] })).body.room_id;
    const other = (await s.client(t.api_key, "alice").post("/rooms", { type: "group", name: "other", members: ["bob"] })).body.room_id;
    const { page, problems } = await suite.newPage();
    const { alice, bob } = await openAliceAndBob(page, s.origin, t.api_key, room, other);
    await alice.locator(`.member[data-member="bob"]`).waitFor();
    await send(alice, "@bob please look");
    // Bob reads another room: the badge counts the mention.
    await bob.locator(`.room[data-room-id="${room}"] .room-mentions`, { hasText: "@1" }).waitFor();
    const stored = (await s.client(t.api_key, "bob").get(`/rooms/${room}/messages`)).body.messages.at(-1);
    expect(stored.mentions).toEqual(["bob"]);
    await selectRoom(bob, room);
    await bob.locator(".msg.mentioned .msg-body", { hasText: "@bob please look" }).waitFor();
    await eventually(async () => expect(await bob.locator(`.room[data-room-id="${room}"] .room-mentions`).count()).toBe(0));
    // A reload takes the badge from GET /rooms (unread_mentions).
    await s.client(t.api_key, "alice").post(`/rooms/${other}/messages`, { content: "hey @bob", mentions: ["bob"] });
    await bob.locator(`.room[data-room-id="${other}"] .room-mentions`, { hasText: "@1" }).waitFor();
    expect(problems).toEqual([]);
  }, TEST_TIMEOUT_MS);

  test("reactions: the picker adds one, the chip toggles it off; the other pane follows live", async () => {
    const { s } = suite;
    const t = await s.createTenant("reactions-ui");
    const room = (await s.client(t.api_key, "alice").post("/rooms", { type: "group", name: "reactions", members: ["bob"] })).body.room_id;
    const m = (await s.client(t.api_key, "alice").post(`/rooms/${room}/messages`, { content: "react to me" })).body;
    const { page, problems } = await suite.newPage();
    const { alice, bob } = await openAliceAndBob(page, s.origin, t.api_key, room);
    const inBob = bob.locator(`.msg[data-message-id="${m.message_id}"]`);
    await inBob.locator(".reaction-add").click();
    await inBob.locator('.reaction-picker .pick[data-pick="🎉"]').click();
    await inBob.locator('.reaction.mine[data-reaction="🎉"]', { hasText: "🎉 1" }).waitFor();
    const inAlice = alice.locator(`.msg[data-message-id="${m.message_id}"]`);
    await inAlice.locator('.reaction[data-reaction="🎉"]', { hasText: "🎉 1" }).waitFor();
    expect(await inAlice.locator('.reaction.mine[data-reaction="🎉"]').count()).toBe(0);
    // Alice joins in with the chip, then Bob takes his back.
    await inAlice.locator('.reaction[data-reaction="🎉"]').click();
    await inBob.locator('.reaction[data-reaction="🎉"]', { hasText: "🎉 2" }).waitFor();
    await inBob.locator('.reaction.mine[data-reaction="🎉"]').click();
    await inAlice.locator('.reaction.mine[data-reaction="🎉"]', { hasText: "🎉 1" }).waitFor();
    const stored = (await s.client(t.api_key, "bob").get(`/rooms/${room}/messages/${m.message_id}`)).body;
    expect(stored.reactions).toEqual([{ reaction: "🎉", count: 1, user_ids: ["alice"] }]);
    await screenshot(page, "console-reactions");
    expect(problems).toEqual([]);
  }, TEST_TIMEOUT_MS);
});
