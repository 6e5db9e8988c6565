// Raw WebSocket helpers for the gateway's end-to-end tests: open with headers or a token, collect every
// frame, await frames with a timeout, request/reply by id, a ping barrier, and hand-made handshakes.
import type { Socket } from "bun";
import { waitFor, type RestClient, type TestServer } from "../helpers";

/** A server frame as received (flat JSON with `type`). */
export type Frame = { type: string } & Record<string, any>;

export interface CloseInfo {
  code: number;
  reason: string;
}

/** Options of `openWs`. */
export interface OpenOptions {
  /** Handshake headers (Bun's WebSocket accepts them). */
  headers?: Record<string, string>;
  /** Appended as `?token=`. */
  token?: string;
}

let idCounter = 0;

// Bun's WebSocket takes handshake headers; the DOM typing in scope only knows protocols.
const BunWebSocket = WebSocket as unknown as new (url: string, options?: { headers?: Record<string, string> }) => WebSocket;

/** One real WebSocket whose frames are all recorded in `frames`, in arrival order. */
export class WsConn {
  readonly frames: Frame[] = [];
  /** Non-JSON or binary frames from the server (there should be none). */
  readonly junk: unknown[] = [];
  readonly ws: WebSocket;
  /** Resolves with the close code and reason, whoever closed. */
  readonly closed: Promise<CloseInfo>;
  closeInfo: CloseInfo | undefined;
  private waiters = new Set<() => void>();

  constructor(url: string, opts: OpenOptions = {}) {
    const u = opts.token === undefined ? url : `${url}?token=${encodeURIComponent(opts.token)}`;
    this.ws = opts.headers ? new BunWebSocket(u, { headers: opts.headers }) : new WebSocket(u);
    this.closed = new Promise((resolve) => {
      this.ws.addEventListener("close", (e) => {
        this.closeInfo = { code: e.code, reason: e.reason };
        resolve(this.closeInfo);
        this.wake();
      });
    });
    this.ws.addEventListener("message", (e) => {
      if (typeof e.data !== "string") {
        this.junk.push(e.data);
        return;
      }
      try {
        this.frames.push(JSON.parse(e.data));
      } catch {
        this.junk.push(e.data);
      }
      this.wake();
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /**
   * The first recorded frame at index >= `from` matching `pred`; waits for it up to `timeoutMs`.
   * Rejects early when the socket closes without such a frame.
   */
  waitForFrame(pred: (f: Frame) => boolean, timeoutMs = 3000, what = "frame", from = 0): Promise<Frame> {
    const find = () => {
      for (let i = from; i < this.frames.length; i++) if (pred(this.frames[i]!)) return this.frames[i]!;
      return undefined;
    };
    const hit = find();
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      const check = () => {
        const f = find();
        if (f) {
          done();
          resolve(f);
        } else if (this.closeInfo) {
          done();
          reject(new Error(`socket closed (${this.closeInfo.code} ${this.closeInfo.reason}) while waiting for ${what}; got ${this.describe()}`));
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${this.describe()}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  /** Waits until `pred` holds over all frames (e.g. a count). */
  async waitUntil(pred: (frames: Frame[]) => boolean, timeoutMs = 3000, what = "frames"): Promise<void> {
    if (pred(this.frames)) return;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (pred(this.frames)) {
          clearTimeout(timer);
          this.waiters.delete(check);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${this.describe()}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  private describe(): string {
    const types = this.frames.map((f) => f.type);
    const tail = types.slice(-12).join(",");
    return `${types.length} frames [${types.length > 12 ? "...," : ""}${tail}]`;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Sends `{type, id, data}` and resolves with the `reply` or `error` frame carrying that id. */
  async request(type: string, data?: unknown, timeoutMs = 3000): Promise<Frame> {
    const id = `q${++idCounter}`;
    const frame: Record<string, unknown> = { type, id };
    if (data !== undefined) frame.data = data;
    this.send(frame);
    return this.waitForFrame((f) => (f.type === "reply" || f.type === "error") && f.id === id, timeoutMs, `reply to ${type} ${id}`);
  }

  /** Like request, but fails unless the answer is a `reply`; returns its data. */
  async call(type: string, data?: unknown, timeoutMs = 3000): Promise<any> {
    const r = await this.request(type, data, timeoutMs);
    if (r.type !== "reply") throw new Error(`${type} failed: ${JSON.stringify(r)}`);
    return r.data;
  }

  /**
   * A ping round trip. Frames to one socket keep their order, so every frame the server sent this
   * socket before handling the ping has arrived once this resolves (how "got nothing" is asserted).
   */
  async barrier(timeoutMs = 3000): Promise<void> {
    await this.call("ping", undefined, timeoutMs);
  }

  ofType(type: string): Frame[] {
    return this.frames.filter((f) => f.type === type);
  }

  /** `message` frames, optionally of one room. */
  messages(roomId?: string): Frame[] {
    return this.frames.filter((f) => f.type === "message" && (roomId === undefined || f.room_id === roomId));
  }

  /** Index the next frame will get: pass as `from` to wait for frames after now. */
  get mark(): number {
    return this.frames.length;
  }

  close(code = 1000): Promise<CloseInfo> {
    if (this.ws.readyState < 2) this.ws.close(code);
    return this.closed;
  }
}

/** Opens a socket without waiting for anything. */
export function openWs(url: string, opts: OpenOptions = {}): WsConn {
  return new WsConn(url, opts);
}

/** Opens a socket and waits for its `connected` frame (and, by default, `sync.complete`). */
export async function connectWs(url: string, opts: OpenOptions & { waitSync?: boolean; timeoutMs?: number } = {}): Promise<WsConn> {
  const c = new WsConn(url, opts);
  await c.waitForFrame((f) => f.type === "connected", opts.timeoutMs ?? 3000, "connected");
  if (opts.waitSync !== false) await c.waitForFrame((f) => f.type === "sync.complete", opts.timeoutMs ?? 3000, "sync.complete");
  return c;
}

/** Headers of the API-key handshake. */
export function keyHeaders(apiKey: string, userId: string, extra: Record<string, string> = {}): Record<string, string> {
  return { "X-API-Key": apiKey, "X-User-Id": userId, ...extra };
}

/** Upgrade request headers for fetch(): the server answers refusals before upgrading. */
export function upgradeHeaders(extra: Record<string, string> = {}): Record<string, string> {
  const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  return { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "13", ...extra };
}

/** A refused handshake as fetch() sees it: status, JSON body, headers. */
export async function tryUpgrade(httpUrl: string, query: string, headers: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${httpUrl}/ws${query}`, { headers: upgradeHeaders(headers) });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: left as text so the assertion shows it
  }
  return { status: res.status, body, headers: res.headers };
}

/** A hand-made WebSocket handshake over raw TCP; the socket then reads nothing unless told to. */
export interface RawHandshake {
  status: number;
  head: string;
  socket: Socket<undefined>;
  /** Bytes after the response head received so far (none arrive while paused). */
  tail(): Buffer;
  /** Resolves when the TCP connection ends. */
  closed: Promise<void>;
}

/** Performs the HTTP upgrade by hand on 127.0.0.1 and resolves at the response head. */
export async function rawHandshake(httpUrl: string, path: string, headers: Record<string, string>, opts: { pauseAfterHead?: boolean; timeoutMs?: number } = {}): Promise<RawHandshake> {
  const u = new URL(httpUrl);
  let buf = Buffer.alloc(0);
  let headEnd = -1;
  let gotHead!: () => void;
  const headPromise = new Promise<void>((r) => (gotHead = r));
  let closedResolve!: () => void;
  const closed = new Promise<void>((r) => (closedResolve = r));
  const ended = () => {
    closedResolve();
    gotHead();
  };
  const socket = await Bun.connect({
    hostname: u.hostname,
    port: Number(u.port),
    socket: {
      data(sock, chunk) {
        buf = Buffer.concat([buf, chunk]);
        if (headEnd < 0) {
          headEnd = buf.indexOf("\r\n\r\n");
          if (headEnd >= 0) {
            // Stop reading now: the kernel buffers fill and the server sees backpressure.
            if (opts.pauseAfterHead) sock.pause();
            gotHead();
          }
        }
      },
      close: ended,
      error: ended,
    },
  });
  const lines = [`GET ${path} HTTP/1.1`, `Host: ${u.host}`, ...Object.entries(upgradeHeaders(headers)).map(([k, v]) => `${k}: ${v}`), "", ""];
  socket.write(lines.join("\r\n"));
  const timeoutMs = opts.timeoutMs ?? 3000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([headPromise, new Promise((_, rej) => (timer = setTimeout(() => rej(new Error("raw handshake timed out")), timeoutMs)))]);
  clearTimeout(timer);
  const head = buf.subarray(0, Math.max(0, headEnd)).toString("latin1");
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  return { status, head, socket, tail: () => buf.subarray(headEnd + 4), closed };
}

/** One server-to-client WebSocket frame (servers never mask). */
export interface WireFrame {
  opcode: number;
  payload: Buffer;
}

/** Parses complete frames of a server byte stream (RFC 6455 section 5.2); a partial last frame is left out. */
export function parseWireFrames(bytes: Buffer): WireFrame[] {
  const out: WireFrame[] = [];
  let i = 0;
  while (i + 2 <= bytes.length) {
    const opcode = bytes[i]! & 0x0f;
    let len = bytes[i + 1]! & 0x7f;
    let off = i + 2;
    if (len === 126) {
      if (off + 2 > bytes.length) break;
      len = bytes.readUInt16BE(off);
      off += 2;
    } else if (len === 127) {
      if (off + 8 > bytes.length) break;
      len = Number(bytes.readBigUInt64BE(off));
      off += 8;
    }
    if (off + len > bytes.length) break;
    out.push({ opcode, payload: bytes.subarray(off, off + len) });
    i = off + len;
  }
  return out;
}

/** The close code of the first close frame (opcode 8) in the stream, if any. */
export function wireCloseCode(bytes: Buffer): number | undefined {
  const close = parseWireFrames(bytes).find((f) => f.opcode === 8);
  if (close) return close.payload.length >= 2 ? close.payload.readUInt16BE(0) : undefined;
  // A tail may begin in the middle of a frame, so parsing from its start can miss the close frame.
  // The server's close frame is the last one on the wire: unmasked, opcode 8, payload of 2..125 bytes.
  for (let len = 2; len <= 125; len++) {
    const i = bytes.length - 2 - len;
    if (i < 0) break;
    if (bytes[i] === 0x88 && bytes[i + 1] === len) return bytes.readUInt16BE(i + 2);
  }
  return undefined;
}

/** A tenant with shortcuts: REST as a user, socket headers, sockets. */
export interface TestTenant {
  tenant_id: string;
  api_key: string;
  as(userId: string): RestClient;
  headers(userId: string, extra?: Record<string, string>): Record<string, string>;
  /** Connects a socket for `userId` (to `url`, default the server's wsUrl) and waits for its replay to complete. */
  connect(userId: string, opts?: { waitSync?: boolean; extraHeaders?: Record<string, string>; url?: string }): Promise<WsConn>;
  /** Creates a room as `owner` with `members`; returns its id. */
  room(owner: string, members: string[], type?: "group" | "channel" | "dm"): Promise<string>;
}

/** Creates a tenant on `s` and returns shortcuts bound to it. */
export async function makeTenant(s: TestServer, name = "ws", config?: Record<string, unknown>): Promise<TestTenant> {
  const t = await s.createTenant(name, config);
  const as = (u: string) => s.client(t.api_key, u);
  const headers = (u: string, extra: Record<string, string> = {}) => keyHeaders(t.api_key, u, extra);
  return {
    tenant_id: t.tenant_id,
    api_key: t.api_key,
    as,
    headers,
    connect: (u, opts = {}) => connectWs(opts.url ?? s.wsUrl, { headers: headers(u, opts.extraHeaders), waitSync: opts.waitSync }),
    async room(owner, members, type = "group") {
      const r = await as(owner).post("/rooms", { type, name: type === "dm" ? undefined : "r", members });
      if (r.status !== 201) throw new Error(`create room: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.room_id as string;
    },
  };
}

/** Sends `n` messages to `roomId` over REST, `concurrency` at a time; returns them by seq. */
export async function sendMany(c: RestClient, roomId: string, n: number, opts: { prefix?: string; concurrency?: number; content?: (i: number) => string } = {}): Promise<any[]> {
  const out: any[] = [];
  const conc = opts.concurrency ?? 10;
  for (let i = 0; i < n; i += conc) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + conc); j++) {
      const content = opts.content ? opts.content(j) : `${opts.prefix ?? "m"}-${j}`;
      batch.push(c.post(`/rooms/${roomId}/messages`, { content }));
    }
    for (const r of await Promise.all(batch)) {
      if (r.status !== 201) throw new Error(`send: ${r.status} ${JSON.stringify(r.body)}`);
      out.push(r.body);
    }
  }
  return out.sort((a, b) => a.seq - b.seq);
}

/** Resolves like `p`, or rejects after `timeoutMs` naming `what`. */
export async function within<T>(p: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** from..to inclusive */
export function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

/** Waits until the wall clock has passed `ms` after `startMs` (for expiries; no fixed sleep). */
export async function clockPast(startMs: number, ms: number): Promise<void> {
  await waitFor(() => Date.now() >= startMs + ms, ms + 5000, `clock past +${ms} ms`);
}
