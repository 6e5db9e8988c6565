// Raw baseline for the WebSocket scenarios (ws-rooms, ws-latency, fanout, idle, reconnect-storm):
// Bun.serve with `websocket`, one topic per room and per user, plain server.publish. A send over
// WS is not persisted (plain publish); a send over HTTP (used only to seed reconnect-storm) is one
// bun:sqlite transaction; the connect replay reads bun:sqlite. No auth, no validation, no presence.
// Run with `bun run` (not compiled).
//   bun run bench/baselines/ws.ts --port N --db FILE [--sync full|normal]
// Connect: /ws?u=USER&rooms=R1,R2[&after=SEQ]   (after: replay the first room's messages > SEQ)
import { Database } from "bun:sqlite";

function arg(name: string, def?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && process.argv[i + 1] !== undefined) return process.argv[i + 1]!;
  if (def === undefined) throw new Error(`missing --${name}`);
  return def;
}

const db = new Database(arg("db"), { create: true, strict: true });
db.exec("PRAGMA journal_mode = WAL");
db.exec(`PRAGMA synchronous = ${arg("sync", "full") === "full" ? "FULL" : "NORMAL"}`);
db.exec(`CREATE TABLE IF NOT EXISTS bench_rooms (room_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bench_messages (
  room_id TEXT NOT NULL, seq INTEGER NOT NULL, message_id TEXT NOT NULL, sender_id TEXT NOT NULL,
  content TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (room_id, seq)) WITHOUT ROWID;`);
const nextSeqDb = db.query<{ last_seq: number }, [string]>(
  "INSERT INTO bench_rooms (room_id, last_seq) VALUES (?1, 1) ON CONFLICT (room_id) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq",
);
const insert = db.query("INSERT INTO bench_messages (room_id, seq, message_id, sender_id, content, created_at) VALUES (?, ?, ?, ?, ?, ?)");
const after = db.query<any, [string, number]>("SELECT * FROM bench_messages WHERE room_id = ? AND seq > ? ORDER BY seq LIMIT 100");

interface Data {
  u: string;
  rooms: string[];
  after: number | null;
}

const seqs = new Map<string, number>();
const message = (roomId: string, seq: number, sender: string, content: string, createdAt = new Date().toISOString(), id = Bun.randomUUIDv7()) => ({
  message_id: id,
  room_id: roomId,
  seq,
  sender_id: sender,
  content,
  meta: null,
  client_msg_id: null,
  created_at: createdAt,
  edited_at: null,
  deleted_at: null,
});

const persist = db.transaction((roomId: string, sender: string, content: string) => {
  const seq = nextSeqDb.get(roomId)!.last_seq;
  const m = message(roomId, seq, sender, content);
  insert.run(roomId, seq, m.message_id, sender, content, m.created_at);
  return m;
});

let connCounter = 0;
const server = Bun.serve<Data>({
  hostname: "127.0.0.1",
  port: Number(arg("port")),
  async fetch(req, server) {
    const url = new URL(req.url);
    if (url.pathname === "/ws") {
      const a = url.searchParams.get("after");
      const data: Data = { u: url.searchParams.get("u") ?? "", rooms: (url.searchParams.get("rooms") ?? "").split(",").filter(Boolean), after: a === null ? null : Number(a) };
      return server.upgrade(req, { data }) ? undefined : new Response("upgrade failed", { status: 400 });
    }
    if (url.pathname === "/health") return Response.json({ status: "ok" });
    const m = /^\/rooms\/([^/]+)\/messages$/.exec(url.pathname);
    if (m && req.method === "POST") {
      const body = (await req.json()) as { content: string };
      const msg = persist(m[1]!, req.headers.get("x-user-id") ?? "", body.content);
      server.publish(`r:${msg.room_id}`, JSON.stringify({ type: "message", ...msg }));
      return Response.json(msg, { status: 201 });
    }
    return new Response("not found", { status: 404 });
  },
  websocket: {
    maxPayloadLength: 64 * 1024,
    perMessageDeflate: false,
    backpressureLimit: 2 * 1048576 + 64 * 1024,
    closeOnBackpressureLimit: false,
    idleTimeout: 0,
    sendPings: false,
    publishToSelf: true,
    open(ws) {
      const d = ws.data;
      ws.send(JSON.stringify({ type: "connected", user_id: d.u, connection_id: `c_${++connCounter}`, heartbeat_s: 30 }));
      ws.subscribe(`u:${d.u}`);
      for (const r of d.rooms) ws.subscribe(`r:${r}`);
      let n = 0;
      if (d.after !== null && d.rooms[0]) {
        for (const row of after.all(d.rooms[0], d.after)) {
          ws.send(JSON.stringify({ type: "message", ...message(row.room_id, row.seq, row.sender_id, row.content, row.created_at, row.message_id) }));
          n++;
        }
      }
      ws.send(JSON.stringify({ type: "sync.complete", rooms: n > 0 ? 1 : 0 }));
    },
    message(ws, raw) {
      const f = JSON.parse(String(raw)) as { type: string; id?: string; data?: { room_id: string; content: string } };
      if (f.type === "send_message" && f.data) {
        const roomId = f.data.room_id;
        const seq = (seqs.get(roomId) ?? 0) + 1;
        seqs.set(roomId, seq);
        const msg = message(roomId, seq, ws.data.u, f.data.content);
        server.publish(`r:${roomId}`, JSON.stringify({ type: "message", ...msg }));
        if (f.id !== undefined) ws.send(JSON.stringify({ type: "reply", id: f.id, data: msg }));
      } else if (f.id !== undefined) ws.send(JSON.stringify({ type: "reply", id: f.id, data: {} }));
    },
  },
});

process.on("SIGTERM", () => {
  server.stop(true);
  db.close();
  process.exit(0);
});
