// The search benchmark's data: one tenant with N messages of Zipf-distributed words over R rooms,
// bulk-inserted with the search index live (SQLite: FTS5 triggers in big transactions; PostgreSQL:
// the generated tsvector and its GIN index, 10,000 rows per INSERT ... SELECT FROM unnest). The
// tenant and rooms come from the public API. SQLite files are cached like lib/seed.ts does.
import { Database } from "bun:sqlite";
import { SQL } from "bun";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRoom, createTenant, pMap } from "./api";
import type { Ctx } from "./ctx";
import { benchDatabase, REPO, startProduct, type ServerHandle } from "./server";

/** A deterministic PRNG (mulberry32): the same data on every run and store. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "ta", "ve", "zo", "pa", "shi", "do", "fe", "gu", "ha", "ji", "ko", "lu", "ma", "no", "pi", "qu", "ri", "so", "tu", "wa", "xe", "yo", "be", "ce", "di"];

/** The vocabulary (rank order) and a Zipf(s=1) sampler over it. */
export function vocabulary(size = 5000): { words: string[]; sample: (r: () => number) => string } {
  const words: string[] = [];
  const seen = new Set<string>();
  const r = rng(7);
  while (words.length < size) {
    let w = "";
    const n = 2 + Math.floor(r() * 3);
    for (let i = 0; i < n; i++) w += SYLLABLES[Math.floor(r() * SYLLABLES.length)];
    // A few accented words: the index folds diacritics.
    if (words.length % 97 === 0) w = w.replace("e", "é");
    if (!seen.has(w)) {
      seen.add(w);
      words.push(w);
    }
  }
  const cdf: number[] = [];
  let sum = 0;
  for (let i = 1; i <= size; i++) cdf.push((sum += 1 / i));
  return {
    words,
    sample: (rand) => {
      const x = rand() * sum;
      let lo = 0;
      let hi = size - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cdf[mid]! < x) lo = mid + 1;
        else hi = mid;
      }
      return words[lo]!;
    },
  };
}

export interface SearchData {
  tenant_id: string;
  api_key: string;
  rooms: string[];
  /** s0 is in every room; s1..s19 each in about a tenth of them. */
  users: string[];
  messages: number;
  seed_ms: number;
}

function membersOf(i: number, users: string[]): string[] {
  const n = users.length - 1;
  return [users[1 + (i % n)]!, users[1 + ((i * 7 + 3) % n)]!];
}

/** Message k: its room (interleaved, so newest-first results span rooms), sender and content. */
function* messages(n: number, rooms: string[], users: string[]) {
  const v = vocabulary();
  const r = rng(42);
  const base = Date.now() - n - 60_000;
  const seqs = new Map<string, number>();
  for (let k = 0; k < n; k++) {
    const room = rooms[k % rooms.length]!;
    const seq = (seqs.get(room) ?? 0) + 1;
    seqs.set(room, seq);
    const words = 6 + Math.floor(r() * 9);
    const parts: string[] = [];
    for (let i = 0; i < words; i++) parts.push(v.sample(r));
    yield { k, room, seq, sender: membersOf(k % rooms.length, users)[0]!, content: parts.join(" "), at: new Date(base + k).toISOString() };
  }
}

async function tenantAndRooms(base: string, ctx: Ctx, roomCount: number) {
  const users = Array.from({ length: 20 }, (_, i) => `s${i}`);
  const tenant = await createTenant(base, ctx.masterKey, "bench-search");
  const rooms = await pMap(Array.from({ length: roomCount }, (_, i) => i), 16, (i) => createRoom(base, tenant.api_key, users[0]!, membersOf(i, users), "group", `search ${i}`));
  return { tenant, users, rooms };
}

function migrationsHash(): string {
  const dir = join(REPO, "migrations", "sqlite");
  const h = new Bun.CryptoHasher("sha256");
  for (const f of readdirSync(dir).sort()) h.update(f).update(readFileSync(join(dir, f)));
  return h.digest("hex").slice(0, 12);
}

/** SQLite: a fresh DATA_DIR holding a copy of the (cached) seeded database. */
export async function seedSqliteSearch(ctx: Ctx, n: number, roomCount: number): Promise<SearchData & { dir: string }> {
  mkdirSync(ctx.cacheDir, { recursive: true });
  const key = `search-${n}x${roomCount}-${migrationsHash()}`;
  const file = join(ctx.cacheDir, `${key}.db`);
  const metaFile = join(ctx.cacheDir, `${key}.json`);
  let meta: SearchData;
  if (existsSync(file) && existsSync(metaFile)) meta = JSON.parse(readFileSync(metaFile, "utf8"));
  else {
    ctx.log(`    seeding search database (${n} messages, ${roomCount} rooms) into ${ctx.cacheDir} ...`);
    const t0 = performance.now();
    const dir = mkdtempSync(join(ctx.tmpRoot, "seed-search-"));
    const srv = await startProduct(ctx, { dataDir: dir, env: { DATABASE_DSN: "" } });
    let made: Awaited<ReturnType<typeof tenantAndRooms>>;
    try {
      made = await tenantAndRooms(srv.base, ctx, roomCount);
    } finally {
      await srv.stop();
    }
    const dbFile = join(dir, "chatapi.db");
    const db = new Database(dbFile);
    db.exec("PRAGMA synchronous = OFF");
    db.exec("PRAGMA cache_size = -262144");
    const insert = db.prepare(
      // change_seq = seq: each seeded message is its room's change position (as migration 010 numbers existing rows).
      `INSERT INTO messages (tenant_id, room_id, seq, message_id, sender_id, content, meta, client_msg_id, created_at, edited_at, deleted_at, search_id, change_seq)
       VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, ?, NULL, NULL, ?, ?3)`,
    );
    const upd = db.prepare("UPDATE rooms SET last_seq = ?1, last_change = ?1, last_activity_at = ?2 WHERE tenant_id = ?3 AND room_id = ?4");
    const last = new Map<string, { seq: number; at: string }>();
    const start = ((db.query("SELECT coalesce(max(search_id), 0) AS m FROM messages").get() as { m: number }).m ?? 0) + 1;
    let batch: ReturnType<typeof messages> extends Generator<infer T> ? T[] : never = [];
    // The FTS5 triggers index each row in the same transaction, 50,000 rows per transaction.
    const flush = db.transaction((rows: typeof batch) => {
      for (const m of rows) {
        insert.run(made.tenant.tenant_id, m.room, m.seq, Bun.randomUUIDv7(), m.sender, m.content, m.at, start + m.k);
        last.set(m.room, { seq: m.seq, at: m.at });
      }
    });
    for (const m of messages(n, made.rooms, made.users)) {
      batch.push(m);
      if (batch.length === 50_000) {
        flush(batch);
        batch = [];
      }
    }
    flush(batch);
    db.transaction(() => {
      for (const [room, l] of last) upd.run(l.seq, l.at, made.tenant.tenant_id, room);
    })();
    db.exec("ANALYZE");
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    db.close();
    renameSync(dbFile, file);
    rmSync(dir, { recursive: true, force: true });
    meta = { tenant_id: made.tenant.tenant_id, api_key: made.tenant.api_key, rooms: made.rooms, users: made.users, messages: n, seed_ms: performance.now() - t0 };
    writeFileSync(metaFile, JSON.stringify(meta));
    ctx.log(`    seeded in ${(meta.seed_ms / 1000).toFixed(1)} s`);
  }
  const dir = mkdtempSync(join(ctx.tmpRoot, "search-"));
  copyFileSync(file, join(dir, "chatapi.db"));
  return { ...meta, dir };
}

/** PostgreSQL: a fresh database, seeded, with the product running on it (stop() drops it). */
export async function seedPostgresSearch(ctx: Ctx, n: number, roomCount: number): Promise<{ data: SearchData; srv: ServerHandle }> {
  const db = await benchDatabase(ctx);
  const t0 = performance.now();
  const dir = mkdtempSync(join(ctx.tmpRoot, "search-pg-"));
  const srv = await startProduct(ctx, { dataDir: dir, env: { DATABASE_DSN: db.url } });
  const stop = srv.stop;
  srv.stop = async () => {
    await stop();
    await db.drop();
  };
  try {
    ctx.log(`    seeding PostgreSQL search database (${n} messages, ${roomCount} rooms) ...`);
    const made = await tenantAndRooms(srv.base, ctx, roomCount);
    const sql = new SQL(db.url, { max: 1 });
    try {
      const last = new Map<string, { seq: number; at: string }>();
      let cols = { room: [] as string[], seq: [] as number[], id: [] as string[], sender: [] as string[], content: [] as string[], at: [] as string[] };
      const flush = async () => {
        if (!cols.room.length) return;
        // tsvector (generated column) and GIN entries are built by this statement, as for a send.
        await sql`INSERT INTO messages (tenant_id, room_id, seq, message_id, sender_id, content, created_at, change_seq)
          SELECT ${made.tenant.tenant_id}, r, s, m, u, c, t::timestamptz, s
          FROM unnest(${cols.room}::text[], ${cols.seq}::int[], ${cols.id}::text[], ${cols.sender}::text[], ${cols.content}::text[], ${cols.at}::text[]) AS x(r, s, m, u, c, t)`;
        cols = { room: [], seq: [], id: [], sender: [], content: [], at: [] };
      };
      for (const m of messages(n, made.rooms, made.users)) {
        cols.room.push(m.room);
        cols.seq.push(m.seq);
        cols.id.push(Bun.randomUUIDv7());
        cols.sender.push(m.sender);
        cols.content.push(m.content);
        cols.at.push(m.at);
        last.set(m.room, { seq: m.seq, at: m.at });
        if (cols.room.length === 10_000) await flush();
      }
      await flush();
      for (const [room, l] of last) await sql`UPDATE rooms SET last_seq = ${l.seq}, last_change = ${l.seq}, last_activity_at = ${l.at}::timestamptz WHERE tenant_id = ${made.tenant.tenant_id} AND room_id = ${room}`;
      await sql`VACUUM ANALYZE messages`;
    } finally {
      await sql.close();
    }
    const data: SearchData = { tenant_id: made.tenant.tenant_id, api_key: made.tenant.api_key, rooms: made.rooms, users: made.users, messages: n, seed_ms: performance.now() - t0 };
    ctx.log(`    seeded in ${(data.seed_ms / 1000).toFixed(1)} s`);
    return { data, srv };
  } catch (err) {
    await srv.stop();
    throw err;
  }
}
