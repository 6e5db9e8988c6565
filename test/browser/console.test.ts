// The web console end to end in real Chromium: two panes chatting (order, typing, presence,
// receipts, room creation), reload, reconnect after a server-side cut, edit/delete, and the
// operations view (health, metrics, tenants, dead letter + retry). Screenshots go to test-artifacts/.
import { describe, expect, test } from "bun:test";
import { TEST_MASTER_KEY } from "../helpers";
import {
  bodies,
  chromiumMissing,
  consoleSuite,
  eventually,
  NARROW,
  openAliceAndBob,
  openPlayground,
  pane,
  screenshot,
  selectRoom,
  send,
  seqs,
} from "./browser-harness";

// Generous per test (a slow CI machine); the whole file takes about 15 s here.
const TEST_TIMEOUT_MS = 45_000;

describe.skipIf(chromiumMissing !== null)("console in Chromium", () => {
  // One failed webhook attempt makes a dead letter; presence goes offline quickly.
  const suite = consoleSuite({ PRESENCE_GRACE: "200ms", RETRY_MAX_ATTEMPTS: "1", RETRY_INTERVAL: "100ms", WORKER_INTERVAL: "100ms" });

  async function tenantWithRoom(name: string, members = ["alice", "bob"], config?: Record<string, unknown>) {
    const { s } = suite;
    const t = await s.createTenant(name, config);
    const [owner, ...others] = members;
    const r = await s.client(t.api_key, owner).post("/rooms", { type: "group", name: `${name} room`, members: others });
    expect(r.status).toBe(201);
    return { key: t.api_key as string, tenantId: t.tenant_id as string, roomId: r.body.room_id as string, as: (u: string) => s.client(t.api_key, u) };
  }

  test("two panes exchange messages both ways in order; typing, presence, receipts and room creation show up", async () => {
    const { s } = suite;
    const t = await tenantWithRoom("chat");
    const { page, problems } = await suite.newPage();
    const urls: string[] = [];
    page.on("request", (r) => urls.push(r.url()));

    // Alice alone first: Bob is offline in her room header.
    await openPlayground(page, s.origin, t.key, ["alice"]);
    const alice = pane(page, "alice");
    await selectRoom(alice, t.roomId);
    await alice.locator('.member[data-member="bob"][data-status="offline"]').waitFor();

    // Bob's pane opens: Alice sees him come online.
    await page.fill(".playground .user-ids", "alice, bob");
    await page.click(".playground .open-panes");
    const bob = pane(page, "bob");
    await bob.locator(".conn-state.state-open").waitFor();
    await alice.locator('.member[data-member="bob"][data-status="online"]').waitFor();
    await selectRoom(bob, t.roomId);

    await send(alice, "hello bob");
    await eventually(async () => expect(await bodies(bob)).toEqual(["hello bob"]));
    // Bob typing shows on Alice's side, and clears when his message arrives.
    await bob.locator(".composer-input").pressSequentially("hi al", { delay: 5 });
    await eventually(async () => expect(await alice.locator(".typing-indicator").textContent()).toBe("bob is typing…"));
    await bob.locator(".composer-input").pressSequentially("ice");
    await bob.locator(".composer-input").press("Enter");
    // Each send is seen before the next pane sends: send() does not wait for the answer.
    await eventually(async () => expect((await bodies(alice)).at(-1)).toBe("hi alice"));
    await send(alice, "how are you?");
    await eventually(async () => expect((await bodies(bob)).at(-1)).toBe("how are you?"));
    await send(bob, "fine, thanks");
    const expected = ["hello bob", "hi alice", "how are you?", "fine, thanks"];
    await eventually(async () => {
      expect(await bodies(alice)).toEqual(expected);
      expect(await bodies(bob)).toEqual(expected);
      expect(await seqs(alice)).toEqual([1, 2, 3, 4]);
      expect(await alice.locator(".typing-indicator").textContent()).toBe("");
    });
    // Read receipts: Bob has read Alice's "how are you?" (he answered after it).
    await eventually(async () => expect(await alice.locator('.msg[data-seq="3"] .msg-receipts').textContent()).toBe("Seen by bob"));
    await screenshot(page, "playground-1280x800");

    // A DM created from Alice's pane appears in Bob's list, named after Alice.
    await alice.locator(".new-room").click();
    await alice.locator('.room-form .segmented button[data-kind="dm"]').click();
    expect(await alice.locator(".room-form-members").inputValue()).toBe("bob");
    await alice.locator(".room-form-create").click();
    await alice.locator(".room-title", { hasText: "bob" }).waitFor();
    await bob.locator(".room .room-name", { hasText: /^alice$/ }).waitFor();

    // Closing Bob's pane: he goes offline for Alice after PRESENCE_GRACE.
    await selectRoom(alice, t.roomId);
    await bob.locator(".close-pane").click();
    await alice.locator('.member[data-member="bob"][data-status="offline"]').waitFor();

    // Users met in the rooms are offered as panes: pick Bob again. Then a narrow screen stacks the layout.
    await page.locator('.suggestions .suggestion[data-user="bob"]').click();
    await pane(page, "bob").locator(".conn-state.state-open").waitFor();
    expect(await page.inputValue(".playground .user-ids")).toBe("alice, bob");
    await page.setViewportSize(NARROW);
    await screenshot(page, "playground-narrow-390x844");

    // The key never left the headers: not in any URL, not in storage, not in the server log.
    expect(urls.every((u) => u.startsWith(`${s.origin}/`))).toBe(true);
    expect(urls.some((u) => u.includes(t.key))).toBe(false);
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie);
    expect(stored.includes(t.key)).toBe(false);
    expect(s.logs.join("\n").includes(t.key)).toBe(false);
    expect(problems).toEqual([]);
  }, TEST_TIMEOUT_MS);

  test("a refused key stops the pane with the error and a Reconnect button; a good key then connects", async () => {
    const { s } = suite;
    const t = await s.createTenant("badkey");
    const { page, problems } = await suite.newPage();
    await page.goto(`${s.origin}/console`);
    await page.fill(".playground .tenant-key", "not-a-valid-key");
    await page.fill(".playground .user-ids", "alice");
    await page.click(".playground .open-panes");
    const alice = pane(page, "alice");
    await alice.locator(".pane-error", { hasText: "401 unauthorized" }).waitFor();
    await eventually(async () => expect(await alice.getAttribute("data-state")).toBe("closed"));
    expect(await alice.locator("button", { hasText: "Reconnect" }).isVisible()).toBe(true);
    await page.fill(".playground .tenant-key", t.api_key);
    await page.click(".playground .open-panes");
    await alice.locator(".conn-state.state-open").waitFor();
    expect(await alice.locator(".pane-error").isVisible()).toBe(false);
    expect(problems).toEqual([]);
  }, TEST_TIMEOUT_MS);

  test("a page reload restores history and unread counts; history scrolls upwards", async () => {
    const { s } = suite;
    const t = await tenantWithRoom("reload", ["alice", "bob"], { user_message_rate: 1000 });
    const other = await t.as("alice").post("/rooms", { type: "group", name: "other room", members: ["bob"] });
    for (let i = 1; i <= 70; i++) expect((await t.as("bob").post(`/rooms/${t.roomId}/messages`, { content: `m${i}` })).status).toBe(201);
    const { page, problems } = await suite.newPage();
    await openPlayground(page, s.origin, t.key, ["alice", "bob"]);
    const alice = pane(page, "alice");
    await eventually(async () => expect(await alice.locator(`.room[data-room-id="${t.roomId}"] .room-unread`).textContent()).toBe("70"));
    await selectRoom(alice, t.roomId);
    expect((await seqs(alice)).length).toBe(50);
    expect((await seqs(alice)).at(-1)).toBe(70);
    // Infinite scroll upwards loads the 20 older ones.
    await alice.locator(".messages").evaluate((el) => (el.scrollTop = 0));
    await eventually(async () => expect(await seqs(alice)).toEqual(Array.from({ length: 70 }, (_, i) => i + 1)));
    await alice.locator(".history-start").waitFor();

    for (const c of ["one", "two", "three"]) await t.as("bob").post(`/rooms/${other.body.room_id}/messages`, { content: c });
    const badge = alice.locator(`.room[data-room-id="${other.body.room_id}"] .room-unread`);
    await eventually(async () => expect(await badge.textContent()).toBe("3"));

    await page.reload();
    // The key is gone after a reload (memory only); the user ids and the open room are remembered.
    expect(await page.inputValue(".playground .tenant-key")).toBe("");
    expect(await page.inputValue(".playground .user-ids")).toBe("alice, bob");
    await openPlayground(page, s.origin, t.key, ["alice", "bob"]);
    await eventually(async () => {
      expect(await badge.textContent()).toBe("3");
      expect((await seqs(alice)).at(-1)).toBe(70);
      expect(await bodies(alice).then((b) => b.at(-1))).toBe("m70");
      expect(await alice.locator(`.room[data-room-id="${t.roomId}"]`).getAttribute("aria-current")).toBe("true");
    });
    // Opening the room reads it; the read state survives another reload (it is the server's).
    await selectRoom(alice, other.body.room_id);
    await eventually(async () => expect(await bodies(alice)).toEqual(["one", "two", "three"]));
    await eventually(async () => expect((await t.as("alice").get("/rooms")).body.rooms.find((r: any) => r.room_id === other.body.room_id).unread_count).toBe(0));
    await page.reload();
    await openPlayground(page, s.origin, t.key, ["alice", "bob"]);
    await alice.locator(`.room[data-room-id="${t.roomId}"]`).waitFor();
    expect(await alice.locator(".room-unread").count()).toBe(0);
    expect(problems).toEqual([]);
  }, TEST_TIMEOUT_MS);

  test("after a server-side cut the pane reconnects and catches up: nothing lost, nothing doubled", async () => {
    const { s } = suite;
    const t = await tenantWithRoom("cut");
    const { page, problems } = await suite.newPage();
    const { alice, bob } = await openAliceAndBob(page, s.origin, t.key, t.roomId);
    await send(alice, "before 1");
    // Seen before bob sends: send() does not wait for the answer, and the order below counts.
    await eventually(async () => expect(await bodies(alice)).toEqual(["before 1"]));
    await send(bob, "before 2");
    await eventually(async () => expect(await bodies(alice)).toEqual(["before 1", "before 2"]));

    // Hold Alice's next token until Bob has sent while she was away.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    await page.route("**/ws/token", async (route) => {
      if (route.request().headers()["x-user-id"] === "alice") await gate;
      await route.continue();
    });
    const sockets = [...s.api.gateway.registry.sockets(t.tenantId, "alice")];
    expect(sockets.length).toBe(1);
    for (const ws of sockets) ws.close(1011, "test: cut");
    await eventually(async () => expect(await alice.getAttribute("data-state")).toMatch(/reconnecting|connecting/));

    for (const c of ["during 1", "during 2", "during 3"]) await send(bob, c);
    await eventually(async () => expect((await bodies(bob)).length).toBe(5));
    expect(await bodies(alice)).toEqual(["before 1", "before 2"]);
    await screenshot(page, "playground-reconnecting-1280x800");

    release();
    await alice.locator(".conn-state.state-open").waitFor();
    await send(bob, "after");
    const all = ["before 1", "before 2", "during 1", "during 2", "during 3", "after"];
    await eventually(async () => {
      expect(await bodies(alice)).toEqual(all);
      expect(await seqs(alice)).toEqual([1, 2, 3, 4, 5, 6]);
    });
    // A barrier instead of a pause: frames of a room arrive in seq order, so once seq 7 is shown any
    // late replay or sync of 1..6 would already be on the page. Each must still be there exactly once.
    await send(bob, "barrier");
    await eventually(async () => {
      expect(await bodies(alice)).toEqual([...all, "barrier"]);
      expect(await seqs(alice)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    });
    expect(problems).toEqual([]);
  }, TEST_TIMEOUT_MS);

  test("editing and deleting a message update the other pane; only the sender gets the controls", async () => {
    const { s } = suite;
    const t = await tenantWithRoom("edit");
    const { page, problems } = await suite.newPage();
    const { alice, bob } = await openAliceAndBob(page, s.origin, t.key, t.roomId);
    await send(alice, "a typo mesage");
    await send(alice, "keep me");
    await eventually(async () => expect(await bodies(bob)).toEqual(["a typo mesage", "keep me"]));
    expect(await bob.locator(".msg-edit").count()).toBe(0);

    const first = alice.locator('.msg[data-seq="1"]');
    await first.hover();
    await first.locator(".msg-edit").click();
    await first.locator(".msg-edit-input").fill("a fixed message");
    await first.locator(".msg-edit-input").press("Enter");
    await eventually(async () => {
      expect(await bodies(bob)).toEqual(["a fixed message", "keep me"]);
      expect(await bob.locator('.msg[data-seq="1"] .msg-edited').count()).toBe(1);
    });

    await first.hover();
    await first.locator(".msg-delete").click();
    await first.locator(".msg-delete.armed").click();
    await eventually(async () => {
      expect(await bodies(bob)).toEqual(["message deleted", "keep me"]);
      expect(await bodies(alice)).toEqual(["message deleted", "keep me"]);
      expect(await bob.locator('.msg[data-seq="1"].deleted').count()).toBe(1);
    });
    expect(await alice.locator('.msg[data-seq="1"] .msg-edit').count()).toBe(0);
    expect(problems).toEqual([]);
  }, TEST_TIMEOUT_MS);

  test("operations: health, live metrics, tenants with the master key, a dead letter and its retry", async () => {
    const { s } = suite;
    let failing = true;
    const received: any[] = [];
    const hook = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        const body = await req.json();
        if (failing) return new Response("nope", { status: 500 });
        received.push(body);
        return new Response("ok");
      },
    });
    try {
      const t = await tenantWithRoom("ops", ["alice", "bob"], { webhook_url: `http://127.0.0.1:${hook.port}/hook` });
      // Bob is offline: his copy goes to the webhook, fails once, and becomes a dead letter.
      expect((await t.as("alice").post(`/rooms/${t.roomId}/messages`, { content: "for the webhook" })).status).toBe(201);
      await eventually(async () => expect((await t.as("alice").get("/admin/dead-letters")).body.dead_letters.length).toBe(1), 10_000);

      const { page, problems } = await suite.newPage();
      await page.goto(`${s.origin}/console#/operations`);
      await page.locator('[data-health="ok"]').waitFor();
      await eventually(async () => expect(await page.locator('.tile[data-tile="Connections"] .tile-value').textContent()).toMatch(/^\d+$/));
      await page.fill(".master-key", TEST_MASTER_KEY);
      await page.locator(".tenants-table tr", { hasText: "ops" }).first().waitFor();
      await page.fill(".new-tenant-name", "made in the console");
      await page.click(".create-tenant");
      await page.locator(".created-key .api-key").waitFor();
      await page.locator(".tenants-table tr", { hasText: "made in the console" }).waitFor();
      const newKey = await page.locator(".created-key .api-key").textContent();
      expect((await s.client(newKey!, "x").get("/rooms")).status).toBe(200);

      await page.fill(".ops-tenant-key", t.key);
      const row = page.locator(".dead-letters-table tbody tr");
      await row.first().waitFor();
      expect(await row.count()).toBe(1);
      expect(await row.first().textContent()).toContain("message.new");
      expect(await row.first().textContent()).toContain("bob");
      // Some traffic (another tenant, no webhook) across a few metric samples, so the chart has a shape.
      const busy = await tenantWithRoom("ops-traffic", ["carol", "dave"], { user_message_rate: 1000 });
      for (const n of [4, 12, 25, 9]) {
        await Promise.all(Array.from({ length: n }, (_, i) => busy.as("carol").post(`/rooms/${busy.roomId}/messages`, { content: `load ${i}` })));
        await page.waitForTimeout(1000);
      }
      await page.waitForTimeout(2200);
      await screenshot(page, "operations-1280x800");

      failing = false;
      await row.first().locator(".retry").click();
      await eventually(async () => expect(await row.count()).toBe(0), 10_000);
      await page.locator(".dead-letters-card .panel-status", { hasText: "No dead letters" }).waitFor();
      await eventually(() => expect(received.map((b) => b.message?.content)).toEqual(["for the webhook"]));
      expect(s.logs.join("\n").includes(t.key)).toBe(false);
      expect(problems).toEqual([]);
    } finally {
      hook.stop(true);
    }
  }, TEST_TIMEOUT_MS);
});
