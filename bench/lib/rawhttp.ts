// A minimal HTTP/1.1 keep-alive client over raw TCP for the load generator: one request in flight per
// connection, prebuilt request bytes, status + Content-Length (or chunked) parsing, body kept only on
// request. Cheaper per request than fetch, so the load generator is not the bottleneck.
import type { Socket } from "bun";

export interface HttpResult {
  status: number;
  /** Body bytes (only when asked for). */
  body: Buffer | null;
  bodyLen: number;
}

interface Pending {
  resolve: (r: HttpResult) => void;
  reject: (e: Error) => void;
  wantBody: boolean;
}

const handlers = {
  open(s: Socket<HttpConn>) {
    s.data.onOpen(s);
  },
  data(s: Socket<HttpConn>, chunk: Buffer) {
    s.data.onData(chunk);
  },
  drain(s: Socket<HttpConn>) {
    s.data.onDrain();
  },
  close(s: Socket<HttpConn>) {
    s.data.onClose(new Error("connection closed"));
  },
  error(s: Socket<HttpConn>, e: Error) {
    s.data.onClose(e);
  },
  connectError(s: Socket<HttpConn>, e: Error) {
    s.data.onClose(e);
  },
};

/** One keep-alive connection. */
export class HttpConn {
  private sock: Socket<HttpConn> | null = null;
  private opened: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private pending: Pending | null = null;
  private out: Buffer | null = null;
  private chunks: Buffer[] = [];
  private have = 0;
  private headLen = -1;
  private status = 0;
  private contentLength = -1;
  private chunked = false;
  closed = false;

  constructor(
    readonly host: string,
    readonly port: number,
  ) {}

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.opened = { resolve, reject };
      Bun.connect<HttpConn>({ hostname: this.host, port: this.port, socket: handlers as any, data: this }).catch((e) => this.onClose(e));
    });
  }

  onOpen(s: Socket<HttpConn>): void {
    this.sock = s;
    s.setNoDelay?.(true);
    this.opened?.resolve();
    this.opened = null;
  }

  onDrain(): void {
    if (!this.out || !this.sock) return;
    const n = this.sock.write(this.out);
    this.out = n >= this.out.length ? null : this.out.subarray(Math.max(0, n));
  }

  onClose(e: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.opened?.reject(e);
    this.opened = null;
    const p = this.pending;
    this.pending = null;
    p?.reject(e);
  }

  close(): void {
    this.sock?.end();
    this.closed = true;
  }

  /** Sends one request (full bytes) and resolves with the response. One at a time. */
  request(raw: Buffer, wantBody = false): Promise<HttpResult> {
    if (this.pending) return Promise.reject(new Error("request already in flight"));
    if (this.closed || !this.sock) return Promise.reject(new Error("connection closed"));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, wantBody };
      this.chunks = [];
      this.have = 0;
      this.headLen = -1;
      const n = this.sock!.write(raw);
      if (n < raw.length) this.out = raw.subarray(Math.max(0, n));
    });
  }

  onData(chunk: Buffer): void {
    if (!this.pending) return;
    this.chunks.push(chunk);
    this.have += chunk.length;
    if (this.headLen < 0) {
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      this.chunks = [all];
      const idx = all.indexOf("\r\n\r\n");
      if (idx < 0) return;
      this.headLen = idx + 4;
      const head = all.toString("latin1", 0, idx).toLowerCase();
      this.status = Number(head.slice(9, 12));
      const m = /\r\ncontent-length:\s*(\d+)/.exec(head);
      this.contentLength = m ? Number(m[1]) : -1;
      this.chunked = this.contentLength < 0 && /\r\ntransfer-encoding:\s*chunked/.test(head);
      if (!this.chunked && this.contentLength < 0) this.contentLength = 0;
    }
    if (this.chunked) {
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      this.chunks = [all];
      const body = parseChunked(all, this.headLen);
      if (body) this.done(body.body, body.len);
      return;
    }
    if (this.have - this.headLen >= this.contentLength) {
      let body: Buffer | null = null;
      if (this.pending.wantBody) {
        const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
        body = Buffer.from(all.subarray(this.headLen, this.headLen + this.contentLength));
      }
      this.done(body, this.contentLength);
    }
  }

  private done(body: Buffer | null, len: number): void {
    const p = this.pending!;
    this.pending = null;
    this.chunks = [];
    p.resolve({ status: this.status, body: p.wantBody ? body : null, bodyLen: len });
  }
}

function parseChunked(buf: Buffer, from: number): { body: Buffer; len: number } | null {
  const parts: Buffer[] = [];
  let p = from;
  let total = 0;
  for (;;) {
    const eol = buf.indexOf("\r\n", p);
    if (eol < 0) return null;
    const size = parseInt(buf.toString("latin1", p, eol), 16);
    if (!Number.isFinite(size)) return null;
    if (size === 0) {
      if (buf.length < eol + 4) return null;
      return { body: Buffer.concat(parts), len: total };
    }
    if (buf.length < eol + 2 + size + 2) return null;
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    total += size;
    p = eol + 2 + size + 2;
  }
}

/** Builds the bytes of one request. */
export function buildRequest(method: string, host: string, path: string, headers: Record<string, string>, body?: string): Buffer {
  let s = `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\n`;
  for (const [k, v] of Object.entries(headers)) s += `${k}: ${v}\r\n`;
  if (body !== undefined) s += `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
  s += "\r\n";
  if (body !== undefined) s += body;
  return Buffer.from(s);
}
