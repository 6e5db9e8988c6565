// The console's attachments in real Chromium: a pane uploads an image and a file from the composer;
// the other pane shows the image inline (loaded through its signed url) and the file as a link.
import { describe, expect, test } from "bun:test";
import { chromiumMissing, consoleSuite, DESKTOP, openAliceAndBob, screenshot, watchPage } from "./browser-harness";

// A 1x1 red PNG.
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==", "base64");

describe.skipIf(chromiumMissing !== null)("console attachments in Chromium", () => {
  const suite = consoleSuite();

  test("upload an image and a file; the other pane shows the image inline and the file as a link", async () => {
    const { s, browser } = suite;
    const t = await s.createTenant("console-att");
    const room = await s.client(t.api_key, "alice").post("/rooms", { type: "group", name: "files", members: ["bob"] });
    const context = await browser.newContext({ viewport: DESKTOP, deviceScaleFactor: 1 });
    try {
      const page = await context.newPage();
      const problems = watchPage(page);
      const { alice, bob } = await openAliceAndBob(page, s.origin, t.api_key, room.body.room_id);

      await alice.locator(".composer-input").fill("the picture");
      await alice.locator(".composer-file").setInputFiles({ name: "red.png", mimeType: "image/png", buffer: PNG });
      const img = bob.locator(".msg-attachment.image img");
      await img.waitFor({ timeout: 10_000 });
      expect(await img.getAttribute("src")).toMatch(/^\/attachments\/[^?]+\?expires=\d+&signature=[0-9a-f]{64}$/);
      // The browser really loaded it (signed url, same origin, nosniff + CSP sandbox headers).
      await page.waitForFunction((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth === 1, await img.elementHandle(), { timeout: 10_000 });
      expect(await bob.locator(".msg .msg-body").first().textContent()).toContain("the picture");

      await alice.locator(".composer-file").setInputFiles({ name: "notes <b>.html", mimeType: "text/html", buffer: Buffer.from("<script>alert(1)</script>") });
      const link = bob.locator(".msg-attachment.file");
      await link.waitFor({ timeout: 10_000 });
      expect(await link.textContent()).toContain("notes <b>.html");
      expect(await link.getAttribute("download")).toBe("notes <b>.html");
      const res = await page.evaluate(async (href) => {
        const r = await fetch(href as string);
        return { type: r.headers.get("content-type"), disposition: r.headers.get("content-disposition"), body: await r.text() };
      }, await link.getAttribute("href"));
      expect(res.type).toBe("application/octet-stream");
      expect(res.disposition).toStartWith("attachment;");
      expect(res.body).toBe("<script>alert(1)</script>");
      await screenshot(page, "console-attachments");
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 45_000);
});
