// The domain's Bus over a Broker: frames are serialised once and published, never delivered to local
// sockets directly, so every node (this one too) sees one order.
import { roomTopic, userTopic } from "../ws/topics";
import type { Broker, Bus, Frame, JoinContext } from "./bus";

/** Publishes committed changes through the broker; observers (tests) see each call. */
export class BrokerBus implements Bus {
  private readonly observers: Bus[] = [];

  constructor(private readonly broker: Broker) {}

  /** Reports every later call to `observer` too (tests record events with it). */
  tap(observer: Bus): void {
    this.observers.push(observer);
  }

  toRoom(tenantId: string, roomId: string, frame: Frame): void {
    // Room `message` frames carry their seq outside the JSON: receivers restore per-room order with it.
    const seq = frame.type === "message" && typeof frame.seq === "number" ? frame.seq : undefined;
    this.broker.publishFrame(roomTopic(tenantId, roomId), JSON.stringify(frame), seq);
    for (const o of this.observers) o.toRoom(tenantId, roomId, frame);
  }

  toUser(tenantId: string, userId: string, frame: Frame): void {
    this.broker.publishFrame(userTopic(tenantId, userId), JSON.stringify(frame));
    for (const o of this.observers) o.toUser(tenantId, userId, frame);
  }

  membership(tenantId: string, roomId: string, userId: string, joined: boolean, join?: JoinContext): void {
    this.broker.publishMembership(tenantId, roomId, userId, joined, join);
    for (const o of this.observers) o.membership(tenantId, roomId, userId, joined);
  }
}
