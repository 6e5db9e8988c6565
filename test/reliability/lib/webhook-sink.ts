// A webhook receiver for the reliability suites: Bun.serve on 127.0.0.1:0 that records every event,
// keyed by event_id (at-least-once: repeats are counted, not stored twice). Paths name the tenant.
import type { Server } from "bun";
import { serveHook, type HookRequest } from "../../delivery/receiver";

export type SinkEvent = HookRequest;

/** Records every POST; answers 200 (or what `status` says). */
export class WebhookSink {
  /** First copy of each event, by event_id. */
  readonly events = new Map<string, SinkEvent>();
  /** Every request, in arrival order (bounded). */
  readonly all: SinkEvent[] = [];
  repeats = 0;
  status: () => number = () => 200;
  private readonly server: Server<undefined>;

  constructor() {
    this.server = serveHook((ev) => {
      if (this.all.length < 200_000) this.all.push(ev);
      const id = ev.body?.event_id;
      if (typeof id === "string") {
        if (this.events.has(id)) this.repeats++;
        else this.events.set(id, ev);
      }
      return new Response("ok", { status: this.status() });
    });
  }

  /** The URL to configure as a tenant's webhook_url (`path` tells tenants apart). */
  url(path = "/hook"): string {
    return `http://127.0.0.1:${this.server.port}${path}`;
  }

  /** `message_id|recipient_id` of every message.new received. */
  messageKeys(): Set<string> {
    const out = new Set<string>();
    for (const e of this.events.values()) if (e.body?.event === "message.new") out.add(`${e.body.message?.message_id}|${e.body.recipient_id}`);
    return out;
  }

  stop(): void {
    this.server.stop(true);
  }
}
