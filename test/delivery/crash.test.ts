// Crash safety of the outbox: the real entry point as a child process, SIGKILLed while deliveries are
// pending (receiver down: 500s and hanging requests), restarted with the receiver healthy: every
// delivery arrives (at-least-once) under the event_id it had before the crash.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request, waitFor } from "../helpers";
import { openStoreAt } from "../support/store";
import { Receiver } from "./receiver";

const REPO_ROOT = join(import.meta.dir, "..", "..");
const MASTER = "crash-test-master-key-0123456789";
const dataDir = mkdtempSync(join(tmpdir(), "chatapi-crash-"));

function freePort(): number {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

async function spawnServer(): Promise<{ proc: Bun.Subprocess; url: string }> {
  const port = freePort();
  const proc = Bun.spawn([process.execPath, "run", join(REPO_ROOT, "src", "main.ts"), "serve"], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      LISTEN_ADDR: `127.0.0.1:${port}`,
      DATA_DIR: dataDir,
      MASTER_API_KEY: MASTER,
      LOG_LEVEL: "warn",
      RETRY_INTERVAL: "50ms",
      RETRY_MAX_INTERVAL: "200ms",
      RETRY_MAX_ATTEMPTS: "100",
      WORKER_INTERVAL: "100ms",
      WEBHOOK_TIMEOUT: "3s",
    },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "ignore",
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      try {
        return (await fetch(`${url}/health`)).ok;
      } catch {
        return false;
      }
    },
    10_000,
    "the child server to answer /health",
  );
  return { proc, url };
}

const procs: Bun.Subprocess[] = [];
afterAll(() => {
  for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
  rmSync(dataDir, { recursive: true, force: true });
});

test("SIGKILL with pending deliveries, restart: every delivery arrives with its original event_id", async () => {
  let healthy = false;
  // While down: alternate 500 and hanging requests (so some attempts are in flight at the kill).
  const rx = new Receiver((_r, i) => (healthy ? 200 : i % 2 === 0 ? "hang" : 500));
  try {
    const first = await spawnServer();
    procs.push(first.proc);
    const t = await request(`${first.url}/admin/tenants`, "POST", { name: "crash", config: { webhook_url: rx.url } }, { "x-master-key": MASTER });
    expect(t.status).toBe(201);
    const h = { "x-api-key": t.body.api_key, "x-user-id": "alice" };
    const room = await request(`${first.url}/rooms`, "POST", { type: "group", members: ["bob", "carol"] }, h);
    expect(room.status).toBe(201);
    const messageIds: string[] = [];
    for (let i = 0; i < 5; i++) {
      const m = await request(`${first.url}/rooms/${room.body.room_id}/messages`, "POST", { content: `m${i}` }, h);
      expect(m.status).toBe(201);
      messageIds.push(m.body.message_id);
    }
    // Some attempts have reached the receiver (and failed or hang) before the crash.
    await rx.waitForCount(4);
    first.proc.kill("SIGKILL");
    await first.proc.exited;
    const beforeCrash = new Map<string, string>();
    for (const r of rx.received) beforeCrash.set(`${r.body.message.message_id}/${r.body.recipient_id}`, r.body.event_id);
    const seenBefore = rx.received.length;

    healthy = true;
    rx.release();
    const second = await spawnServer();
    procs.push(second.proc);
    const expected = messageIds.flatMap((id) => ["bob", "carol"].map((u) => `${id}/${u}`));
    const okKeys = () => new Set(rx.received.slice(seenBefore).map((r) => `${r.body.message.message_id}/${r.body.recipient_id}`));
    await waitFor(() => expected.every((k) => okKeys().has(k)), 10_000, "all 10 deliveries after the restart");
    second.proc.kill("SIGTERM");
    expect(await second.proc.exited).toBe(0);

    // Same event_id before and after the crash; one event_id per (message, recipient).
    const eventByKey = new Map<string, Set<string>>();
    for (const r of rx.received) {
      const k = `${r.body.message.message_id}/${r.body.recipient_id}`;
      if (!eventByKey.has(k)) eventByKey.set(k, new Set());
      eventByKey.get(k)!.add(r.body.event_id);
    }
    expect([...eventByKey.keys()].sort()).toEqual([...expected].sort());
    for (const ids of eventByKey.values()) expect(ids.size).toBe(1);
    for (const [k, id] of beforeCrash) expect([...eventByKey.get(k)!]).toEqual([id]);

    const store = await openStoreAt(dataDir);
    try {
      const rows = await store.deliveries.list({}, 1000);
      expect(rows.map((r) => r.status)).toEqual(Array(10).fill("delivered"));
    } finally {
      await store.close();
    }
  } finally {
    rx.stop();
  }
}, 30_000);
