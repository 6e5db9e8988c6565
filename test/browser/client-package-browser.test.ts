// The built @chatapi/client (packages/client/dist/index.js, as published) in headless Chromium, the
// way an app uses it: the app's own origin serves its page, the package file and a token endpoint
// (its backend holds the key); the page connects cross-origin to ChatAPI, sends, hears its own
// message, and gets a typed ChatClientError.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Server } from "bun";
import type { Browser } from "playwright-core";
import { buildClientPackage } from "../../packages/client/build";
import { startTestServer, type TestServer } from "../helpers";
import { chromiumMissing, launchChromium, watchPage } from "./browser-harness";

const DIST = join(import.meta.dir, "..", "..", "packages", "client", "dist", "index.js");

const page = (wsUrl: string) => `<!doctype html><meta charset="utf-8"><title>app</title><script type="module">
import { createChatClient, ChatClientError } from "/chatapi-client.js";
const room = new URLSearchParams(location.search).get("room");
const client = createChatClient({
  url: ${JSON.stringify(wsUrl)},
  getToken: async () => (await (await fetch("/token", { method: "POST" })).json()).token,
});
const heard = new Promise((resolve) => client.on("message", (m) => m.content === "from the browser" && resolve(m)));
try {
  await client.connect();
  const sent = await client.sendMessage(room, "from the browser");
  const got = await heard;
  let code = null;
  try { await client.sendMessage("no-such-room", "x"); } catch (e) { code = e instanceof ChatClientError ? e.code : String(e); }
  client.close();
  window.result = { user: client.userId, seq: sent.seq, heardSeq: got.seq, code };
} catch (e) {
  window.result = { failed: String(e) };
}
</script>`;

describe.skipIf(chromiumMissing !== null)("@chatapi/client in Chromium", () => {
  let app: Server<undefined>;
  let s: TestServer;
  let browser: Browser;
  let apiKey = "";

  if (chromiumMissing === null) {
    beforeAll(async () => {
      await buildClientPackage();
      const js = readFileSync(DIST, "utf8");
      app = Bun.serve({
        hostname: "127.0.0.1",
        port: 0,
        fetch: async (req) => {
          const path = new URL(req.url).pathname;
          if (path === "/") return new Response(page(`${s.wsUrl}`), { headers: { "content-type": "text/html; charset=utf-8" } });
          if (path === "/chatapi-client.js") return new Response(js, { headers: { "content-type": "text/javascript" } });
          if (path === "/token") return Response.json((await s.client(apiKey, "dana").post("/ws/token")).body);
          return new Response("", { status: 404 });
        },
      });
      [s, browser] = await Promise.all([startTestServer({ ALLOWED_ORIGINS: `http://127.0.0.1:${app.port}` }), launchChromium()]);
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
      await s?.stop();
      app?.stop(true);
    }, 30_000);
  }

  test("the built package connects with a token, round-trips a message and rejects with ChatClientError", async () => {
    const t = await s.createTenant("browser-pkg");
    apiKey = t.api_key;
    const room = await s.client(t.api_key, "dana").post("/rooms", { type: "group", members: ["eve"] });
    expect(room.status).toBe(201);
    const context = await browser.newContext();
    try {
      const tab = await context.newPage();
      const problems = watchPage(tab);
      await tab.goto(`http://127.0.0.1:${app.port}/?room=${room.body.room_id}`);
      await tab.waitForFunction(() => (window as any).result !== undefined, undefined, { timeout: 15_000 });
      expect(await tab.evaluate(() => (window as any).result)).toEqual({ user: "dana", seq: 1, heardSeq: 1, code: "not_found" });
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);
});
