// Raw baseline for the REST scenarios (rest-send, history, startup): Elysia + TypeBox + bun:sqlite
// doing the bare minimum of the same work. No auth, no rate limit, no validation beyond the schema,
// one transaction per write (no group commit), no response schema. Run with `bun run` (not compiled).
//   bun run bench/baselines/rest.ts --port N --db FILE [--sync full|normal] [--tenant ID]
// --tenant: history reads the product's `messages` table of that tenant (a copy of the seeded
// product database); without it, history reads the baseline's own table.
import { Database } from "bun:sqlite";
import { Elysia, t } from "elysia";

function arg(name: string, def?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && process.argv[i + 1] !== undefined) return process.argv[i + 1]!;
  if (def === undefined) throw new Error(`missing --${name}`);
  return def;
}

const port = Number(arg("port"));
const db = new Database(arg("db"), { create: true, strict: true });
db.exec("PRAGMA journal_mode = WAL");
db.exec(`PRAGMA synchronous = ${arg("sync", "full") === "full" ? "FULL" : "NORMAL"}`);
db.exec("PRAGMA busy_timeout = 5000");
db.exec("PRAGMA cache_size = -65536");
db.exec("PRAGMA mmap_size = 268435456");
db.exec(`CREATE TABLE IF NOT EXISTS bench_rooms (room_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bench_messages (
  room_id TEXT NOT NULL, seq INTEGER NOT NULL, message_id TEXT NOT NULL, sender_id TEXT NOT NULL,
  content TEXT NOT NULL, meta TEXT, client_msg_id TEXT, created_at TEXT NOT NULL,
  PRIMARY KEY (room_id, seq)) WITHOUT ROWID;`);
const tenant = process.argv.includes("--tenant") ? arg("tenant") : null;

const nextSeq = db.query<{ last_seq: number }, [string]>(
  "INSERT INTO bench_rooms (room_id, last_seq) VALUES (?1, 1) ON CONFLICT (room_id) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq",
);
const insert = db.query("INSERT INTO bench_messages (room_id, seq, message_id, sender_id, content, meta, client_msg_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
const latest = tenant
  ? db.query<any, [string, string, number]>("SELECT * FROM messages WHERE tenant_id = ? AND room_id = ? ORDER BY seq DESC LIMIT ?")
  : null;
const latestOwn = db.query<any, [string, number]>("SELECT * FROM bench_messages WHERE room_id = ? ORDER BY seq DESC LIMIT ?");

const send = db.transaction((roomId: string, sender: string, content: string, meta: unknown, clientMsgId: string | null) => {
  const seq = nextSeq.get(roomId)!.last_seq;
  const m = {
    message_id: Bun.randomUUIDv7(),
    room_id: roomId,
    seq,
    sender_id: sender,
    content,
    meta: meta === undefined ? null : meta,
    client_msg_id: clientMsgId,
    created_at: new Date().toISOString(),
    edited_at: null,
    deleted_at: null,
  };
  insert.run(roomId, seq, m.message_id, sender, content, meta === undefined ? null : JSON.stringify(meta), clientMsgId, m.created_at);
  return m;
});

const toMessage = (r: any) => ({
  message_id: r.message_id,
  room_id: r.room_id,
  seq: r.seq,
  sender_id: r.sender_id,
  content: r.content,
  meta: r.meta === null ? null : JSON.parse(r.meta),
  client_msg_id: r.client_msg_id,
  created_at: r.created_at,
  edited_at: r.edited_at ?? null,
  deleted_at: r.deleted_at ?? null,
});

new Elysia()
  .get("/health", () => ({ status: "ok" }))
  .post(
    "/rooms/:room_id/messages",
    ({ params, body, headers, set }) => {
      set.status = 201;
      return send(params.room_id, headers["x-user-id"] ?? "anonymous", body.content, body.meta, body.client_msg_id ?? null);
    },
    {
      params: t.Object({ room_id: t.String({ minLength: 1, maxLength: 64 }) }),
      body: t.Object({ content: t.String({ minLength: 1, maxLength: 4000 }), meta: t.Optional(t.Any()), client_msg_id: t.Optional(t.String({ maxLength: 64 })) }),
    },
  )
  .get(
    "/rooms/:room_id/messages",
    ({ params, query }) => {
      const limit = query.limit ?? 50;
      const rows = latest ? latest.all(tenant!, params.room_id, limit + 1) : latestOwn.all(params.room_id, limit + 1);
      const has_more = rows.length > limit;
      if (has_more) rows.pop();
      rows.reverse();
      return { messages: rows.map(toMessage), has_more };
    },
    {
      params: t.Object({ room_id: t.String({ minLength: 1, maxLength: 64 }) }),
      query: t.Object({ limit: t.Optional(t.Integer({ minimum: 1, maximum: 200 })) }),
    },
  )
  .listen({ hostname: "127.0.0.1", port });

process.on("SIGTERM", () => {
  db.close();
  process.exit(0);
});
