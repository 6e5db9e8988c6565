// In-flight and queued requests of ChatClient: ids, timeouts, reply correlation, resend after a
// reconnect. Knows nothing about sockets: the client hands it a `send` function.
import { ChatClientError } from "./errors.ts";
import type { ErrorFrame, ReplyFrame } from "./types.ts";

interface Entry {
  text: string;
  sent: boolean;
  // Safe to send again after a reconnect: everything except a send without client_msg_id.
  resendable: boolean;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** Pending requests in call order; each settles exactly once (reply, error, timeout or reject). */
export class RequestTable {
  private readonly entries = new Map<string, Entry>();
  private counter = 0;

  /** Registers a request (unsent) and returns its promise; the timeout runs from now. */
  add(type: string, data: unknown, timeoutMs: number): Promise<unknown> {
    const id = `r${++this.counter}`;
    const text = JSON.stringify(data === undefined ? { type, id } : { type, id, data });
    const clientMsgId = (data as { client_msg_id?: unknown } | undefined)?.client_msg_id;
    const resendable = type !== "send_message" || clientMsgId != null;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.entries.delete(id);
        reject(new ChatClientError("timeout", `no reply to ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.entries.set(id, { text, sent: false, resendable, resolve, reject, timer });
    });
  }

  /** Sends every unsent request in call order; stops at the first `send` that throws. */
  flush(send: (text: string) => void): void {
    for (const entry of this.entries.values()) {
      if (entry.sent) continue;
      try {
        send(entry.text);
      } catch {
        return; // the socket is going away; the rest goes out after the reconnect
      }
      entry.sent = true;
    }
  }

  /** Settles the request a `reply` or `error` frame answers; false if no pending request has its id. */
  settle(frame: ReplyFrame | ErrorFrame): boolean {
    const id = frame.id;
    const entry = typeof id === "string" ? this.entries.get(id) : undefined;
    if (entry === undefined || id === undefined) return false;
    this.entries.delete(id);
    clearTimeout(entry.timer);
    if (frame.type === "reply") entry.resolve(frame.data);
    else entry.reject(ChatClientError.fromFrame(frame));
    return true;
  }

  /**
   * The socket died: requests it carried get no reply. With a reconnect ahead, resendable ones go
   * back to the queue (keeping their place and timeout); the others reject with `error`.
   */
  socketLost(willReconnect: boolean, error: ChatClientError): void {
    for (const [id, entry] of this.entries) {
      if (!entry.sent) continue;
      if (willReconnect && entry.resendable) {
        entry.sent = false;
        continue;
      }
      this.entries.delete(id);
      clearTimeout(entry.timer);
      entry.reject(error);
    }
  }

  /** Rejects every request, sent or queued. */
  rejectAll(error: ChatClientError): void {
    for (const entry of this.entries.values()) {
      clearTimeout(entry.timer);
      entry.reject(error);
    }
    this.entries.clear();
  }
}
