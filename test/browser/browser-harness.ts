// Harness of the console's browser tests: Chromium via playwright-core (skipped with a printed reason
// when it is absent), a test server whose own origin is in ALLOWED_ORIGINS, page helpers, screenshots.
import { afterAll, beforeAll } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Locator, type Page, type ViewportSize } from "playwright-core";
import { startTestServer, type TestServer } from "../helpers";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Why the browser tests cannot run here, or null when they can. */
export const chromiumMissing: string | null = existsSync(CHROMIUM_PATH)
  ? null
  : `no Chromium at ${CHROMIUM_PATH} (install Debian's chromium, or set CHROMIUM_PATH)`;

if (chromiumMissing) console.warn(`browser tests skipped: ${chromiumMissing}`);

/** Screenshots for people to look at (gitignored). */
export const ARTIFACTS_DIR = join(import.meta.dir, "..", "..", "test-artifacts");

export const DESKTOP = { width: 1280, height: 800 };
export const NARROW = { width: 390, height: 844 };

/** Headless Chromium with a fresh profile (playwright creates and removes a temporary --user-data-dir). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-sync",
      "--disable-quic",
      "--disable-dev-shm-usage",
    ],
    timeout: 20_000,
  });
}

/** A free TCP port on 127.0.0.1 (the server must know its origin before it starts). */
export function freePort(): number {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  const port = s.port!;
  s.stop(true);
  return port;
}

export interface ConsoleServer extends TestServer {
  origin: string;
}

/** A test server listening at a known origin that is also listed in ALLOWED_ORIGINS. */
export async function startConsoleServer(env: Record<string, string> = {}): Promise<ConsoleServer> {
  for (let attempt = 0; ; attempt++) {
    const port = freePort();
    const origin = `http://127.0.0.1:${port}`;
    try {
      const s = await startTestServer({ LISTEN_ADDR: `127.0.0.1:${port}`, ALLOWED_ORIGINS: origin, ...env });
      return Object.assign(s, { origin });
    } catch (err) {
      // Someone took the port between the probe and the listen: pick another.
      if (attempt >= 3) throw err;
    }
  }
}

/** What the tests of a describe block in Chromium share; `s` and `browser` are set by its beforeAll. */
export interface ConsoleSuite {
  s: ConsoleServer;
  browser: Browser;
  /** A page in a new context (closed after the block) and the problems watchPage collects on it. */
  newPage(viewport?: ViewportSize): Promise<{ page: Page; problems: string[] }>;
}

/**
 * Call inside `describe.skipIf(chromiumMissing !== null)(…)`: registers a beforeAll that starts a console
 * server (with `env`) and Chromium, and an afterAll that closes the suite's contexts, the browser and the
 * server. Registered only when Chromium is there, so a skipped run lists the tests and nothing else.
 */
export function consoleSuite(env: Record<string, string> = {}): ConsoleSuite {
  const contexts: BrowserContext[] = [];
  const suite = {
    async newPage(viewport: ViewportSize = DESKTOP) {
      const context = await suite.browser.newContext({ viewport, deviceScaleFactor: 1 });
      contexts.push(context);
      const page = await context.newPage();
      return { page, problems: watchPage(page) };
    },
  } as ConsoleSuite;
  if (chromiumMissing === null) {
    beforeAll(async () => {
      [suite.s, suite.browser] = await Promise.all([startConsoleServer(env), launchChromium()]);
    }, 30_000);
    // Shutdown may wait for an in-flight webhook attempt (WEBHOOK_TIMEOUT): not a 5 s job under load.
    afterAll(async () => {
      for (const c of contexts) await c.close().catch(() => {});
      await suite.browser?.close();
      await suite.s?.stop();
    }, 30_000);
  }
  return suite;
}

/** Collects page errors and failed CSP checks; tests assert it stays empty. */
export function watchPage(page: Page): string[] {
  const problems: string[] = [];
  page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error" && !/Failed to load resource|WebSocket connection to .* failed/.test(msg.text())) problems.push(`console.error: ${msg.text()}`);
  });
  return problems;
}

/** Opens the playground, pastes the key and opens one pane per user; waits until all are connected. */
export async function openPlayground(page: Page, origin: string, apiKey: string, users: string[]): Promise<void> {
  await page.goto(`${origin}/console#/playground`);
  await page.fill(".playground .tenant-key", apiKey);
  await page.fill(".playground .user-ids", users.join(", "));
  await page.click(".playground .open-panes");
  for (const u of users) await pane(page, u).locator(".conn-state.state-open").waitFor({ timeout: 10_000 });
}

/** Opens the playground with panes for alice and bob; alice shows `room`, bob `bobRoom` (by default the same). */
export async function openAliceAndBob(page: Page, origin: string, apiKey: string, room: string, bobRoom = room): Promise<{ alice: Locator; bob: Locator }> {
  await openPlayground(page, origin, apiKey, ["alice", "bob"]);
  const alice = pane(page, "alice");
  const bob = pane(page, "bob");
  await selectRoom(alice, room);
  await selectRoom(bob, bobRoom);
  return { alice, bob };
}

/** The pane of one user. */
export function pane(page: Page, user: string): Locator {
  return page.locator(`.pane[data-user="${user}"]`);
}

/** Selects a room in a pane by its room id and waits for its history to be shown. */
export async function selectRoom(p: Locator, roomId: string): Promise<void> {
  await p.locator(`.room[data-room-id="${roomId}"]`).click();
  await p.locator(".msg-history-head p:not(:has-text('Loading'))").first().waitFor();
}

/** Types and sends a message from a pane's composer. */
export async function send(p: Locator, text: string): Promise<void> {
  await p.locator(".composer-input").fill(text);
  await p.locator(".composer-input").press("Enter");
}

/** Message bodies shown in a pane, in display order. */
export function bodies(p: Locator): Promise<string[]> {
  return p.locator(".msg .msg-body").allTextContents();
}

/** Seqs shown in a pane, in display order. */
export async function seqs(p: Locator): Promise<number[]> {
  return (await p.locator(".msg").evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.seq))));
}

/** Retries `check` (which throws while not yet true) until it passes or `timeoutMs` runs out. */
export async function eventually(check: () => Promise<void> | void, timeoutMs = 8000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (performance.now() > deadline) throw err;
      await Bun.sleep(25);
    }
  }
}

/** Writes test-artifacts/<name>.png of the whole viewport. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS_DIR, `${name}.png`), animations: "disabled", caret: "hide" });
}
