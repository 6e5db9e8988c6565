// The load generator: a separate Bun process the harness spawns (bench/run.ts). It reads its
// configuration from the JSON file named by argv[2], drives one scenario against one server (the
// product or a baseline), and reports JSON lines on stdout:
//   {"ev":"ready",...}  {"ev":"run_start","run":i}  {"ev":"run_end","run":i,...stats}  {"ev":"done",...}
// run_start/run_end bracket each measured run so the harness can sample the server's /proc at the
// same moments. Every loop is bounded in count and in time; a global deadline exits with code 3.
import { readFileSync } from "node:fs";
import { Hist, nowMs } from "./lib/hist";
import { buildRequest, HttpConn } from "./lib/rawhttp";
import { frameType, isMessageFrame, RawWs, readContentTs, readId, readSeq, type WsConnectOpts, type WsHandlers } from "./lib/rawws";

export interface Target {
  kind: "product" | "baseline";
  host: string;
  port: number;
  apiKey: string;
}

interface Base {
  target: Target;
  runs: number;
  runSeconds: number;
  warmupSeconds: number;
  deadlineSeconds: number;
}

export interface RestSendCfg extends Base {
  mode: "rest-send";
  clients: number;
  rooms: string[];
  users: string[];
  pad: number;
}

export interface HistoryCfg extends Base {
  mode: "history";
  clients: number;
  rooms: string[];
  users: string[];
  limit: number;
  perRoom: number;
  verifyEvery: number;
  /** Signed user tokens (one per user, same order): sent as `Authorization: Bearer` instead of the key. */
  bearerTokens?: string[];
}

export interface WsCfg extends Base {
  mode: "ws";
  /** Each member gets one socket. */
  rooms: { id: string; members: string[] }[];
  pattern: { kind: "closed"; inflightPerRoom: number } | { kind: "rate"; perSecond: number } | { kind: "window"; window: number };
  pad: number;
  connectConcurrency: number;
  /** Record the latency of 1 in N deliveries (fan-out makes millions). */
  latencyEvery: number;
  drainSeconds: number;
}

export interface IdleCfg extends Base {
  mode: "idle";
  sockets: { user: string; rooms: string[] }[];
  localAddress: string | null;
  connectConcurrency: number;
  /** Give up on sockets not ready after this long (they count as failed). */
  connectTimeoutSeconds: number;
}

export interface ReconnectCfg extends Base {
  mode: "reconnect";
  /** Ten client users per room plus a bot that sends while they are away. */
  rooms: { id: string; members: string[]; bot: string }[];
  perRoom: number;
  connectConcurrency: number;
  /** 0 = every socket reconnects at once. */
  reconnectConcurrency: number;
  httpClients: number;
}

type Cfg = RestSendCfg | HistoryCfg | WsCfg | IdleCfg | ReconnectCfg;

function emit(ev: Record<string, unknown>): void {
  // Lines are small; a sync write keeps them ordered and flushed before exit.
  process.stdout.write(`${JSON.stringify(ev)}\n`);
}

function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

const sleep = (ms: number) => Bun.sleep(ms);

function pad(n: number): string {
  return "x".repeat(n);
}

// ---- REST ----------------------------------------------------------------------------------------

async function openConns(t: Target, n: number): Promise<HttpConn[]> {
  const conns = Array.from({ length: n }, () => new HttpConn(t.host, t.port));
  await Promise.all(conns.map((c) => c.open()));
  return conns;
}

interface PhaseStats {
  ok: number;
  errors: number;
  statuses: Record<string, number>;
  hist: Hist;
  seconds: number;
  loadgenCpuPct: number;
  errorSamples: string[];
}

/**
 * A closed loop: each connection sends its next request when the previous answer arrived, until
 * `seconds` have passed (or maxCount requests). Returns when the last in-flight answer is in.
 */
async function httpPhase(conns: HttpConn[], seconds: number, maxCount: number, next: (ci: number, n: number) => { raw: Buffer; wantBody: boolean }, check: (status: number, body: Buffer | null) => string | null): Promise<PhaseStats> {
  const hist = new Hist();
  const statuses: Record<string, number> = {};
  const errorSamples: string[] = [];
  let ok = 0;
  let errors = 0;
  let issued = 0;
  const cpu0 = cpuNow();
  const t0 = performance.now();
  const stopAt = t0 + seconds * 1000;
  let lastDone = t0;
  await Promise.all(
    conns.map(async (c, ci) => {
      while (performance.now() < stopAt && issued < maxCount && !c.closed) {
        const n = issued++;
        const { raw, wantBody } = next(ci, n);
        const sent = performance.now();
        let status = 0;
        try {
          const r = await c.request(raw, wantBody);
          status = r.status;
          const end = performance.now();
          lastDone = end;
          hist.record(end - sent);
          const problem = check(status, r.body);
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (problem === null) ok++;
          else {
            errors++;
            if (errorSamples.length < 5) errorSamples.push(problem);
          }
        } catch (e) {
          errors++;
          if (errorSamples.length < 5) errorSamples.push(String(e));
          break;
        }
      }
    }),
  );
  const secs = (lastDone - t0) / 1000;
  return { ok, errors, statuses, hist, seconds: secs, loadgenCpuPct: ((cpuNow() - cpu0) / Math.max(secs, 1e-6)) * 100, errorSamples };
}

function phaseJson(p: PhaseStats, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ok: p.ok, errors: p.errors, statuses: p.statuses, seconds: p.seconds, throughput: p.ok / Math.max(p.seconds, 1e-9), hist: p.hist.toJSON(), loadgen_cpu_pct: p.loadgenCpuPct, error_samples: p.errorSamples, ...extra };
}

async function restSend(cfg: RestSendCfg): Promise<void> {
  const t = cfg.target;
  const conns = await openConns(t, cfg.clients);
  const host = `${t.host}:${t.port}`;
  const padding = pad(cfg.pad);
  const headersFor = cfg.users.map((u) => ({ "X-API-Key": t.apiKey, "X-User-Id": u }));
  const next = (ci: number) => {
    const room = cfg.rooms[(Math.random() * cfg.rooms.length) | 0]!;
    const body = `{"content":"${nowMs().toFixed(3)} ${padding}"}`;
    return { raw: buildRequest("POST", host, `/rooms/${room}/messages`, headersFor[ci % headersFor.length]!, body), wantBody: false };
  };
  const check = (s: number) => (s === 201 ? null : `status ${s}`);
  emit({ ev: "ready", connections: conns.length });
  let totalOk = 0;
  let totalErrors = 0;
  const w = await httpPhase(conns, cfg.warmupSeconds, 10_000_000, next, check);
  totalOk += w.ok;
  totalErrors += w.errors;
  emit({ ev: "warmup_end", ...phaseJson(w) });
  for (let run = 0; run < cfg.runs; run++) {
    emit({ ev: "run_start", run });
    const p = await httpPhase(conns, cfg.runSeconds, 10_000_000, next, check);
    emit({ ev: "run_end", run, ...phaseJson(p) });
    totalOk += p.ok;
    totalErrors += p.errors;
  }
  for (const c of conns) c.close();
  emit({ ev: "done", total_ok: totalOk, total_errors: totalErrors });
}

async function historyMode(cfg: HistoryCfg): Promise<void> {
  const t = cfg.target;
  const conns = await openConns(t, cfg.clients);
  const host = `${t.host}:${t.port}`;
  const headersFor: Record<string, string>[] = cfg.bearerTokens
    ? cfg.bearerTokens.map((token) => ({ Authorization: `Bearer ${token}` }))
    : cfg.users.map((u) => ({ "X-API-Key": t.apiKey, "X-User-Id": u }));
  const expect = Math.min(cfg.limit, cfg.perRoom);
  const next = (ci: number, n: number) => {
    const room = cfg.rooms[(Math.random() * cfg.rooms.length) | 0]!;
    return { raw: buildRequest("GET", host, `/rooms/${room}/messages?limit=${cfg.limit}`, headersFor[ci % headersFor.length]!), wantBody: n % cfg.verifyEvery === 0 };
  };
  const check = (s: number, body: Buffer | null): string | null => {
    if (s !== 200) return `status ${s}`;
    if (!body) return null;
    try {
      const j = JSON.parse(body.toString()) as { messages: { seq: number }[] };
      const m = j.messages;
      if (m.length !== expect) return `expected ${expect} messages, got ${m.length}`;
      for (let i = 1; i < m.length; i++) if (m[i]!.seq !== m[i - 1]!.seq + 1) return "history not ascending/gapless";
      if (m[m.length - 1]!.seq !== cfg.perRoom) return `latest seq ${m[m.length - 1]!.seq} != ${cfg.perRoom}`;
      return null;
    } catch (e) {
      return `bad JSON: ${String(e)}`;
    }
  };
  emit({ ev: "ready", connections: conns.length });
  const w = await httpPhase(conns, cfg.warmupSeconds, 10_000_000, next, check);
  emit({ ev: "warmup_end", ...phaseJson(w) });
  for (let run = 0; run < cfg.runs; run++) {
    emit({ ev: "run_start", run });
    const p = await httpPhase(conns, cfg.runSeconds, 10_000_000, next, check);
    emit({ ev: "run_end", run, ...phaseJson(p) });
  }
  for (const c of conns) c.close();
  emit({ ev: "done" });
}

// ---- WebSocket -----------------------------------------------------------------------------------

function wsOpts(t: Target, user: string, rooms: string[], after: number | null, localAddress: string | null = null): WsConnectOpts {
  const headers = { "X-API-Key": t.apiKey, "X-User-Id": user };
  const la = localAddress ?? undefined;
  if (t.kind === "product") return { host: t.host, port: t.port, path: "/ws", headers, localAddress: la };
  const q = `u=${encodeURIComponent(user)}&rooms=${rooms.map(encodeURIComponent).join(",")}${after !== null ? `&after=${after}` : ""}`;
  return { host: t.host, port: t.port, path: `/ws?${q}`, headers, localAddress: la };
}

/** Per-socket state. */
interface Cli {
  idx: number;
  room: number;
  user: string;
  lastSeq: number;
  ready: boolean;
  readyAt: number;
  closed: boolean;
  closeCode: number;
  expectClose: boolean;
  recv: number;
  dup: number;
  gap: number;
  outOfOrder: number;
  onReady: ((c: Cli) => void) | null;
}

function newCli(idx: number, room: number, user: string): Cli {
  return { idx, room, user, lastSeq: 0, ready: false, readyAt: 0, closed: false, closeCode: 0, expectClose: false, recv: 0, dup: 0, gap: 0, outOfOrder: 0, onReady: null };
}

/** Opens sockets with at most `concurrency` handshakes in flight; resolves when each is ready (sync.complete) or failed. */
async function connectMany(n: number, make: (i: number, done: (ok: boolean, why?: string) => void) => void, concurrency: number, timeoutMs: number): Promise<{ ok: number; failed: number; errors: string[]; ms: number }> {
  const t0 = performance.now();
  let next = 0;
  let ok = 0;
  let failed = 0;
  const errors: string[] = [];
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      failed += n - ok - failed;
      errors.push(`connect timeout after ${timeoutMs} ms`);
      resolve();
    }, timeoutMs);
    const launch = () => {
      while (next < n && next - ok - failed < concurrency) {
        const i = next++;
        let settled = false;
        make(i, (good, why) => {
          if (settled) return;
          settled = true;
          if (good) ok++;
          else {
            failed++;
            if (errors.length < 5 && why) errors.push(why);
          }
          if (ok + failed >= n) {
            clearTimeout(timer);
            resolve();
          } else launch();
        });
      }
    };
    if (n === 0) {
      clearTimeout(timer);
      resolve();
    } else launch();
  });
  return { ok, failed, errors, ms: performance.now() - t0 };
}

async function wsMode(cfg: WsCfg): Promise<void> {
  const t = cfg.target;
  const padding = pad(cfg.pad);
  interface RoomState {
    id: string;
    clis: Cli[];
    socks: RawWs[];
    nextSender: number;
    maxSeq: number;
    inflight: number;
  }
  const rooms: RoomState[] = cfg.rooms.map((r) => ({ id: r.id, clis: [], socks: [], nextSender: 0, maxSeq: 0, inflight: 0 }));
  const all: { cli: Cli; ws: RawWs | null }[] = [];
  cfg.rooms.forEach((r, ri) => r.members.forEach((u) => all.push({ cli: newCli(all.length, ri, u), ws: null })));

  // Counters of the current phase (reset per phase).
  let hist = new Hist();
  let deliveries = 0;
  let lastDelivery = 0;
  let replies = 0;
  let lastReply = 0;
  let errors = 0;
  const errorSamples: string[] = [];
  let syncGaps = 0;
  let unexpectedCloses = 0;
  let latencyTick = 0;
  const pending = new Map<number, { room: number; sentAt: number }>();
  let idCounter = 0;
  // window mode: deliveries still expected per seq of room 0
  const remaining = new Map<number, number>();
  const replied = new Set<number>();
  let sending = false;

  // Senders rotate over the room's members, except in window mode (fan-out): one member sends.
  const rotate = cfg.pattern.kind !== "window";
  const sendFrom = (r: RoomState): void => {
    const n = r.socks.length;
    for (let k = 0; k < n; k++) {
      const ws = r.socks[r.nextSender % n]!;
      if (rotate || !ws.isOpen) r.nextSender++;
      if (!ws.isOpen) continue;
      const id = ++idCounter;
      pending.set(id, { room: r.clis[0]!.room, sentAt: performance.now() });
      r.inflight++;
      ws.send(`{"type":"send_message","id":"${id}","data":{"room_id":"${r.id}","content":"${nowMs().toFixed(3)} ${padding}"}}`);
      return;
    }
  };

  const onComplete = (r: RoomState): void => {
    r.inflight--;
    if (!sending) return;
    if (cfg.pattern.kind !== "rate") sendFrom(r);
  };

  const handlers: WsHandlers = {
    text(ws, buf, s, e) {
      const c = ws.user as Cli;
      if (isMessageFrame(buf, s, e)) {
        const seq = readSeq(buf, s, e);
        c.recv++;
        if (seq <= c.lastSeq) c.dup++;
        else {
          if (seq > c.lastSeq + 1) c.gap += seq - c.lastSeq - 1;
          c.lastSeq = seq;
        }
        deliveries++;
        if (++latencyTick >= cfg.latencyEvery) {
          latencyTick = 0;
          const ts = readContentTs(buf, s, e);
          if (ts === ts) hist.record(nowMs() - ts);
        }
        lastDelivery = performance.now();
        if (cfg.pattern.kind === "window") {
          // Deliveries may overtake the reply: count down, complete once the reply is in too.
          const left = (remaining.get(seq) ?? 0) - 1;
          if (left === 0 && replied.has(seq)) {
            remaining.delete(seq);
            replied.delete(seq);
            onComplete(rooms[c.room]!);
          } else remaining.set(seq, left);
        }
        return;
      }
      const ty = frameType(buf, s, e);
      if (ty === "reply" || ty === "error") {
        const id = Number(readId(buf, s, e));
        const p = pending.get(id);
        if (p) pending.delete(id);
        if (ty === "error") {
          errors++;
          if (errorSamples.length < 5) errorSamples.push(buf.toString("utf8", s, Math.min(e, s + 300)));
          if (p) onComplete(rooms[p.room]!);
          return;
        }
        if (!p) return;
        replies++;
        lastReply = performance.now();
        const r = rooms[p.room]!;
        const seq = readSeq(buf, s, e);
        if (seq > r.maxSeq) r.maxSeq = seq;
        if (cfg.pattern.kind === "window") {
          // Complete when every member has it (the sender's own copy included).
          const left = (remaining.get(seq) ?? 0) + r.socks.length;
          if (left === 0) {
            remaining.delete(seq);
            onComplete(r);
          } else {
            remaining.set(seq, left);
            replied.add(seq);
          }
        } else onComplete(r);
      } else if (ty === "sync.complete") {
        if (!c.ready) {
          c.ready = true;
          c.onReady?.(c);
        }
      } else if (ty === "sync.gap") syncGaps++;
    },
    close(ws, code) {
      const c = ws.user as Cli;
      c.closed = true;
      c.closeCode = code;
      if (!c.expectClose) {
        unexpectedCloses++;
        if (errorSamples.length < 5) errorSamples.push(`socket ${c.user} closed ${code}`);
      }
      if (!c.ready) c.onReady?.(c);
    },
    error(ws, msg) {
      if (errorSamples.length < 5) errorSamples.push(msg);
    },
  };

  const conn = await connectMany(
    all.length,
    (i, done) => {
      const a = all[i]!;
      a.cli.onReady = (c) => done(c.ready, c.ready ? undefined : `socket ${c.user} closed before ready (${c.closeCode})`);
      a.ws = RawWs.connect(wsOpts(t, a.cli.user, [cfg.rooms[a.cli.room]!.id], null), handlers, a.cli);
    },
    cfg.connectConcurrency,
    90_000,
  );
  for (const a of all) {
    rooms[a.cli.room]!.clis.push(a.cli);
    rooms[a.cli.room]!.socks.push(a.ws!);
  }
  emit({ ev: "ready", sockets: conn.ok, connect_failed: conn.failed, connect_ms: conn.ms, connect_errors: conn.errors });
  if (conn.failed > 0) {
    emit({ ev: "fatal", message: `${conn.failed} sockets failed to connect: ${conn.errors.join("; ")}` });
    process.exit(2);
  }
  // Let presence and other connect-time frames settle before measuring.
  await sleep(200);

  const phase = async (seconds: number): Promise<Record<string, unknown>> => {
    hist = new Hist();
    deliveries = 0;
    replies = 0;
    errors = 0;
    syncGaps = 0;
    errorSamples.length = 0;
    const gapBefore = all.reduce((s, a) => s + a.cli.gap, 0);
    const dupBefore = all.reduce((s, a) => s + a.cli.dup, 0);
    const closesBefore = unexpectedCloses;
    const cpu0 = cpuNow();
    const t0 = performance.now();
    lastDelivery = t0;
    lastReply = t0;
    const stopAt = t0 + seconds * 1000;
    sending = true;
    const p = cfg.pattern;
    if (p.kind === "closed") {
      for (const r of rooms) for (let k = 0; k < p.inflightPerRoom; k++) sendFrom(r);
      while (performance.now() < stopAt) await sleep(20);
    } else if (p.kind === "window") {
      for (let k = 0; k < p.window; k++) sendFrom(rooms[0]!);
      while (performance.now() < stopAt) await sleep(20);
    } else {
      let sent = 0;
      let ri = 0;
      const maxInflight = Math.max(100, p.perSecond);
      while (performance.now() < stopAt) {
        const due = Math.floor(((performance.now() - t0) / 1000) * p.perSecond);
        while (sent < due && pending.size < maxInflight) {
          sendFrom(rooms[ri++ % rooms.length]!);
          sent++;
        }
        await sleep(1);
      }
    }
    sending = false;
    // Drain: every reply in, every socket up to its room's last seq (bounded in time).
    const drainUntil = performance.now() + cfg.drainSeconds * 1000;
    const caughtUp = () => pending.size === 0 && all.every((a) => a.cli.closed || a.cli.lastSeq >= rooms[a.cli.room]!.maxSeq);
    while (!caughtUp() && performance.now() < drainUntil) await sleep(5);
    const stuck = pending.size;
    let behind = 0;
    for (const a of all) {
      const want = rooms[a.cli.room]!.maxSeq;
      if (a.cli.lastSeq < want) behind += want - a.cli.lastSeq;
    }
    pending.clear();
    remaining.clear();
    replied.clear();
    for (const r of rooms) r.inflight = 0;
    const end = Math.max(lastDelivery, lastReply);
    const secs = (end - t0) / 1000;
    const sendSecs = (lastReply - t0) / 1000;
    const gap = all.reduce((s, a) => s + a.cli.gap, 0) - gapBefore;
    const dup = all.reduce((s, a) => s + a.cli.dup, 0) - dupBefore;
    // Whatever is still behind after the drain is lost (the slow-consumer close is counted too).
    const lost = gap + behind;
    // Align every socket so the next phase starts clean even after a loss.
    for (const a of all) a.cli.lastSeq = Math.max(a.cli.lastSeq, rooms[a.cli.room]!.maxSeq);
    return {
      ok: replies,
      errors: errors + stuck,
      throughput: replies / Math.max(sendSecs, 1e-9),
      deliveries,
      deliveries_per_s: deliveries / Math.max(secs, 1e-9),
      seconds: secs,
      hist: hist.toJSON(),
      lost,
      dup,
      sync_gaps: syncGaps,
      unexpected_closes: unexpectedCloses - closesBefore,
      open_sockets: all.filter((a) => !a.cli.closed).length,
      loadgen_cpu_pct: ((cpuNow() - cpu0) / Math.max((performance.now() - t0) / 1000, 1e-6)) * 100,
      error_samples: [...errorSamples],
    };
  };

  const w = await phase(cfg.warmupSeconds);
  emit({ ev: "warmup_end", ...w });
  for (let run = 0; run < cfg.runs; run++) {
    emit({ ev: "run_start", run });
    const r = await phase(cfg.runSeconds);
    emit({ ev: "run_end", run, ...r });
  }
  for (const a of all) {
    a.cli.expectClose = true;
    a.ws?.close();
  }
  emit({ ev: "done" });
}

/** Idle: open the sockets, report, hold them until told to close on stdin (or the deadline). */
async function idleMode(cfg: IdleCfg): Promise<void> {
  const t = cfg.target;
  const socks: RawWs[] = [];
  const clis: Cli[] = cfg.sockets.map((s, i) => newCli(i, 0, s.user));
  let unexpected = 0;
  const errorSamples: string[] = [];
  let frames = 0;
  const handlers: WsHandlers = {
    text(ws, buf, s, e) {
      frames++;
      const c = ws.user as Cli;
      if (!c.ready && frameType(buf, s, e) === "sync.complete") {
        c.ready = true;
        c.onReady?.(c);
      }
    },
    close(ws, code) {
      const c = ws.user as Cli;
      c.closed = true;
      c.closeCode = code;
      if (!c.expectClose) unexpected++;
      if (!c.ready) c.onReady?.(c);
    },
    error(_ws, msg) {
      if (errorSamples.length < 5) errorSamples.push(msg);
    },
  };
  const cpu0 = cpuNow();
  const conn = await connectMany(
    clis.length,
    (i, done) => {
      const c = clis[i]!;
      c.onReady = (x) => done(x.ready, x.ready ? undefined : `closed before ready (${x.closeCode})`);
      socks[i] = RawWs.connect(wsOpts(t, c.user, cfg.sockets[i]!.rooms, null, cfg.localAddress), handlers, c);
    },
    cfg.connectConcurrency,
    cfg.connectTimeoutSeconds * 1000,
  );
  emit({ ev: "connected", ok: conn.ok, failed: conn.failed, ms: conn.ms, errors: [...conn.errors, ...errorSamples].slice(0, 5), loadgen_cpu_s: cpuNow() - cpu0 });
  const reader = (async () => {
    const dec = new TextDecoder();
    for await (const chunk of Bun.stdin.stream()) {
      if (dec.decode(chunk).includes("close")) return;
    }
  })();
  await Promise.race([reader, sleep(cfg.deadlineSeconds * 1000)]);
  for (let i = 0; i < socks.length; i++) {
    clis[i]!.expectClose = true;
    socks[i]?.drop();
  }
  emit({ ev: "done", unexpected_closes: unexpected, frames });
}

/** Reconnect storm: connect, ack, drop all, messages arrive over REST, everyone reconnects at once. */
async function reconnectMode(cfg: ReconnectCfg): Promise<void> {
  const t = cfg.target;
  const host = `${t.host}:${t.port}`;
  interface RS {
    id: string;
    bot: string;
    lastSeq: number;
    clis: Cli[];
  }
  const rooms: RS[] = cfg.rooms.map((r) => ({ id: r.id, bot: r.bot, lastSeq: 0, clis: [] }));
  const clis: Cli[] = [];
  cfg.rooms.forEach((r, ri) =>
    r.members.forEach((u) => {
      const c = newCli(clis.length, ri, u);
      clis.push(c);
      rooms[ri]!.clis.push(c);
    }),
  );
  const socks: (RawWs | null)[] = clis.map(() => null);
  // Per-phase counters.
  let replayed = 0;
  let dup = 0;
  let outOfOrder = 0;
  let syncGaps = 0;
  let errors = 0;
  const errorSamples: string[] = [];
  const ackWaiters = new Map<number, () => void>();
  let ackId = 0;

  const handlers: WsHandlers = {
    text(ws, buf, s, e) {
      const c = ws.user as Cli;
      if (isMessageFrame(buf, s, e)) {
        const seq = readSeq(buf, s, e);
        if (seq <= c.lastSeq) dup++;
        else {
          if (seq !== c.lastSeq + 1) outOfOrder++;
          c.lastSeq = seq;
          replayed++;
        }
        return;
      }
      const ty = frameType(buf, s, e);
      if (ty === "sync.complete") {
        if (!c.ready) {
          c.ready = true;
          c.readyAt = performance.now();
          c.onReady?.(c);
        }
      } else if (ty === "sync.gap") syncGaps++;
      else if (ty === "reply" || ty === "error") {
        if (ty === "error") {
          errors++;
          if (errorSamples.length < 5) errorSamples.push(buf.toString("utf8", s, Math.min(e, s + 300)));
        }
        const id = Number(readId(buf, s, e));
        const w = ackWaiters.get(id);
        if (w) {
          ackWaiters.delete(id);
          w();
        }
      }
    },
    close(ws, code) {
      const c = ws.user as Cli;
      c.closed = true;
      c.closeCode = code;
      if (!c.expectClose && errorSamples.length < 5) errorSamples.push(`socket ${c.user} closed ${code}`);
      if (!c.ready) c.onReady?.(c);
    },
    error(_ws, msg) {
      if (errorSamples.length < 5) errorSamples.push(msg);
    },
  };

  const connectAll = (concurrency: number) =>
    connectMany(
      clis.length,
      (i, done) => {
        const c = clis[i]!;
        c.ready = false;
        c.closed = false;
        c.expectClose = false;
        c.onReady = (x) => done(x.ready, x.ready ? undefined : `closed before ready (${x.closeCode})`);
        socks[i] = RawWs.connect(wsOpts(t, c.user, [rooms[c.room]!.id], c.lastSeq), handlers, c);
      },
      concurrency,
      60_000,
    );

  const first = await connectAll(cfg.connectConcurrency);
  emit({ ev: "ready", sockets: first.ok, connect_failed: first.failed, connect_ms: first.ms, connect_errors: first.errors });
  if (first.failed) {
    emit({ ev: "fatal", message: `${first.failed} sockets failed to connect: ${first.errors.join("; ")}` });
    process.exit(2);
  }
  const conns = await openConns(t, cfg.httpClients);

  const phase = async (): Promise<Record<string, unknown>> => {
    replayed = 0;
    dup = 0;
    outOfOrder = 0;
    syncGaps = 0;
    errors = 0;
    errorSamples.length = 0;
    // 1. Everyone acks what it has (the product replays from last_ack).
    await Promise.all(
      clis.map(
        (c, i) =>
          new Promise<void>((resolve) => {
            if (c.lastSeq === 0 || t.kind === "baseline") return resolve();
            const id = ++ackId;
            ackWaiters.set(id, resolve);
            socks[i]!.send(`{"type":"ack","id":"${id}","data":{"room_id":"${rooms[c.room]!.id}","seq":${c.lastSeq}}}`);
          }),
      ),
    );
    // 2. Drop every socket, as a network failure would.
    for (let i = 0; i < clis.length; i++) {
      clis[i]!.expectClose = true;
      socks[i]!.drop();
    }
    await sleep(300);
    // 3. While they are away, `perRoom` messages arrive in every room (REST, from the room's bot).
    const jobs: { room: RS }[] = [];
    for (let k = 0; k < cfg.perRoom; k++) for (const r of rooms) jobs.push({ room: r });
    let jn = 0;
    let sendErrors = 0;
    await Promise.all(
      conns.map(async (hc) => {
        while (jn < jobs.length) {
          const j = jobs[jn++]!;
          const body = `{"content":"${nowMs().toFixed(3)} while you were away"}`;
          const r = await hc.request(buildRequest("POST", host, `/rooms/${j.room.id}/messages`, { "X-API-Key": t.apiKey, "X-User-Id": j.room.bot }, body), true);
          if (r.status !== 201 || !r.body) {
            sendErrors++;
            continue;
          }
          const seq = readSeq(r.body, 0, r.body.length);
          if (seq > j.room.lastSeq) j.room.lastSeq = seq;
        }
      }),
    );
    const expected = clis.reduce((s, c) => s + (rooms[c.room]!.lastSeq - c.lastSeq), 0);
    // 4. Everyone reconnects at once; done when each got sync.complete.
    const cpu0 = cpuNow();
    const t0 = performance.now();
    const rc = await connectAll(cfg.reconnectConcurrency > 0 ? cfg.reconnectConcurrency : clis.length);
    const allMs = performance.now() - t0;
    const hist = new Hist();
    let behind = 0;
    for (const c of clis) {
      if (c.ready) hist.record(c.readyAt - t0);
      const want = rooms[c.room]!.lastSeq;
      if (c.lastSeq < want) behind += want - c.lastSeq;
    }
    for (const c of clis) c.lastSeq = Math.max(c.lastSeq, rooms[c.room]!.lastSeq);
    const secs = allMs / 1000;
    return {
      ok: replayed,
      expected,
      errors: errors + sendErrors + rc.failed,
      throughput: replayed / Math.max(secs, 1e-9),
      seconds: secs,
      all_replayed_ms: allMs,
      hist: hist.toJSON(),
      lost: behind,
      dup,
      out_of_order: outOfOrder,
      sync_gaps: syncGaps,
      reconnect_failed: rc.failed,
      loadgen_cpu_pct: ((cpuNow() - cpu0) / Math.max(secs, 1e-6)) * 100,
      error_samples: [...errorSamples, ...rc.errors].slice(0, 5),
    };
  };

  const w = await phase();
  emit({ ev: "warmup_end", ...w });
  for (let run = 0; run < cfg.runs; run++) {
    emit({ ev: "run_start", run });
    const r = await phase();
    emit({ ev: "run_end", run, ...r });
  }
  for (let i = 0; i < clis.length; i++) {
    clis[i]!.expectClose = true;
    socks[i]?.close();
  }
  for (const c of conns) c.close();
  emit({ ev: "done" });
}

async function main(): Promise<void> {
  const path = process.argv[2];
  if (!path) throw new Error("usage: bun bench/loadgen.ts CONFIG.json");
  const cfg = JSON.parse(readFileSync(path, "utf8")) as Cfg;
  const deadline = setTimeout(() => {
    emit({ ev: "fatal", message: `load generator deadline of ${cfg.deadlineSeconds} s reached` });
    process.exit(3);
  }, cfg.deadlineSeconds * 1000 + 5000);
  switch (cfg.mode) {
    case "rest-send":
      await restSend(cfg);
      break;
    case "history":
      await historyMode(cfg);
      break;
    case "ws":
      await wsMode(cfg);
      break;
    case "idle":
      await idleMode(cfg);
      break;
    case "reconnect":
      await reconnectMode(cfg);
      break;
  }
  clearTimeout(deadline);
  // Give the socket FIN/close frames a moment to leave before exiting.
  await sleep(50);
  process.exit(0);
}

if (import.meta.main) {
  main().catch((e) => {
    emit({ ev: "fatal", message: e instanceof Error ? `${e.message}\n${e.stack}` : String(e) });
    process.exit(1);
  });
}
