// The cluster broker on Redis pub/sub. Two connections (Bun.RedisClient): a subscribed connection may
// only (un)subscribe and ping, so commands and publishes go over the other one. Each node subscribes
// to the topics it has sockets for (reference-counted) plus one control channel. A publish from one
// connection reaches each subscriber in publish order; across publishers, room message order is
// restored by the receiver (sequencer.ts). On a lost connection the node reports `down` (the gateway
// closes its sockets with 1012 and refuses upgrades) and reconnects with capped, jittered backoff.
import { RedisClient } from "bun";
import type { Logger } from "../log";
import type { Broker, BusInbound, ControlEvent, JoinContext } from "./bus";

export interface RedisBrokerOptions {
  url: string;
  nodeId: string;
  log: Logger;
  /** Channel prefix (tests isolate clusters sharing one Redis with it). */
  prefix?: string;
  /** Called on every state change (metrics, /health). */
  onState?: (up: boolean) => void;
}

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5000;

/** Opens a client that never queues offline nor reconnects by itself (this broker owns reconnects). */
export function redisClient(url: string): RedisClient {
  return new RedisClient(url, { autoReconnect: false, enableOfflineQueue: false, connectionTimeout: 2000 });
}

/** Redis pub/sub broker for several nodes. */
export class RedisBroker implements Broker {
  readonly kind = "redis" as const;
  private inbound: BusInbound | null = null;
  private cmd: RedisClient | null = null;
  private sub: RedisClient | null = null;
  private readonly refs = new Map<string, number>();
  private readonly prefix: string;
  private readonly ctl: string;
  private up = false;
  private closed = false;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly listener = (message: string, channel: string) => this.onMessage(message, channel);

  constructor(private readonly o: RedisBrokerOptions) {
    this.prefix = o.prefix ?? "chatapi:";
    this.ctl = `${this.prefix}ctl`;
  }

  async listen(inbound: BusInbound): Promise<void> {
    this.inbound = inbound;
    // A node may start while Redis is away: REST works, sockets wait for `up`.
    await this.connect();
  }

  /** The command connection while up (rate limits, presence, locks share it), else null. */
  commands(): RedisClient | null {
    return this.up ? this.cmd : null;
  }

  connected(): boolean {
    return this.up;
  }

  publishFrame(topic: string, json: string, seq?: number): void {
    void this.publish(this.prefix + topic, `F${seq ?? ""}|${json}`);
  }

  publishMembership(tenantId: string, roomId: string, userId: string, joined: boolean, join?: JoinContext): void {
    void this.publish(`${this.prefix}u:${tenantId}:${userId}`, `M${JSON.stringify([tenantId, roomId, userId, joined, join ?? null])}`);
  }

  publishControl(ev: ControlEvent): Promise<void> {
    return this.publish(this.ctl, `C${JSON.stringify({ ...ev, origin: this.o.nodeId })}`);
  }

  async subscribe(topic: string): Promise<void> {
    const n = this.refs.get(topic) ?? 0;
    this.refs.set(topic, n + 1);
    if (n > 0) return;
    const sub = this.up ? this.sub : null;
    if (!sub) {
      this.refs.delete(topic);
      throw new Error("bus unavailable");
    }
    try {
      await sub.subscribe(this.prefix + topic, this.listener);
    } catch (err) {
      this.release(topic);
      throw err;
    }
  }

  unsubscribe(topic: string): void {
    this.release(topic);
  }

  private release(topic: string): void {
    const n = this.refs.get(topic) ?? 0;
    if (n <= 1) {
      this.refs.delete(topic);
      if (n === 1 && this.up) this.sub?.unsubscribe(this.prefix + topic, this.listener).catch(() => {});
    } else this.refs.set(topic, n - 1);
  }

  /** How many topics this node receives (tests, metrics). */
  get topicCount(): number {
    return this.refs.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.drop();
  }

  /** Resolves once Redis took the message (it is then on its way to every subscribed node). */
  private publish(channel: string, payload: string): Promise<void> {
    // Nothing is queued while down: sockets are closed meanwhile and replay once back.
    const cmd = this.up ? this.cmd : null;
    if (!cmd) return Promise.resolve();
    return cmd.publish(channel, payload).then(
      () => {},
      (err) => this.lost(err),
    );
  }

  private onMessage(message: string, channel: string): void {
    const inbound = this.inbound;
    if (!inbound || !channel.startsWith(this.prefix)) return;
    const kind = message.charCodeAt(0);
    try {
      if (kind === 70 /* F */) {
        const bar = message.indexOf("|");
        const seq = bar > 1 ? Number(message.slice(1, bar)) : undefined;
        inbound.frame(channel.slice(this.prefix.length), message.slice(bar + 1), seq);
      } else if (kind === 77 /* M */) {
        const [t, r, u, joined, join] = JSON.parse(message.slice(1)) as [string, string, string, boolean, JoinContext | null];
        inbound.membership(t, r, u, joined, join ?? undefined);
      } else if (kind === 67 /* C */) {
        const ev = JSON.parse(message.slice(1)) as ControlEvent & { origin: string };
        if (ev.origin !== this.o.nodeId) inbound.control(ev);
      }
    } catch (err) {
      this.o.log.error({ err: String(err), channel }, "bus: inbound message failed");
    }
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const cmd = redisClient(this.o.url);
    const sub = redisClient(this.o.url);
    try {
      await cmd.connect();
      await sub.connect();
      await sub.subscribe(this.ctl, this.listener);
    } catch (err) {
      cmd.close();
      sub.close();
      this.o.log.warn({ err: String(err), attempt: this.attempt }, "bus: redis unreachable; retrying");
      this.schedule();
      return;
    }
    if (this.closed) {
      cmd.close();
      sub.close();
      return;
    }
    this.cmd = cmd;
    this.sub = sub;
    cmd.onclose = (err) => this.lost(err);
    sub.onclose = (err) => this.lost(err);
    this.attempt = 0;
    this.up = true;
    // Sockets were closed while down, so normally nothing is referenced; resubscribe whatever is.
    for (const topic of this.refs.keys()) sub.subscribe(this.prefix + topic, this.listener).catch((err) => this.lost(err));
    this.o.log.info({ node_id: this.o.nodeId }, "bus: connected to redis");
    this.o.onState?.(true);
    this.inbound?.up();
  }

  private lost(err: unknown): void {
    if (!this.up) return;
    this.up = false;
    this.drop();
    this.o.log.error({ err: String(err) }, "bus: redis connection lost; closing sockets and reconnecting");
    this.o.onState?.(false);
    this.inbound?.down("redis connection lost");
    this.schedule();
  }

  private drop(): void {
    this.up = false;
    for (const c of [this.cmd, this.sub]) {
      if (!c) continue;
      c.onclose = null;
      try {
        c.close();
      } catch {}
    }
    this.cmd = null;
    this.sub = null;
  }

  private schedule(): void {
    if (this.closed || this.timer) return;
    const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt++);
    // Full jitter: nodes that lost Redis together do not reconnect in lockstep.
    const delay = Math.floor(cap / 2 + Math.random() * (cap / 2));
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, delay);
    this.timer.unref?.();
  }
}
