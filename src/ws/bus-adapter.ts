// The bus adapter of a node: what the broker brings in (published by this node or any other) goes to
// the local socket hub (gateway.ts). It keeps one broker subscription per topic while a local socket
// needs it, restores per-room seq order in cluster mode (sequencer.ts), applies membership changes to
// local sockets, and reports the bus going down (every socket closed with 1012) and coming back.
import type { Broker, BusInbound, ControlEvent, JoinContext } from "../bus/bus";
import { RoomSequencer } from "../bus/sequencer";
import type { AttachmentUrls } from "../blobs/url-signer";
import { toMessage } from "../chat/mappers";
import { WS_CLOSE } from "../errors";
import type { Logger } from "../log";
import type { MessageReads } from "../storage/message-store";
import type { RoomReads } from "../storage/room-store";
import type { ClusterPresence } from "./cluster-presence";
import type { ConnectionRegistry, Socket } from "./registry";
import { sendText } from "./send";
import { roomTopic } from "./topics";

/** What the adapter needs from the local socket hub. */
export interface LocalHub {
  readonly registry: ConnectionRegistry;
  /** The socket's connect replay has not reached this topic yet (it subscribes it when it does). */
  isReplaying(ws: Socket, topic: string): boolean;
  /** Records a membership change for the user's replaying sockets. */
  holdMembership(tenantId: string, userId: string, roomId: string, joined: boolean): void;
  /** One local publish of a frame to the topic's sockets (and to replaying sockets' held frames). */
  publishLocal(topic: string, json: string): void;
}

export interface BusAdapterDeps {
  broker: Broker;
  log: Logger;
  roomStore: RoomReads;
  /** Cluster mode: presence over all nodes, and the message reads the sequencer fills gaps with. */
  cluster?: { presence: ClusterPresence; messages: MessageReads; gapMs?: number; urls?: AttachmentUrls };
  /** Another node changed something this node caches. */
  onControl?: (ev: ControlEvent) => void;
}

/** The broker's inbound handler for one node. */
export class BusAdapter implements BusInbound {
  private readonly topicRefs = new Map<string, number>();
  private readonly sequencer: RoomSequencer | null = null;
  private busDown = false;

  /** `hub`: the gateway, which builds its adapter in its own constructor. */
  constructor(
    private readonly d: BusAdapterDeps,
    private readonly hub: LocalHub,
  ) {
    const c = d.cluster;
    if (!c) return;
    this.sequencer = new RoomSequencer(
      {
        lastSeq: async (topic) => {
          const [, t, r] = topic.split(":") as [string, string, string];
          return (await d.roomStore.get(t, r))?.last_seq ?? 0;
        },
        range: async (topic, from, to) => {
          const [, t, r] = topic.split(":") as [string, string, string];
          const rows = await c.messages.after(t, r, from - 1, to + 1, to - from + 1);
          return rows.map((m) => ({ seq: m.seq, json: JSON.stringify({ type: "message", ...toMessage(m, c.urls) }) }));
        },
      },
      (topic, json) => this.hub.publishLocal(topic, json),
      c.gapMs ?? 250,
      (err) => d.log.warn({ err: String(err) }, "bus: reading missing seqs failed"),
    );
  }

  /** Upgrades are accepted only while the bus is up: a socket must not silently miss live frames. */
  available(): boolean {
    return !this.busDown && this.d.broker.connected();
  }

  frame(topic: string, json: string, seq?: number): void {
    if (seq !== undefined && this.sequencer) this.sequencer.accept(topic, seq, json);
    else this.hub.publishLocal(topic, json);
  }

  membership(tenantId: string, roomId: string, userId: string, joined: boolean, join?: JoinContext): void {
    const hub = this.hub;
    const topic = roomTopic(tenantId, roomId);
    // Cluster: a room this node does not receive yet is subscribed now; what is published meanwhile
    // (the member.joined frame, messages after the join) would pass it by, so the join's own frame
    // goes to the new member's sockets directly and the sequencer starts at the join's seq (later
    // messages that went by are read back from the store).
    const cold = joined && this.sequencer !== null && !this.topicRefs.has(topic);
    const start = cold ? join?.lastSeq : undefined;
    // Sockets still replaying subscribe a room when it is replayed; they get the change then, in order.
    hub.holdMembership(tenantId, userId, roomId, joined);
    for (const ws of hub.registry.sockets(tenantId, userId)) {
      if (hub.isReplaying(ws, topic)) {
        if (joined) void this.ref(ws, topic, start).catch(() => {});
        continue;
      }
      if (joined) {
        ws.subscribe(topic);
        if (cold && join?.frame) sendText(ws, JSON.stringify(join.frame));
        void this.ref(ws, topic, start).catch(() => {});
      } else {
        ws.unsubscribe(topic);
        this.unref(ws, topic);
      }
    }
  }

  control(ev: ControlEvent): void {
    if (ev.kind === "presence") this.d.cluster?.presence.heard(ev.tenantId, ev.userId, ev.online);
    this.d.onControl?.(ev);
  }

  down(reason: string): void {
    this.busDown = true;
    this.sequencer?.clear();
    this.d.cluster?.presence.reset();
    // Every socket would silently miss live frames: closed with 1012, clients reconnect and replay.
    for (const ws of [...this.hub.registry.all()]) ws.close(WS_CLOSE.serviceRestart, `bus unavailable (${reason}): reconnect`);
  }

  up(): void {
    this.busDown = false;
    this.d.cluster?.presence.load().catch((err) => this.d.log.warn({ err: String(err) }, "presence: loading who is online failed"));
  }

  /**
   * Cluster mode: resolves once this node has delivered the room topic's frames up to `seq` (see
   * RoomSequencer.delivered), waiting at most a few gap intervals; at once on one node.
   */
  delivered(topic: string, seq: number): Promise<void> {
    return this.sequencer ? this.sequencer.delivered(topic, seq, 4 * (this.d.cluster?.gapMs ?? 250)) : Promise.resolve();
  }

  /** Takes one reference of `ws` on the broker topic; the first on this node subscribes (and positions the sequencer). */
  async ref(ws: Socket, topic: string, startAfterSeq?: number): Promise<void> {
    const mine = (ws.data.busTopics ??= new Set());
    if (mine.has(topic)) return;
    mine.add(topic);
    const n = this.topicRefs.get(topic) ?? 0;
    this.topicRefs.set(topic, n + 1);
    if (n > 0) return;
    try {
      await this.d.broker.subscribe(topic);
      if (this.sequencer && topic.startsWith("r:")) await this.sequencer.track(topic, startAfterSeq);
    } catch (err) {
      this.unref(ws, topic);
      throw err;
    }
  }

  /** Drops one reference of `ws`; the last on this node unsubscribes. */
  unref(ws: Socket, topic: string): void {
    if (!ws.data.busTopics?.delete(topic)) return;
    const n = this.topicRefs.get(topic) ?? 0;
    if (n > 1) {
      this.topicRefs.set(topic, n - 1);
      return;
    }
    this.topicRefs.delete(topic);
    this.d.broker.unsubscribe(topic);
    this.sequencer?.forget(topic);
  }

  /** Drops every reference of a closed socket. */
  release(ws: Socket): void {
    for (const t of [...(ws.data.busTopics ?? [])]) this.unref(ws, t);
  }
}
