// Issue 17: the console's playground signs in with a user token (JWT) instead of the tenant key:
// the pane opens for the token's sub, its socket and REST calls use the token, no API key is sent.
import { describe, expect, test } from "bun:test";
import { claims, SECRET, signHs } from "../auth/jwt-helpers";
import { bodies, chromiumMissing, consoleSuite, DESKTOP, pane, selectRoom, send, watchPage } from "./browser-harness";

describe.skipIf(chromiumMissing !== null)("console: sign in with a user JWT", () => {
  const suite = consoleSuite();

  test("a pane opened with a JWT chats as the token's sub, without the API key", async () => {
    const { s, browser } = suite;
    const t = await s.createTenant("console-jwt", { jwt_secret: SECRET });
    const room = (await s.client(t.api_key, "alice").post("/rooms", { type: "group", name: "jwt room", members: ["bob"] })).body.room_id;
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    const problems = watchPage(page);
    const sentHeaders: Record<string, string>[] = [];
    page.on("request", (r) => sentHeaders.push(r.headers()));
    try {
      await page.goto(`${s.url}/console#/playground`);
      await page.selectOption(".playground .auth-mode", "jwt");
      await page.fill(".playground .user-jwt", await signHs(SECRET, claims(t.tenant_id, "alice")));
      await page.click(".playground .open-panes");
      const p = pane(page, "alice");
      await p.locator(".conn-state.state-open").waitFor({ timeout: 10_000 });
      await selectRoom(p, room);
      await send(p, "hello from a JWT pane");
      await p.locator(".msg", { hasText: "hello from a JWT pane" }).waitFor({ timeout: 10_000 });
      expect(await bodies(p)).toContain("hello from a JWT pane");
      const history = await s.client(t.api_key, "bob").get(`/rooms/${room}/messages`);
      expect(history.body.messages.map((m: any) => [m.sender_id, m.content])).toEqual([["alice", "hello from a JWT pane"]]);
      expect(sentHeaders.some((h) => (h.authorization ?? "").startsWith("Bearer "))).toBe(true);
      expect(sentHeaders.some((h) => "x-api-key" in h)).toBe(false);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 45_000);
});
