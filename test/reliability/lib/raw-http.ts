// Raw HTTP/1.1 over TCP, for inputs fetch() refuses to send: control bytes and invalid UTF-8 in header
// values, unnormalized paths (../), bodies shorter than their Content-Length.

export interface RawResult {
  /** 0 when the server closed without answering (or the timeout passed). */
  status: number;
  head: string;
  body: string;
  timedOut: boolean;
}

/**
 * Sends `head` (request line + headers, without the blank line) and `body`; reads until the server
 * closes or `timeoutMs` passes. `declaredLength` overrides Content-Length (a truncated body when larger).
 */
export async function rawRequest(host: string, port: number, head: Uint8Array | string, body: Uint8Array = new Uint8Array(), opts: { declaredLength?: number; timeoutMs?: number; halfClose?: boolean } = {}): Promise<RawResult> {
  const chunks: Uint8Array[] = [];
  let done!: (timedOut: boolean) => void;
  const finished = new Promise<boolean>((r) => (done = r));
  const socket = await Bun.connect({
    hostname: host,
    port,
    socket: {
      data(_s, chunk) {
        chunks.push(new Uint8Array(chunk));
      },
      close() {
        done(false);
      },
      error() {
        done(false);
      },
      connectError() {
        done(false);
      },
    },
  });
  const headBytes = typeof head === "string" ? Buffer.from(head, "latin1") : head;
  const len = opts.declaredLength ?? body.byteLength;
  const tail = Buffer.from(`\r\nContent-Length: ${len}\r\nConnection: close\r\n\r\n`, "latin1");
  const all = new Uint8Array(headBytes.byteLength + tail.byteLength + body.byteLength);
  all.set(headBytes, 0);
  all.set(tail, headBytes.byteLength);
  all.set(body, headBytes.byteLength + tail.byteLength);
  socket.write(all);
  socket.flush();
  if (opts.halfClose) socket.shutdown(true);
  const timer = setTimeout(() => done(true), opts.timeoutMs ?? 5000);
  const timedOut = await finished;
  clearTimeout(timer);
  socket.end();
  const text = Buffer.concat(chunks).toString("latin1");
  const i = text.indexOf("\r\n\r\n");
  const headText = i >= 0 ? text.slice(0, i) : text;
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(headText)?.[1] ?? 0);
  return { status, head: headText, body: i >= 0 ? text.slice(i + 4) : "", timedOut: timedOut && status === 0 };
}

/** Concatenates latin1 strings and raw byte arrays into one buffer. */
export function bytes(...parts: (string | number[] | Uint8Array)[]): Uint8Array {
  return Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : Buffer.from(p as any))));
}
