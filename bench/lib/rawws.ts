// A minimal WebSocket client over raw TCP for the load generator. Bun's WebSocket client dispatches
// one MessageEvent per frame; here one `data` callback parses every frame of a TCP read in a loop,
// so the client spends far less CPU per delivery than the server under test (which is the point).
// Client frames are masked with a zero key (RFC 6455 requires the mask bit, not a random key; the
// server under test does not care), so the payload is written as is.
import { connect as netConnect, type Socket as NetSocket } from "node:net";
import type { Socket as BunSocket } from "bun";

export interface WsHandlers {
  /** The 101 arrived; frames may follow at once. */
  open?(c: RawWs): void;
  /** One complete text (or binary) message: payload is buf[start, end). Do not keep `buf`. */
  text?(c: RawWs, buf: Buffer, start: number, end: number): void;
  /** Closed (close frame, TCP close or error); called once. code 1006 = no close frame. */
  close?(c: RawWs, code: number, reason: string): void;
  /** Handshake refused or transport error (followed by close). */
  error?(c: RawWs, message: string): void;
}

export interface WsConnectOpts {
  host: string;
  port: number;
  /** Path and query, e.g. "/ws" or "/ws?u=a&rooms=r1". */
  path: string;
  headers?: Record<string, string>;
  /** Source address (e.g. 127.0.0.7); uses node:net, which supports binding it. */
  localAddress?: string;
}

const CONNECTING = 0;
const HANDSHAKE = 1;
const OPEN = 2;
const CLOSED = 3;

interface Transport {
  write(b: Buffer): void;
  end(): void;
}

const bunHandlers = {
  open(s: BunSocket<RawWs>) {
    s.data.attachBun(s);
  },
  data(s: BunSocket<RawWs>, chunk: Buffer) {
    s.data.onData(chunk);
  },
  drain(s: BunSocket<RawWs>) {
    s.data.onDrain();
  },
  close(s: BunSocket<RawWs>) {
    s.data.onTransportClose();
  },
  error(s: BunSocket<RawWs>, err: Error) {
    s.data.onTransportError(err);
  },
  connectError(s: BunSocket<RawWs>, err: Error) {
    s.data.onTransportError(err);
  },
};

/** A final, masked (zero key) client frame of `opcode` with its header written; the caller fills the last `len` bytes. */
function allocFrame(opcode: number, len: number): Buffer {
  const hdr = len < 126 ? 6 : len < 65536 ? 8 : 14;
  const out = Buffer.allocUnsafe(hdr + len);
  out[0] = 0x80 | opcode;
  if (len < 126) out[1] = 0x80 | len;
  else if (len < 65536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeUInt32BE(0, 2);
    out.writeUInt32BE(len, 6);
  }
  out.writeUInt32BE(0, hdr - 4); // zero mask key
  return out;
}

/** One client connection. Create with `RawWs.connect`. */
export class RawWs {
  state = CONNECTING;
  /** Free slot for the caller (index, room, counters). */
  user: any = null;
  private t: Transport | null = null;
  private bunSock: BunSocket<RawWs> | null = null;
  private pendingOut: Buffer[] = [];
  private rbuf: Buffer | null = null;
  private frag: Buffer[] | null = null;
  private closedCalled = false;

  private constructor(
    private readonly o: WsConnectOpts,
    private readonly h: WsHandlers,
  ) {}

  /** Starts connecting; handlers report the outcome. */
  static connect(o: WsConnectOpts, h: WsHandlers, user?: unknown): RawWs {
    const c = new RawWs(o, h);
    c.user = user ?? null;
    if (o.localAddress) {
      const s: NetSocket = netConnect({ host: o.host, port: o.port, localAddress: o.localAddress });
      s.setNoDelay(true);
      c.t = { write: (b) => void s.write(b), end: () => s.destroy() };
      s.on("connect", () => c.onTransportOpen());
      s.on("data", (d: Buffer) => c.onData(d));
      s.on("error", (e) => c.onTransportError(e));
      s.on("close", () => c.onTransportClose());
    } else {
      Bun.connect<RawWs>({ hostname: o.host, port: o.port, socket: bunHandlers as any, data: c }).catch((e) => c.onTransportError(e));
    }
    return c;
  }

  attachBun(s: BunSocket<RawWs>): void {
    this.bunSock = s;
    this.t = {
      write: (b) => {
        if (this.pendingOut.length) {
          this.pendingOut.push(b);
          return;
        }
        const n = s.write(b);
        if (n < b.length) this.pendingOut.push(n > 0 ? b.subarray(n) : b);
      },
      end: () => s.end(),
    };
    this.onTransportOpen();
  }

  onDrain(): void {
    const s = this.bunSock;
    if (!s) return;
    while (this.pendingOut.length) {
      const b = this.pendingOut[0]!;
      const n = s.write(b);
      if (n < b.length) {
        this.pendingOut[0] = n > 0 ? b.subarray(n) : b;
        return;
      }
      this.pendingOut.shift();
    }
  }

  private onTransportOpen(): void {
    let req = `GET ${this.o.path} HTTP/1.1\r\nHost: ${this.o.host}:${this.o.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n`;
    for (const [k, v] of Object.entries(this.o.headers ?? {})) req += `${k}: ${v}\r\n`;
    req += "\r\n";
    this.state = HANDSHAKE;
    this.t!.write(Buffer.from(req));
  }

  onTransportError(err: Error): void {
    this.h.error?.(this, `transport: ${err?.message ?? String(err)}`);
    this.finish(1006, "transport error");
  }

  onTransportClose(): void {
    this.finish(1006, "");
  }

  private finish(code: number, reason: string): void {
    if (this.closedCalled) return;
    this.closedCalled = true;
    this.state = CLOSED;
    this.h.close?.(this, code, reason);
  }

  get isOpen(): boolean {
    return this.state === OPEN;
  }

  onData(chunk: Buffer): void {
    let buf = chunk;
    if (this.rbuf) {
      buf = Buffer.concat([this.rbuf, chunk]);
      this.rbuf = null;
    }
    let off = 0;
    if (this.state === HANDSHAKE) {
      const idx = buf.indexOf("\r\n\r\n");
      if (idx < 0) {
        this.rbuf = Buffer.from(buf);
        return;
      }
      const head = buf.toString("latin1", 0, idx);
      if (!head.startsWith("HTTP/1.1 101")) {
        this.h.error?.(this, `handshake refused: ${head.split("\r\n")[0]} ${buf.toString("utf8", idx + 4, Math.min(buf.length, idx + 400))}`);
        this.t?.end();
        this.finish(1006, "handshake refused");
        return;
      }
      this.state = OPEN;
      off = idx + 4;
      this.h.open?.(this);
    }
    const n = buf.length;
    while (off + 2 <= n) {
      const b0 = buf[off]!;
      const b1 = buf[off + 1]!;
      let len = b1 & 0x7f;
      let hdr = 2;
      if (len === 126) {
        if (off + 4 > n) break;
        len = (buf[off + 2]! << 8) | buf[off + 3]!;
        hdr = 4;
      } else if (len === 127) {
        if (off + 10 > n) break;
        len = buf.readUInt32BE(off + 2) * 4294967296 + buf.readUInt32BE(off + 6);
        hdr = 10;
      }
      if (b1 & 0x80) hdr += 4; // a masked server frame would be a protocol error; skip the key
      if (off + hdr + len > n) break;
      const start = off + hdr;
      const end = start + len;
      off = end;
      const opcode = b0 & 0x0f;
      const fin = (b0 & 0x80) !== 0;
      if (opcode === 1 || opcode === 2 || opcode === 0) {
        if (!fin || this.frag) {
          (this.frag ??= []).push(Buffer.from(buf.subarray(start, end)));
          if (fin) {
            const whole = Buffer.concat(this.frag);
            this.frag = null;
            this.h.text?.(this, whole, 0, whole.length);
          }
        } else {
          this.h.text?.(this, buf, start, end);
        }
      } else if (opcode === 8) {
        const code = len >= 2 ? (buf[start]! << 8) | buf[start + 1]! : 1005;
        const reason = len > 2 ? buf.toString("utf8", start + 2, end) : "";
        if (this.state === OPEN) this.writeFrame(8, Buffer.from([code >> 8, code & 0xff]));
        this.t?.end();
        this.finish(code, reason);
        return;
      } else if (opcode === 9) {
        this.writeFrame(10, Buffer.from(buf.subarray(start, end)));
      }
      if (this.state === CLOSED) return;
    }
    if (off < n) this.rbuf = Buffer.from(buf.subarray(off));
  }

  private writeFrame(opcode: number, payload: Buffer): void {
    const out = allocFrame(opcode, payload.length);
    payload.copy(out, out.length - payload.length);
    this.t?.write(out);
  }

  /** Sends one text frame (no-op unless open). */
  send(text: string): boolean {
    if (this.state !== OPEN || !this.t) return false;
    const len = Buffer.byteLength(text);
    const out = allocFrame(0x1, len);
    out.write(text, out.length - len, "utf8");
    this.t.write(out);
    return true;
  }

  /** Polite close (close frame, then TCP end). */
  close(code = 1000): void {
    if (this.state === OPEN) this.writeFrame(8, Buffer.from([code >> 8, code & 0xff]));
    this.t?.end();
    this.finish(code, "client close");
  }

  /** Drops the TCP connection without a close frame (a network drop, as the server sees it). */
  drop(): void {
    if (this.bunSock) this.bunSock.terminate();
    else this.t?.end();
    this.finish(1006, "dropped");
  }
}

// ---- helpers to read fields of a flat JSON frame without parsing it -------------------------------

const SEQ = Buffer.from('"seq":');
const CONTENT = Buffer.from('"content":"');
const TYPE_MESSAGE = Buffer.from('{"type":"message"');
const ID = Buffer.from('"id":"');

/** True when the frame starts with {"type":"message" (both servers put `type` first). */
export function isMessageFrame(buf: Buffer, start: number, end: number): boolean {
  if (end - start < TYPE_MESSAGE.length) return false;
  // The pattern ends with the closing quote, so "message.edited" does not match.
  return buf.compare(TYPE_MESSAGE, 0, TYPE_MESSAGE.length, start, start + TYPE_MESSAGE.length) === 0;
}

/** The integer after "seq": (first occurrence), or -1. */
export function readSeq(buf: Buffer, start: number, end: number): number {
  const i = buf.indexOf(SEQ, start);
  if (i < 0 || i >= end) return -1;
  let p = i + SEQ.length;
  let v = 0;
  let any = false;
  while (p < end) {
    const c = buf[p]!;
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
    any = true;
    p++;
  }
  return any ? v : -1;
}

/** The number at the start of "content":"<number> ..." (the sender's timestamp), or NaN. */
export function readContentTs(buf: Buffer, start: number, end: number): number {
  const i = buf.indexOf(CONTENT, start);
  if (i < 0 || i >= end) return NaN;
  const p = i + CONTENT.length;
  let q = p;
  while (q < end && q < p + 32) {
    const c = buf[q]!;
    if ((c < 48 || c > 57) && c !== 46) break;
    q++;
  }
  return Number(buf.toString("latin1", p, q));
}

/** The string after the first "id":" (reply correlation), or null. */
export function readId(buf: Buffer, start: number, end: number): string | null {
  const i = buf.indexOf(ID, start);
  if (i < 0 || i >= end) return null;
  const p = i + ID.length;
  const q = buf.indexOf(0x22, p);
  if (q < 0 || q > end) return null;
  return buf.toString("latin1", p, q);
}

/** The value of "type" (first key) as a string, for rarely seen frames. */
export function frameType(buf: Buffer, start: number, end: number): string {
  // {"type":"xyz"
  const p = start + 9;
  const q = buf.indexOf(0x22, p);
  return q > p && q <= end ? buf.toString("latin1", p, q) : "";
}
