// A real webhook receiver for delivery tests: Bun.serve on 127.0.0.1:0 recording every request.
import { createHmac } from "node:crypto";
import type { Server } from "bun";
import { waitFor } from "../helpers";

/** A webhook request as a test endpoint sees it (body parsed as JSON when it is JSON). */
export interface HookRequest {
  raw: string;
  body: any;
  headers: Headers;
  path: string;
}

/** A Bun.serve on 127.0.0.1:0 that parses each request body and hands it to `onRequest`. */
export function serveHook(onRequest: (r: HookRequest) => Response | Promise<Response>): Server<undefined> {
  return Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    fetch: async (req) => {
      const raw = await req.text();
      let body: any = null;
      try {
        body = JSON.parse(raw);
      } catch {
        body = null;
      }
      return onRequest({ raw, body, headers: req.headers, path: new URL(req.url).pathname });
    },
  });
}

/** One request as the receiver saw it. */
export interface Received extends HookRequest {
  /** performance.now() at arrival */
  at: number;
}

/** What to answer: a status, a status after a delay, or "hang" (never answer until released). */
export type Reply = number | "hang" | { status: number; delayMs: number };

/** A recording webhook endpoint; `reply` decides each answer (default 200). */
export class Receiver {
  readonly received: Received[] = [];
  reply: (r: Received, index: number) => Reply = () => 200;
  private readonly server: Server<undefined>;
  private readonly hanging = new Set<() => void>();

  constructor(reply?: (r: Received, index: number) => Reply) {
    if (reply) this.reply = reply;
    this.server = serveHook(async (req) => {
      const r: Received = { ...req, at: performance.now() };
      const index = this.received.length;
      this.received.push(r);
      const answer = this.reply(r, index);
      if (answer === "hang") {
        await new Promise<void>((resolve) => this.hanging.add(resolve));
        return new Response("released", { status: 503 });
      }
      if (typeof answer === "object") {
        await Bun.sleep(answer.delayMs);
        return new Response("late", { status: answer.status });
      }
      return new Response(answer >= 200 && answer < 300 ? "ok" : "nope", { status: answer });
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.server.port}/hook`;
  }

  /** Requests whose body has this event_id. */
  byEvent(eventId: string): Received[] {
    return this.received.filter((r) => r.body?.event_id === eventId);
  }

  /** Waits until `n` requests (optionally matching `pred`) have arrived. */
  async waitForCount(n: number, timeoutMs = 5000, pred: (r: Received) => boolean = () => true): Promise<Received[]> {
    await waitFor(() => this.received.filter(pred).length >= n, timeoutMs, `${n} webhook requests`);
    return this.received.filter(pred);
  }

  /** Answers every hanging request (503). */
  release(): void {
    for (const r of this.hanging) r();
    this.hanging.clear();
  }

  hangingCount(): number {
    return this.hanging.size;
  }

  stop(): void {
    this.release();
    this.server.stop(true);
  }
}

/** The signature a receiver computes to verify a webhook. */
export function expectedSignature(secret: string, r: Received): string {
  const ts = r.headers.get("x-chatapi-timestamp") ?? "";
  return `sha256=${createHmac("sha256", secret).update(`${ts}.${r.raw}`).digest("hex")}`;
}
