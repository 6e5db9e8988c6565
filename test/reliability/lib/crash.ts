// Crash safety: concurrent REST and WebSocket senders against the compiled binary, SIGKILLed at random
// moments and restarted on the same DATA_DIR. Unacknowledged sends are retried with the same
// client_msg_id. Afterwards: every acknowledged message is present with its seq and content, seqs are
// gapless, no client_msg_id produced two rows, every message.new webhook for the offline recipients
// arrived (at-least-once, deduplicated by event_id), and PRAGMA integrity_check passes.
import { integrityCheck } from "../../support/faults";
import { openStoreAt } from "../../support/store";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TEST_MASTER_KEY } from "../../helpers";
import { BinaryProcess } from "./binary";
import { Prng } from "./prng";
import { WebhookSink } from "./webhook-sink";

export interface CrashOptions {
  seed: number;
  kills: number;
  restSenders: number;
  wsSenders: number;
  rooms: number;
  /** Each life of the server lasts a random time in this range before the SIGKILL. */
  lifeMs: [number, number];
  /** Pause of each sender between sends (keeps the short variant's webhook backlog small). */
  paceMs?: number;
  log?: (line: string) => void;
}

export interface CrashFigures {
  kills: number;
  sent: number;
  acked: number;
  /** Acknowledged messages verified present with the same seq, id and content. */
  checked: number;
  /** Acknowledged messages missing or changed after the crashes (must be 0). */
  lost: number;
  /** Sends retried with the same client_msg_id after a restart (answered 200 or 201). */
  retried: number;
  duplicates: number;
  seqGaps: number;
  webhooksExpected: number;
  webhooksMissing: number;
  webhookRepeats: number;
  integrity: string;
  problems: string[];
}

interface Send {
  cmid: string;
  room: string;
  sender: string;
  content: string;
  acked?: { seq: number; message_id: string };
  attempts: number;
}

const OFFLINE = ["off-0", "off-1"];

/** A gate the senders wait on while the server is down. */
class Life {
  url = "";
  private waiters: (() => void)[] = [];
  up = false;
  generation = 0;
  setUp(url: string): void {
    this.url = url;
    this.up = true;
    this.generation++;
    for (const w of this.waiters.splice(0)) w();
  }
  setDown(): void {
    this.up = false;
  }
  async waitUp(): Promise<void> {
    if (this.up) return;
    await new Promise<void>((r) => this.waiters.push(r));
  }
}

async function api(url: string, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url + path, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Runs the scenario; never throws for product failures (they are counted in the figures). */
export async function runCrashScenario(o: CrashOptions): Promise<CrashFigures> {
  const log = o.log ?? (() => {});
  const rnd = new Prng(o.seed);
  const dataDir = mkdtempSync(join(tmpdir(), "chatapi-crash-"));
  const sink = new WebhookSink();
  const figures: CrashFigures = { kills: 0, sent: 0, acked: 0, checked: 0, lost: 0, retried: 0, duplicates: 0, seqGaps: 0, webhooksExpected: 0, webhooksMissing: 0, webhookRepeats: 0, integrity: "not run", problems: [] };
  const problem = (p: string) => {
    if (figures.problems.length < 50) figures.problems.push(p);
  };
  const env = { DEFAULT_RATE_LIMIT: "1000000", WORKER_INTERVAL: "200ms", RETRY_INTERVAL: "100ms", RETRY_MAX_INTERVAL: "500ms", RETRY_MAX_ATTEMPTS: "100", SHUTDOWN_DRAIN_TIMEOUT: "2s" };
  let proc = await BinaryProcess.start(dataDir, env);
  const life = new Life();
  life.setUp(proc.url);
  const sends = new Map<string, Send>();
  try {
    const master = { "x-master-key": TEST_MASTER_KEY };
    const t = await api(life.url, "POST", "/admin/tenants", master, { name: "crash", config: { webhook_url: sink.url(), rate_limit: 1_000_000, user_message_rate: 1_000_000 } });
    if (t.status !== 201) throw new Error(`create tenant: ${t.status} ${JSON.stringify(t.body)}`);
    const key: string = t.body.api_key;
    const restUsers = Array.from({ length: o.restSenders }, (_, i) => `rest-${i}`);
    const wsUsers = Array.from({ length: o.wsSenders }, (_, i) => `ws-${i}`);
    const rooms: string[] = [];
    for (let i = 0; i < o.rooms; i++) {
      const r = await api(life.url, "POST", "/rooms", { "x-api-key": key, "x-user-id": restUsers[0]! }, { type: "group", name: `crash-${i}`, members: [...restUsers, ...wsUsers, ...OFFLINE].slice(1) });
      if (r.status !== 201) throw new Error(`create room: ${r.status} ${JSON.stringify(r.body)}`);
      rooms.push(r.body.room_id);
    }
    let running = true;
    let counter = 0;
    const newSend = (sender: string, r: Prng): Send => {
      const cmid = `${sender}.${(++counter).toString(36)}.${r.word(4)}`;
      const s: Send = { cmid, room: r.pick(rooms), sender, content: `crash ${cmid} ${r.bool(0.2) ? "héllo wörld ✓ " : ""}${r.word(r.int(1, 40))}`, attempts: 0 };
      sends.set(cmid, s);
      figures.sent++;
      return s;
    };
    const record = (s: Send, status: number, msg: any) => {
      if (status !== 200 && status !== 201) return problem(`send ${s.cmid}: unexpected ${status} ${JSON.stringify(msg).slice(0, 200)}`);
      if (msg.content !== s.content || msg.client_msg_id !== s.cmid || msg.room_id !== s.room) problem(`send ${s.cmid}: answer does not match the request: ${JSON.stringify(msg).slice(0, 200)}`);
      if (s.acked) {
        if (s.acked.seq !== msg.seq || s.acked.message_id !== msg.message_id) problem(`send ${s.cmid}: repeat answered seq ${msg.seq}/${msg.message_id}, first ${s.acked.seq}/${s.acked.message_id}`);
        return;
      }
      s.acked = { seq: msg.seq, message_id: msg.message_id };
      figures.acked++;
    };

    const restSender = async (user: string, r: Prng) => {
      const retry: Send[] = [];
      while (running) {
        await life.waitUp();
        const s = retry.shift() ?? newSend(user, r);
        if (s.attempts++ > 0) figures.retried++;
        try {
          const res = await api(life.url, "POST", `/rooms/${s.room}/messages`, { "x-api-key": key, "x-user-id": user }, { content: s.content, client_msg_id: s.cmid });
          record(s, res.status, res.body);
        } catch {
          retry.push(s);
          await Bun.sleep(20);
        }
        if (o.paceMs) await Bun.sleep(o.paceMs);
      }
    };

    const wsSender = async (user: string, r: Prng) => {
      const retry: Send[] = [];
      while (running) {
        await life.waitUp();
        const inflight = new Map<string, Send>();
        const ws = new WebSocket(life.url.replace(/^http/, "ws") + "/ws", { headers: { "x-api-key": key, "x-user-id": user } } as any);
        await new Promise<void>((resolve) => {
          let open = false;
          const pump = () => {
            while (running && open && inflight.size < 8) {
              const s = retry.shift() ?? newSend(user, r);
              if (s.attempts++ > 0) figures.retried++;
              inflight.set(s.cmid, s);
              ws.send(JSON.stringify({ type: "send_message", id: s.cmid, data: { room_id: s.room, content: s.content, client_msg_id: s.cmid } }));
            }
            if (!running && inflight.size === 0) ws.close();
          };
          ws.addEventListener("message", (e) => {
            const f = JSON.parse(String(e.data));
            if (f.type === "sync.complete") {
              open = true;
              pump();
            } else if ((f.type === "reply" || f.type === "error") && inflight.has(f.id)) {
              const s = inflight.get(f.id)!;
              inflight.delete(f.id);
              if (f.type === "reply") record(s, 201, f.data);
              else problem(`ws send ${s.cmid}: error frame ${JSON.stringify(f).slice(0, 200)}`);
              if (o.paceMs) setTimeout(pump, o.paceMs);
              else pump();
            }
          });
          ws.addEventListener("close", () => {
            for (const s of inflight.values()) retry.push(s);
            inflight.clear();
            resolve();
          });
          ws.addEventListener("error", () => {});
        });
        if (running) await Bun.sleep(20);
      }
      // Unanswered WS sends are retried below over REST with the same client_msg_id.
    };

    // REST senders keep an idle socket open (they are online members), so the webhook volume is
    // mostly the OFFLINE users' and drains in reasonable time; during restarts they miss some too.
    const openSockets = new Set<WebSocket>();
    const listener = async (user: string) => {
      while (running) {
        await life.waitUp();
        const ws = new WebSocket(life.url.replace(/^http/, "ws") + "/ws", { headers: { "x-api-key": key, "x-user-id": user } } as any);
        openSockets.add(ws);
        await new Promise<void>((resolve) => {
          ws.addEventListener("close", () => resolve());
          ws.addEventListener("error", () => {});
        });
        openSockets.delete(ws);
        if (running) await Bun.sleep(20);
      }
    };
    const listeners = restUsers.map((u) => listener(u));
    const senders = [...restUsers.map((u, i) => restSender(u, rnd.fork(i))), ...wsUsers.map((u, i) => wsSender(u, rnd.fork(100 + i)))];
    for (let k = 0; k < o.kills; k++) {
      await Bun.sleep(rnd.int(o.lifeMs[0], o.lifeMs[1]));
      life.setDown();
      await proc.kill();
      figures.kills++;
      proc = await BinaryProcess.start(dataDir, env);
      life.setUp(proc.url);
      log(`kill ${k + 1}/${o.kills}: sent ${figures.sent}, acked ${figures.acked}`);
    }
    await Bun.sleep(rnd.int(o.lifeMs[0], o.lifeMs[1]));
    running = false;
    await Promise.all(senders);
    for (const ws of openSockets) ws.close();
    await Promise.all(listeners);

    // Every send not acknowledged yet is retried with the same client_msg_id until answered.
    const pending = [...sends.values()].filter((s) => !s.acked);
    await Promise.all(
      pending.map(async (s) => {
        figures.retried++;
        for (let i = 0; i < 5 && !s.acked; i++) {
          try {
            const res = await api(life.url, "POST", `/rooms/${s.room}/messages`, { "x-api-key": key, "x-user-id": s.sender }, { content: s.content, client_msg_id: s.cmid });
            record(s, res.status, res.body);
            if (res.status >= 400) break;
          } catch (err) {
            if (i === 4) problem(`final retry ${s.cmid}: ${String(err)}`);
          }
        }
      }),
    );

    // Read every room back over REST.
    const stored = new Map<string, any>();
    const bodies = new Set<string>();
    for (const room of rooms) {
      let after = 0;
      let expectSeq = 1;
      for (;;) {
        const h = await api(life.url, "GET", `/rooms/${room}/messages?after_seq=${after}&limit=200`, { "x-api-key": key, "x-user-id": restUsers[0]! });
        if (h.status !== 200) throw new Error(`history: ${h.status}`);
        for (const m of h.body.messages) {
          if (m.seq !== expectSeq) {
            figures.seqGaps++;
            problem(`room ${room}: seq ${m.seq} where ${expectSeq} was expected`);
          }
          expectSeq = m.seq + 1;
          if (m.client_msg_id !== null) {
            const k = `${m.sender_id}|${m.client_msg_id}`;
            if (stored.has(k) || bodies.has(m.content)) {
              figures.duplicates++;
              problem(`duplicate row for ${k}`);
            }
            stored.set(k, m);
            bodies.add(m.content);
          }
          after = m.seq;
        }
        if (!h.body.has_more) break;
      }
    }
    for (const s of sends.values()) {
      if (!s.acked) continue;
      const m = stored.get(`${s.sender}|${s.cmid}`);
      if (!m || m.seq !== s.acked.seq || m.message_id !== s.acked.message_id || m.content !== s.content || m.room_id !== s.room) {
        figures.lost++;
        problem(`acknowledged ${s.cmid} (seq ${s.acked.seq}) ${m ? `changed: ${JSON.stringify(m).slice(0, 200)}` : "missing"}`);
      } else figures.checked++;
    }

    // Every stored message has a message.new for each offline recipient (at-least-once; by event_id).
    const expected = new Set<string>();
    for (const m of stored.values()) for (const u of OFFLINE) expected.add(`${m.message_id}|${u}`);
    figures.webhooksExpected = expected.size;
    // At least 200 deliveries/s, plus a minute: a long run can leave a large backlog to drain.
    const waitMs = Math.min(600_000, 60_000 + expected.size * 5);
    const waitStart = performance.now();
    const deadline = waitStart + waitMs;
    let missing = expected.size;
    while (performance.now() < deadline) {
      const got = sink.messageKeys();
      missing = 0;
      for (const k of expected) if (!got.has(k)) missing++;
      if (missing === 0) break;
      await Bun.sleep(100);
    }
    log(`webhooks: ${expected.size - missing}/${expected.size} after ${Math.round(performance.now() - waitStart)} ms`);
    figures.webhooksMissing = missing;
    // Then the rest of the outbox (deliveries to members who were offline during a restart).
    while (performance.now() < deadline) {
      const m = await fetch(`${life.url}/metrics`).then((r) => r.text());
      if (/^chatapi_outbox_depth 0$/m.test(m)) break;
      await Bun.sleep(200);
    }
    figures.webhookRepeats = sink.repeats;
    if (missing) problem(`${missing} of ${expected.size} message.new webhooks never arrived`);

    const code = await proc.stop();
    if (code !== 0) problem(`graceful stop exited ${code}`);
    const store = await openStoreAt(dataDir);
    try {
      figures.integrity = integrityCheck(store);
      // Per room: seqs 1..n without holes, and last_seq = n (through the store's dump).
      const dump = await store.maintenance.dump();
      const seqs = new Map<string, number[]>();
      for (const m of dump.get("messages")?.values() ?? []) {
        const list = seqs.get(m.room_id as string) ?? [];
        list.push(Number(m.seq));
        seqs.set(m.room_id as string, list);
      }
      const lastSeq = new Map([...(dump.get("rooms")?.values() ?? [])].map((r) => [r.room_id as string, Number(r.last_seq)]));
      for (const [roomId, list] of seqs) {
        const n = list.length;
        const lo = Math.min(...list);
        const hi = Math.max(...list);
        if (lo !== 1 || hi !== n || new Set(list).size !== n || lastSeq.get(roomId) !== hi) problem(`database: room ${roomId} has ${n} rows, seq ${lo}..${hi}, last_seq ${lastSeq.get(roomId)}`);
      }
      const pendingRows = (await store.deliveries.list({}, 10_000_000)).filter((r) => r.status !== "delivered").length;
      if (pendingRows) problem(`database: ${pendingRows} deliveries not delivered`);
    } finally {
      await store.close();
    }
    if (figures.integrity !== "ok") problem(`integrity_check: ${figures.integrity}`);
    const errors = proc.errorLines();
    if (errors.length) problem(`error log lines in the last life: ${errors.slice(0, 3).join("\n")}`);
    return figures;
  } finally {
    if (proc.proc.exitCode === null) await proc.kill();
    sink.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
