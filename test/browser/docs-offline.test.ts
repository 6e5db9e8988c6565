// /docs works offline (issue 14): Swagger UI comes from the binary, so in headless Chromium with every
// request to anywhere but 127.0.0.1 aborted, the page still lists every operation, "Try it out"
// reaches this server, and nothing was even attempted elsewhere. No CSP violation either.
import { describe, expect, test } from "bun:test";
import { chromiumMissing, consoleSuite, DESKTOP, screenshot, watchPage } from "./browser-harness";

describe.skipIf(chromiumMissing !== null)("/docs in Chromium without a network", () => {
  const suite = consoleSuite();

  test("renders every operation from local assets; requests elsewhere: none attempted", async () => {
    const { s, browser } = suite;
    const context = await browser.newContext({ viewport: DESKTOP, serviceWorkers: "block" });
    const outside: string[] = [];
    const violations: string[] = [];
    try {
      await context.route("**/*", (route) => {
        const url = new URL(route.request().url());
        if (url.hostname === "127.0.0.1") return route.continue();
        outside.push(url.href);
        return route.abort("internetdisconnected");
      });
      const page = await context.newPage();
      const problems = watchPage(page);
      page.on("console", (msg) => {
        if (/Content Security Policy|Refused to/i.test(msg.text())) violations.push(msg.text());
      });
      const doc = (await (await fetch(`${s.origin}/docs/json`)).json()) as { paths: Record<string, Record<string, unknown>> };
      const operations = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);

      const res = await page.goto(`${s.origin}/docs`);
      expect(res?.headers()["content-security-policy"]).toContain("script-src 'self'");
      await page.locator(".opblock").first().waitFor({ timeout: 20_000 });
      expect(await page.locator(".opblock").count()).toBe(operations);
      expect(await page.locator(".info .title").textContent()).toContain("ChatAPI");
      // Security schemes are applied, so the Authorize dialog exists.
      await page.locator(".btn.authorize").waitFor();

      // "Try it out" on GET /health reaches this server (connect-src 'self').
      const health = page.locator("#operations-Operations-getHealth");
      await health.locator(".opblock-summary").click();
      await health.locator(".try-out__btn").click();
      await health.locator(".execute").click();
      await health.locator(".live-responses-table .response-col_status", { hasText: "200" }).waitFor({ timeout: 10_000 });
      await screenshot(page, "docs-offline-1280x800");

      expect(outside).toEqual([]);
      expect(violations).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);
});
