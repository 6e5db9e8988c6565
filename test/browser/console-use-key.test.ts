// Regression (issue 14): "Use in playground" after creating a tenant on the Operations page used to
// set the key and stay on Operations; it must open the playground with the new key filled in.
import { describe, expect, test } from "bun:test";
import { TEST_MASTER_KEY } from "../helpers";
import { chromiumMissing, consoleSuite, DESKTOP, pane, watchPage } from "./browser-harness";

describe.skipIf(chromiumMissing !== null)("console: Use in playground", () => {
  const suite = consoleSuite();

  test("opens the playground with the new tenant's key, which connects a pane", async () => {
    const { s, browser } = suite;
    const context = await browser.newContext({ viewport: DESKTOP });
    try {
      const page = await context.newPage();
      const problems = watchPage(page);
      await page.goto(`${s.origin}/console#/operations`);
      await page.fill(".master-key", TEST_MASTER_KEY);
      await page.fill(".new-tenant-name", "from operations");
      await page.click(".create-tenant");
      const newKey = await page.locator(".created-key .api-key").textContent();
      expect(newKey).toMatch(/^[A-Za-z0-9_-]{43}$/);

      await page.click(".created-key .use-key");
      await page.locator(".playground").waitFor({ state: "visible" });
      expect(new URL(page.url()).hash).toBe("#/playground");
      expect(await page.locator("body").getAttribute("data-view")).toBe("playground");
      expect(await page.locator(".view.operations").isVisible()).toBe(false);
      expect(await page.inputValue(".playground .tenant-key")).toBe(newKey!);

      // The key works: a pane opened with it connects.
      await page.fill(".playground .user-ids", "alice");
      await page.click(".playground .open-panes");
      await pane(page, "alice").locator(".conn-state.state-open").waitFor({ timeout: 10_000 });
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 45_000);
});
