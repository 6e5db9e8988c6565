// Databases too large to fill through the API (history: 1M messages; startup: ~1 GB) are seeded
// directly with bun:sqlite: the tenant and rooms are created through the public API on a first
// start of the product, the server is stopped, then messages are bulk-inserted in one transaction
// (rows exactly as migrations/002_chat.sql defines them, seq 1..N per room) and rooms.last_seq /
// last_activity_at are updated. The result is cached under bench/.cache/ keyed by the migration
// files' hash and the sizes, so later runs only copy it.
import { Database } from "bun:sqlite";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRoom, createTenant, pMap } from "./api";
import type { Ctx } from "./ctx";
import { REPO, startProduct } from "./server";

export interface SeededDb {
  file: string;
  tenant_id: string;
  api_key: string;
  rooms: string[];
  /** Creator first; every user is a member of every room. */
  users: string[];
  per_room: number;
  messages: number;
  bytes: number;
  generation_ms: number;
}

function migrationsHash(): string {
  const dir = join(REPO, "migrations", "sqlite");
  const h = new Bun.CryptoHasher("sha256");
  for (const f of readdirSync(dir).sort()) h.update(f).update(readFileSync(join(dir, f)));
  return h.digest("hex").slice(0, 12);
}

/**
 * A cached product database with `rooms` group rooms (members: `users`) holding `perRoom` messages each,
 * `contentBytes` of content per message.
 */
export async function seededDb(ctx: Ctx, name: string, rooms: number, perRoom: number, contentBytes: number, userCount: number): Promise<SeededDb> {
  mkdirSync(ctx.cacheDir, { recursive: true });
  const key = `${name}-${rooms}x${perRoom}x${contentBytes}-${migrationsHash()}`;
  const file = join(ctx.cacheDir, `${key}.db`);
  const metaFile = join(ctx.cacheDir, `${key}.json`);
  if (existsSync(file) && existsSync(metaFile)) {
    const meta = JSON.parse(readFileSync(metaFile, "utf8")) as SeededDb;
    return { ...meta, file };
  }
  ctx.log(`    generating ${name} database (${rooms} rooms x ${perRoom} messages of ${contentBytes} B) into ${ctx.cacheDir} ...`);
  const t0 = performance.now();
  const dir = mkdtempSync(join(ctx.tmpRoot, `seed-${name}-`));
  const users = Array.from({ length: userCount }, (_, i) => `${name[0]}${i}`);
  const srv = await startProduct(ctx, { dataDir: dir });
  let tenant: { tenant_id: string; api_key: string };
  let roomIds: string[];
  try {
    tenant = await createTenant(srv.base, ctx.masterKey, `bench-${name}`);
    roomIds = await pMap(Array.from({ length: rooms }, (_, i) => i), 16, (i) => createRoom(srv.base, tenant.api_key, users[0]!, users, "group", `${name} ${i}`));
  } finally {
    await srv.stop();
  }
  const dbFile = join(dir, "chatapi.db");
  const db = new Database(dbFile);
  db.exec("PRAGMA journal_mode = DELETE");
  db.exec("PRAGMA synchronous = OFF");
  db.exec("PRAGMA cache_size = -262144");
  const insert = db.prepare(
    // change_seq = seq: the changes feed position of a message never changed since its creation (migration 010).
    `INSERT INTO messages (tenant_id, room_id, seq, message_id, sender_id, content, meta, client_msg_id, created_at, edited_at, deleted_at, change_seq)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, NULL, ?7, NULL, NULL, ?3)`,
  );
  const updRoom = db.prepare("UPDATE rooms SET last_seq = ?1, last_change = ?1, last_activity_at = ?2 WHERE tenant_id = ?3 AND room_id = ?4");
  const filler = "lorem ipsum dolor sit amet, consectetur adipiscing elit ".repeat(Math.ceil(contentBytes / 56) + 1);
  const total = rooms * perRoom;
  const base = Date.now() - total;
  let k = 0;
  db.transaction(() => {
    // Room by room in room_id order (UUIDv7 = creation order) so the primary key grows at the end.
    const sorted = [...roomIds].sort();
    for (const roomId of sorted) {
      let at = "";
      for (let seq = 1; seq <= perRoom; seq++) {
        at = new Date(base + k).toISOString();
        const head = `${k} `;
        insert.run(tenant.tenant_id, roomId, seq, Bun.randomUUIDv7(), users[1 + (k % (users.length - 1))]!, head + filler.slice(0, Math.max(1, contentBytes - head.length)), at);
        k++;
      }
      updRoom.run(perRoom, at, tenant.tenant_id, roomId);
    }
  })();
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  db.close();
  const bytes = statSync(dbFile).size;
  renameSync(dbFile, file);
  rmSync(dir, { recursive: true, force: true });
  const meta: SeededDb = { file, tenant_id: tenant.tenant_id, api_key: tenant.api_key, rooms: roomIds, users, per_room: perRoom, messages: total, bytes, generation_ms: performance.now() - t0 };
  writeFileSync(metaFile, JSON.stringify(meta));
  ctx.log(`    generated ${(bytes / 1024 / 1024).toFixed(0)} MB in ${(meta.generation_ms / 1000).toFixed(1)} s`);
  return meta;
}

/** A fresh DATA_DIR holding a copy of the seeded database as chatapi.db. */
export function copyToDataDir(ctx: Ctx, seeded: SeededDb, label: string): { dir: string; db: string } {
  const dir = mkdtempSync(join(ctx.tmpRoot, `${label}-`));
  const db = join(dir, "chatapi.db");
  copyFileSync(seeded.file, db);
  return { dir, db };
}
