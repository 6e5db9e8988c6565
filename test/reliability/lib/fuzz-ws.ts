// Hostile-input fuzzing of every WebSocket client frame type (src/ws/frames.ts CLIENT_FRAME_TYPES).
// Every frame with a string id must be answered by exactly one reply or error with a catalog code
// other than internal_error/unavailable, within the timeout; the socket must stay open; the data may
// change only by frames that got a reply. Frames over 64 KiB must close 1009; invalid UTF-8 text
// frames must close the socket (not the server).
import { ERROR_CATALOG } from "../../../src/errors";
import { clientFrameDataSchemas, CLIENT_FRAME_TYPES } from "../../../src/ws/frames";
import type { TestServer } from "../../helpers";
import { sampleFromSchema, type Fixtures } from "./fuzz-fixtures";
import { hostileJsonValue, HOSTILE_STRINGS, INVALID_UTF8, malformedJson } from "./hostile";
import type { Prng } from "./prng";
import { collectTokens, diff, snapshot, unexplained } from "./snapshot";

export interface WsFuzzResult {
  tried: Map<string, number>;
  codes: Map<string, number>;
  serverErrors: string[];
  violations: string[];
  unexplainedChanges: string[];
}

const ALLOWED_CODES = new Set(Object.keys(ERROR_CATALOG).filter((c) => c !== "internal_error" && c !== "unavailable"));

/** A socket that correlates answers by id and records everything else. */
class FuzzSocket {
  readonly pending = new Map<string, (f: any) => void>();
  readonly uncorrelated: any[] = [];
  closed: { code: number; reason: string } | null = null;
  private constructor(readonly ws: WebSocket) {}

  static async open(url: string, headers: Record<string, string>): Promise<FuzzSocket> {
    const ws = new WebSocket(url, { headers } as any);
    const s = new FuzzSocket(ws);
    let ready!: () => void;
    let failed!: (e: Error) => void;
    const p = new Promise<void>((res, rej) => ((ready = res), (failed = rej)));
    ws.addEventListener("message", (e) => {
      let f: any;
      try {
        f = JSON.parse(String(e.data));
      } catch {
        s.uncorrelated.push({ type: "non-json", raw: String(e.data).slice(0, 200) });
        return;
      }
      if (f.type === "sync.complete") ready();
      const cb = typeof f.id === "string" && (f.type === "reply" || f.type === "error") ? s.pending.get(f.id) : undefined;
      if (cb) {
        s.pending.delete(f.id);
        cb(f);
      } else if (f.type === "error") s.uncorrelated.push(f);
    });
    ws.addEventListener("close", (e) => {
      s.closed = { code: e.code, reason: e.reason };
      failed(new Error(`socket closed before sync.complete: ${e.code} ${e.reason}`));
      for (const cb of s.pending.values()) cb({ type: "closed", code: e.code, reason: e.reason });
      s.pending.clear();
    });
    await p;
    return s;
  }

  /** Sends raw text; when `id` is given, resolves with the answer carrying it (or a timeout marker). */
  send(text: string | ArrayBuffer, id: string | null, timeoutMs: number): Promise<any> {
    if (id === null) {
      this.ws.send(text);
      return Promise.resolve(null);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ type: "timeout" });
      }, timeoutMs);
      this.pending.set(id, (f) => {
        clearTimeout(timer);
        resolve(f);
      });
      this.ws.send(text);
    });
  }

  close(): void {
    if (this.ws.readyState < 2) this.ws.close();
  }
}

function baseData(type: string, fx: Fixtures, r: Prng): Record<string, unknown> {
  const room = fx.roomId;
  const msg = r.pick(fx.messageIds);
  const templates: Record<string, Record<string, unknown>> = {
    send_message: { room_id: room, content: `ws fuzz ${r.word(4)}`, meta: { a: 1 }, client_msg_id: `wf-${r.word(6)}` },
    edit_message: { room_id: room, message_id: msg, content: "edited by ws" },
    delete_message: { room_id: room, message_id: msg },
    ack: { room_id: room, seq: r.int(0, 20) },
    "typing.start": { room_id: room },
    "typing.stop": { room_id: room },
    sync: { room_id: room, after_seq: 0, limit: 10 },
    list_rooms: { limit: 10 },
    "notification.ack": { notification_id: fx.notificationId },
    ping: {},
  };
  return templates[type] ?? ((sampleFromSchema(clientFrameDataSchemas[type as keyof typeof clientFrameDataSchemas]) ?? {}) as Record<string, unknown>);
}

let idCounter = 0;

/** One hostile frame; `id` is the correlation id when the frame carries a well-formed string id. */
function generateFrame(r: Prng, type: string, fx: Fixtures): { text: string | ArrayBuffer; id: string | null; label: string; data: unknown } {
  const data = baseData(type, fx, r);
  const id = `f${(++idCounter).toString(36)}`;
  const envelope = (d: string, extra = "") => `{"type":${JSON.stringify(type)},"id":"${id}"${d === "" ? "" : `,"data":${d}`}${extra}}`;
  const dataText = JSON.stringify(data);
  const keys = Object.keys(data);
  const roll = r.int(0, 99);
  if (roll < 40 && keys.length) {
    const f = r.pick(keys);
    return { text: envelope(JSON.stringify({ ...data, [f]: "__X__" }).replace('"__X__"', hostileJsonValue(r))), id, label: `data.${f}`, data };
  }
  if (roll < 50 && keys.length) {
    const f = r.pick(keys);
    const { [f]: _drop, ...rest } = data;
    return { text: envelope(JSON.stringify(rest)), id, label: `missing ${f}`, data };
  }
  if (roll < 58) {
    const extra = r.pick(["__proto__", "constructor", "prototype", "roomId", "tenant_id", "sender_id", "seq"]);
    return { text: envelope(dataText.replace(/^\{/, `{${JSON.stringify(extra)}:${hostileJsonValue(r)}${keys.length ? "," : ""}`)), id, label: `extra ${extra}`, data };
  }
  if (roll < 66) return { text: envelope(hostileJsonValue(r)), id, label: "data whole", data };
  if (roll < 70) return { text: envelope(""), id, label: "no data", data };
  if (roll < 76) return { text: envelope(dataText, `,${JSON.stringify(r.pick(["__proto__", "constructor", "extra", "ID", "Type"]))}:${hostileJsonValue(r)}`), id, label: "extra envelope key", data };
  if (roll < 82) {
    const t = r.pick([type.toUpperCase(), ` ${type}`, `${type}\u0000`, "__proto__", "constructor", "toString", "hasOwnProperty", "", "reply", "error", "message", r.pick(HOSTILE_STRINGS)]);
    return { text: `{"type":${JSON.stringify(t)},"id":"${id}","data":${dataText}}`, id, label: "type", data };
  }
  if (roll < 88) {
    // String ids stay unique (answers are matched by id); "" cannot be, so it is checked uncorrelated.
    const badId = r.pick(["1", "null", "{}", "[]", '""', JSON.stringify(`${"i".repeat(129)}${id}`), `"\\ud800${id}"`, `"${id}\\udc00"`, "true", "1e400"]);
    const stringId = badId.startsWith('"') && badId !== '""' ? JSON.parse(badId) : null;
    return { text: `{"type":${JSON.stringify(type)},"id":${badId},"data":${dataText}}`, id: stringId, label: "id", data };
  }
  if (roll < 95) return { text: malformedJson(r, envelope(dataText)), id: null, label: "malformed", data };
  if (roll < 97) return { text: new TextEncoder().encode(envelope(dataText)).buffer as ArrayBuffer, id: null, label: "binary", data };
  return { text: envelope(dataText), id, label: "valid", data };
}

/** Fuzzes every frame type with `perType` frames on one socket (reopened if it closes). */
export async function fuzzWs(s: TestServer, fx: Fixtures, r: Prng, opts: { perType: number; window: number; timeoutMs?: number; log?: (l: string) => void }): Promise<WsFuzzResult> {
  const res: WsFuzzResult = { tried: new Map(), codes: new Map(), serverErrors: [], violations: [], unexplainedChanges: [] };
  const headers = { "x-api-key": fx.key, "x-user-id": fx.user };
  let sock = await FuzzSocket.open(s.wsUrl, headers);
  let reopening: Promise<void> | null = null;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  for (const type of CLIENT_FRAME_TYPES) {
    const rr = r.fork(type.length * 7919 + type.charCodeAt(0));
    const before = await snapshot(s.api);
    const tokens = new Set<string>();
    let n = 0;
    const worker = async () => {
      while (n < opts.perType) {
        n++;
        if (sock.closed) {
          // One reopen for all workers; the close itself was reported with the frame that caused it.
          reopening ??= FuzzSocket.open(s.wsUrl, headers).then((x) => {
            sock = x;
            reopening = null;
          });
          await reopening;
        }
        let g = generateFrame(rr, type, fx);
        // Frames over 64 KiB close the socket (1009) by design: oversizedFrames() covers them.
        while (typeof g.text === "string" && Buffer.byteLength(g.text) > 60 * 1024) g = generateFrame(rr, type, fx);
        const input = typeof g.text === "string" ? g.text.slice(0, 300) : "(binary)";
        res.tried.set(type, (res.tried.get(type) ?? 0) + 1);
        const a = await sock.send(g.text, g.id, timeoutMs);
        if (a === null) continue;
        if (a.type === "timeout") res.violations.push(`${type} [${g.label}]: no answer within ${timeoutMs} ms to ${input}`);
        else if (a.type === "closed") res.violations.push(`${type} [${g.label}]: socket closed ${a.code} ${a.reason} on ${input}`);
        else if (a.type === "error") {
          res.codes.set(a.error, (res.codes.get(a.error) ?? 0) + 1);
          if (a.error === "internal_error" || a.error === "unavailable") res.serverErrors.push(`${type} [${g.label}]: ${JSON.stringify(a)} on ${input}`);
          else if (!ALLOWED_CODES.has(a.error) || typeof a.message !== "string") res.violations.push(`${type} [${g.label}]: undocumented error ${JSON.stringify(a).slice(0, 200)}`);
        } else {
          res.codes.set("reply", (res.codes.get("reply") ?? 0) + 1);
          collectTokens(a.data, tokens);
          collectTokens(g.data, tokens);
        }
      }
    };
    await Promise.all(Array.from({ length: opts.window }, worker));
    // Uncorrelated error frames (frames without a usable id) must carry allowed codes too.
    await sock.send(JSON.stringify({ type: "ping", id: "barrier" }), "barrier", timeoutMs);
    for (const f of sock.uncorrelated.splice(0)) {
      if (f.type === "non-json") res.violations.push(`${type}: non-JSON server frame ${f.raw}`);
      else if (f.error === "internal_error" || f.error === "unavailable") res.serverErrors.push(`${type}: ${JSON.stringify(f)}`);
      else if (!ALLOWED_CODES.has(f.error)) res.violations.push(`${type}: undocumented error ${JSON.stringify(f).slice(0, 200)}`);
    }
    tokens.add(fx.user);
    const changes = unexplained(diff(before, await snapshot(s.api)), tokens);
    for (const ch of changes.slice(0, 5)) res.unexplainedChanges.push(`${type}: ${ch.kind} ${ch.table} ${JSON.stringify(ch.after ?? ch.before).slice(0, 300)}`);
    opts.log?.(`ws ${type}: ${res.tried.get(type)} frames`);
  }
  sock.close();
  return res;
}

/** Frames over 64 KiB close the socket with 1009; the server stays up. Returns the close codes seen. */
export async function oversizedFrames(s: TestServer, fx: Fixtures, count: number): Promise<number[]> {
  const codes: number[] = [];
  for (let i = 0; i < count; i++) {
    const sock = await FuzzSocket.open(s.wsUrl, { "x-api-key": fx.key, "x-user-id": `big-${i}` });
    const closed = new Promise<void>((res) => sock.ws.addEventListener("close", () => res()));
    sock.ws.send(JSON.stringify({ type: "send_message", id: "big", data: { room_id: fx.roomId, content: "x".repeat(65 * 1024 + i * 1000) } }));
    await Promise.race([closed, Bun.sleep(5000)]);
    codes.push(sock.closed?.code ?? 0);
    sock.close();
  }
  return codes;
}


/** A masked client frame (RFC 6455 5.2) with `opcode` and `payload`. */
function wsFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const mask = crypto.getRandomValues(new Uint8Array(4));
  const len = payload.length;
  const head = len < 126 ? [0x80 | opcode, 0x80 | len] : [0x80 | opcode, 0x80 | 126, len >> 8, len & 0xff];
  const out = new Uint8Array(head.length + 4 + len);
  out.set(head, 0);
  out.set(mask, head.length);
  for (let i = 0; i < len; i++) out[head.length + 4 + i] = payload[i]! ^ mask[i % 4]!;
  return out;
}

/**
 * Text frames whose payload is not valid UTF-8, over a hand-made connection. Returns, per frame, the
 * close code the server sent (RFC 6455 wants 1007), "error:<code>" for an error frame, or "none".
 */
export async function invalidUtf8Frames(s: TestServer, fx: Fixtures, r: Prng, count: number): Promise<string[]> {
  const out: string[] = [];
  const u = new URL(s.url);
  for (let i = 0; i < count; i++) {
    let buf = Buffer.alloc(0);
    let closed!: () => void;
    const done = new Promise<void>((res) => (closed = res));
    const sock = await Bun.connect({
      hostname: u.hostname,
      port: Number(u.port),
      socket: {
        data(_s, chunk) {
          buf = Buffer.concat([buf, Buffer.from(chunk)]);
        },
        close: () => closed(),
        error: () => closed(),
      },
    });
    const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
    sock.write(`GET /ws HTTP/1.1\r\nHost: ${u.host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\nX-API-Key: ${fx.key}\r\nX-User-Id: utf8-${i}\r\n\r\n`);
    const until = async (pred: () => boolean, ms: number) => {
      const end = performance.now() + ms;
      while (!pred() && performance.now() < end) await Bun.sleep(5);
    };
    await until(() => buf.includes("sync.complete"), 3000);
    const start = buf.length;
    const bad = r.pick(INVALID_UTF8);
    const text = Buffer.concat([Buffer.from(`{"type":"send_message","id":"u","data":{"room_id":"${fx.roomId}","content":"`), Buffer.from(bad), Buffer.from(`"}}`)]);
    sock.write(wsFrame(1, text));
    await Promise.race([done, until(() => buf.length > start, 3000)]);
    await Promise.race([done, Bun.sleep(200)]);
    const tail = buf.subarray(start);
    // A close frame from the server: 0x88, length, then the 2-byte code.
    const at = tail.indexOf(0x88);
    if (at >= 0 && tail.length >= at + 4) out.push(`close:${tail.readUInt16BE(at + 2)}`);
    else if (tail.includes("\"error\"")) out.push(`error:${/"error":"([a-z_]+)"/.exec(tail.toString("latin1"))?.[1]}`);
    else out.push("none");
    sock.end();
  }
  return out;
}
