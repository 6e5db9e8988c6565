// Crash safety on PostgreSQL: the real entry point as a child process on a fresh database, SIGKILLed
// twice under concurrent sends and restarted. Every acknowledged (2xx) message is present with its
// seq, id and content; seqs are gapless (last_seq = row count); unanswered sends retried with their
// client_msg_id never produce a second row; every stored message gets its outbox rows (in the send's
// transaction, or by its durable fan-out job). Skipped with a notice when no PostgreSQL is reachable.
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { openPostgresStore } from "../../src/storage/postgres/postgres-store";
import { TEST_MASTER_KEY, waitFor } from "../helpers";
import { freePort, tempDir } from "../foundation/cli";
import { createTestDatabase, postgresAvailable, type TestDatabase } from "../support/postgres";

const available = await postgresAvailable();
const REPO_ROOT = join(import.meta.dir, "..", "..");
const OFFLINE = ["off-0", "off-1"];
let db: TestDatabase | null = null;
afterAll(() => db?.drop(), 30_000);

async function spawnServer(url: string, dataDir: string): Promise<{ proc: Bun.Subprocess; base: string }> {
  const port = freePort();
  const proc = Bun.spawn([process.execPath, "run", join(REPO_ROOT, "src", "main.ts"), "serve"], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      LISTEN_ADDR: `127.0.0.1:${port}`,
      DATA_DIR: dataDir,
      DATABASE_DSN: url,
      DATABASE_POOL_SIZE: "8",
      MASTER_API_KEY: TEST_MASTER_KEY,
      LOG_LEVEL: "warn",
      DEFAULT_RATE_LIMIT: "1000000",
      CONSOLE_ENABLED: "false",
    },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "ignore",
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${base}/health`).catch(() => null))?.ok, 20_000, "the server to answer /health");
  return { proc, base };
}

interface Send {
  cmid: string;
  room: string;
  sender: string;
  content: string;
  acked?: { seq: number; message_id: string };
}

test.skipIf(!available)("crash safety on PostgreSQL: SIGKILL under concurrent sends loses no acknowledged message and leaves no seq gap", async () => {
  db = await createTestDatabase();
  const dataDir = tempDir("chatapi-pg-crash-");
  const hook = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ok") });
  let server = await spawnServer(db.url, dataDir);
  try {
    const master = { "x-master-key": TEST_MASTER_KEY, "content-type": "application/json" };
    const t = await fetch(`${server.base}/admin/tenants`, { method: "POST", headers: master, body: JSON.stringify({ name: "crash", config: { webhook_url: hook.url.href, user_message_rate: 1_000_000 } }) }).then((r) => r.json());
    const senders = Array.from({ length: 12 }, (_, i) => `s${i}`);
    const rooms: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${server.base}/rooms`, {
        method: "POST",
        headers: { "x-api-key": t.api_key, "x-user-id": senders[0]!, "content-type": "application/json" },
        body: JSON.stringify({ type: "group", name: `r${i}`, members: [...senders.slice(1), ...OFFLINE] }),
      }).then((r) => r.json());
      rooms.push(r.room_id);
    }
    const sends: Send[] = [];
    let up = true;
    let running = true;
    const post = async (s: Send): Promise<void> => {
      const res = await fetch(`${server.base}/rooms/${s.room}/messages`, {
        method: "POST",
        headers: { "x-api-key": t.api_key, "x-user-id": s.sender, "content-type": "application/json" },
        body: JSON.stringify({ content: s.content, client_msg_id: s.cmid }),
        signal: AbortSignal.timeout(10_000),
      });
      const body = await res.json();
      if (res.status === 200 || res.status === 201) {
        if (s.acked) expect({ seq: body.seq, message_id: body.message_id }).toEqual(s.acked);
        else s.acked = { seq: body.seq, message_id: body.message_id };
      }
    };
    const loop = async (sender: string, n: number) => {
      for (let i = 0; running; i++) {
        if (!up) {
          await waitFor(() => up || !running, 30_000, "restart");
          continue;
        }
        const s: Send = { cmid: `${sender}-${n}-${i}`, room: rooms[(i + n) % rooms.length]!, sender, content: `m ${sender} ${i} ✓` };
        sends.push(s);
        await post(s).catch(() => {}); // killed mid-request: retried below with the same client_msg_id
      }
    };
    const loops = senders.map((s, n) => loop(s, n));
    for (let k = 0; k < 2; k++) {
      const target = sends.filter((s) => s.acked).length + 150;
      await waitFor(() => sends.filter((s) => s.acked).length >= target, 30_000, "acknowledged sends before the kill");
      up = false;
      server.proc.kill("SIGKILL");
      await server.proc.exited;
      server = await spawnServer(db.url, dataDir);
      up = true;
    }
    await waitFor(() => sends.filter((s) => s.acked).length >= 450, 30_000, "acknowledged sends after the restarts");
    running = false;
    await Promise.all(loops);
    // Unanswered sends: retried with the same client_msg_id (201 if they never committed, 200 if they did).
    for (const s of sends.filter((x) => !x.acked)) await post(s);
    expect(sends.every((s) => s.acked)).toBe(true);

    const store = await openPostgresStore({ url: db.url, poolSize: 2, migrate: false });
    try {
      const acked = new Map(sends.map((s) => [`${s.sender}|${s.cmid}`, s]));
      let total = 0;
      for (const room of rooms) {
        const rows = await store.messages.after(t.tenant_id, room, 0, null, 100_000);
        expect(rows.map((m) => m.seq)).toEqual(rows.map((_, i) => i + 1));
        expect((await store.rooms.get(t.tenant_id, room))!.last_seq).toBe(rows.length);
        for (const m of rows) {
          const s = acked.get(`${m.sender_id}|${m.client_msg_id}`);
          expect(s && { seq: s.acked!.seq, id: s.acked!.message_id, content: s.content, room: s.room }).toEqual({ seq: m.seq, id: m.message_id, content: m.content, room });
        }
        total += rows.length;
      }
      // One row per send (acknowledged or retried), none twice.
      expect(total).toBe(sends.length);
      // Every stored message gets its outbox rows, one per offline member: written in the send's
      // transaction, or by the durable fan-out job committed with it (resumed by the restarted server).
      const missingHooks = async () => {
        const perMessage = new Map<string, Set<string>>();
        for (const d of await store.deliveries.list({ tenantId: t.tenant_id }, 1_000_000)) {
          const p = JSON.parse(d.payload);
          if (!perMessage.has(p.message.message_id)) perMessage.set(p.message.message_id, new Set());
          perMessage.get(p.message.message_id)!.add(p.recipient_id);
        }
        return sends.flatMap((s) => OFFLINE.filter((u) => !perMessage.get(s.acked!.message_id)?.has(u)).map((u) => `${s.acked!.message_id}/${u}`));
      };
      await waitFor(async () => (await missingHooks()).length === 0, 30_000, "an outbox row for every stored message and offline member").catch(() => {});
      expect(await missingHooks()).toEqual([]);
    } finally {
      await store.close();
    }
  } finally {
    server.proc.kill("SIGKILL");
    await server.proc.exited;
    hook.stop(true);
  }
}, 180_000);
