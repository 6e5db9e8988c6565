// `bun run bench/micro/fts-send-cost.ts`: storage CPU per message of a durable send (next seq +
// insert, 32 sends per group commit, SQLITE_SYNCHRONOUS=full) with the FTS5 search index and with
// its triggers dropped, interleaved (so machine load hits both alike). Prints µs per message.
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteStore } from "../../src/storage/sqlite/sqlite-store";
import { rng, vocabulary } from "../lib/seed-search";

const v = vocabulary();
const r = rng(1);
const text = () => `${Array.from({ length: 10 }, () => v.sample(r)).join(" ")} ${"x".repeat(20)}`;
const now = () => new Date().toISOString();

async function run(indexed: boolean, batches: number, per: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "fts-cost-"));
  const path = join(dir, "c.db");
  try {
    let store = openSqliteStore({ path, synchronous: "full" });
    await store.transaction(async (tx) => {
      await tx.tenants.insert({ tenant_id: "t", name: "t", api_key_hash: "h", config: {}, webhook_secret: null, jwt_secret: null, jwt_public_keys: null, created_at: now(), updated_at: now() });
      for (let i = 0; i < 100; i++) await tx.rooms.insertRoom({ tenant_id: "t", room_id: `r${i}`, type: "group", name: null, metadata: null, dm_key: null, last_seq: 0, last_activity_at: now(), created_by: "u", created_at: now(), updated_at: now() });
    });
    if (!indexed) {
      await store.close();
      const db = new Database(path);
      db.exec("DROP TRIGGER messages_fts_insert; DROP TRIGGER messages_fts_update; DROP TRIGGER messages_fts_delete");
      db.close();
      store = openSqliteStore({ path, synchronous: "full" });
    }
    const cpu0 = process.cpuUsage();
    for (let b = 0; b < batches; b++) {
      await Promise.all(
        Array.from({ length: per }, (_, i) =>
          store.transaction(async (tx) => {
            const room = `r${(b * per + i) % 100}`;
            const at = now();
            const seq = await tx.rooms.nextSeq("t", room, at);
            await tx.messages.insert({ tenant_id: "t", room_id: room, seq, message_id: Bun.randomUUIDv7(), sender_id: "u", content: text(), meta: null, client_msg_id: null, created_at: at, edited_at: null, deleted_at: null, parent_id: null, reply_count: 0, last_reply_at: null, mentions: [], reactions: [], attachments: [], change_seq: seq });
          }),
        ),
      );
    }
    const c = process.cpuUsage(cpu0);
    await store.close();
    return (c.user + c.system) / (batches * per);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows: [number, number][] = [];
for (let k = 0; k < 5; k++) rows.push([await run(false, 200, 32), await run(true, 200, 32)]);
console.log("| round | unindexed µs/msg | indexed µs/msg | added |\n|---|---|---|---|");
for (const [i, [u, x]] of rows.entries()) console.log(`| ${i + 1} | ${u.toFixed(1)} | ${x.toFixed(1)} | ${(x - u).toFixed(1)} |`);
const med = (a: number[]) => a.sort((p, q) => p - q)[a.length >> 1]!;
console.log(`| median | ${med(rows.map((x) => x[0])).toFixed(1)} | ${med(rows.map((x) => x[1])).toFixed(1)} | ${med(rows.map((x) => x[1] - x[0])).toFixed(1)} |`);
