// WebSocket helpers of the reliability suites: a recording client (SocketFrames) and a hand-made
// connection over raw TCP whose reading can be paused (a consumer that stops reading).
import type { Socket } from "bun";

/** A WebSocket that records every frame; `request` correlates a reply or error by id. */
export class SocketFrames {
  readonly frames: any[] = [];
  closed: { code: number; reason: string } | null = null;
  private waiters = new Set<() => void>();
  private constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (e) => {
      this.frames.push(JSON.parse(String(e.data)));
      for (const w of [...this.waiters]) w();
    });
    ws.addEventListener("close", (e) => {
      this.closed = { code: e.code, reason: e.reason };
      for (const w of [...this.waiters]) w();
    });
  }

  /** Opens with handshake headers and waits for sync.complete (the connect replay). */
  static async open(url: string, headers: Record<string, string>, timeoutMs = 10_000): Promise<SocketFrames> {
    const s = new SocketFrames(new WebSocket(url, { headers } as any));
    await s.waitFor((f) => f.type === "sync.complete", timeoutMs);
    return s;
  }

  waitFor(pred: (f: any) => boolean, timeoutMs = 5000): Promise<any> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.frames.find(pred);
        if (hit) return done(() => resolve(hit));
        if (this.closed) done(() => reject(new Error(`socket closed ${this.closed!.code} ${this.closed!.reason}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`timed out after ${timeoutMs} ms`))), timeoutMs);
      const done = (f: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        f();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Sends a frame with an `id` and resolves with the reply or error carrying it. */
  request(frame: { type: string; id: string; data?: unknown }, timeoutMs = 5000): Promise<any> {
    this.ws.send(JSON.stringify(frame));
    return this.waitFor((f) => (f.type === "reply" || f.type === "error") && f.id === frame.id, timeoutMs);
  }

  messages(roomId: string): any[] {
    return this.frames.filter((f) => f.type === "message" && f.room_id === roomId);
  }

  close(): void {
    if (this.ws.readyState < 2) this.ws.close();
  }
}

/** A raw WebSocket connection: `pause()` stops reading (the kernel buffers fill), `closeCode()` parses the stream. */
export interface RawWs {
  socket: Socket<undefined>;
  pause(): void;
  resume(): void;
  /** Resolves with the code of the server's close frame once the stream ends (0 if there was none). */
  closeCode(timeoutMs: number): Promise<number>;
}

/** Performs the upgrade by hand; resolves once the 101 head has arrived. */
export async function readServerFrames(httpUrl: string, headers: Record<string, string>): Promise<RawWs> {
  const u = new URL(httpUrl);
  let buf = Buffer.alloc(0);
  let ended!: () => void;
  const end = new Promise<void>((r) => (ended = r));
  let headSeen!: () => void;
  const head = new Promise<void>((r) => (headSeen = r));
  const socket = await Bun.connect({
    hostname: u.hostname,
    port: Number(u.port),
    socket: {
      data(_s, chunk) {
        buf = Buffer.concat([buf, Buffer.from(chunk)]);
        if (buf.includes("\r\n\r\n")) headSeen();
      },
      close: () => (ended(), headSeen()),
      error: () => (ended(), headSeen()),
    },
  });
  const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  socket.write(`GET /ws HTTP/1.1\r\nHost: ${u.host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n${extra}\r\n`);
  await head;
  if (!/^HTTP\/1\.1 101/.test(buf.toString("latin1", 0, 20))) throw new Error(`upgrade refused: ${buf.toString("latin1", 0, 200)}`);
  return {
    socket,
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    async closeCode(timeoutMs) {
      await Promise.race([end, Bun.sleep(timeoutMs)]);
      let i = buf.indexOf("\r\n\r\n") + 4;
      let code = 0;
      while (i + 2 <= buf.length) {
        const op = buf[i]! & 0x0f;
        let len = buf[i + 1]! & 0x7f;
        let at = i + 2;
        if (len === 126) {
          len = buf.readUInt16BE(at);
          at += 2;
        } else if (len === 127) {
          len = Number(buf.readBigUInt64BE(at));
          at += 8;
        }
        if (at + len > buf.length) break;
        if (op === 8) code = len >= 2 ? buf.readUInt16BE(at) : 1005;
        i = at + len;
      }
      socket.end();
      return code;
    },
  };
}
