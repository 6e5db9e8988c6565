// The embedded default: one process, so a publish is delivered to this process's gateway at once,
// synchronously, in call order (the store's commit order, hence seq order per room).
import type { Broker, BusInbound, ControlEvent, JoinContext } from "./bus";

/** In-process broker: no subscriptions to track, never down. */
export class MemoryBroker implements Broker {
  readonly kind = "memory" as const;
  private inbound: BusInbound | null = null;

  async listen(inbound: BusInbound): Promise<void> {
    this.inbound = inbound;
  }
  publishFrame(topic: string, json: string, seq?: number): void {
    this.inbound?.frame(topic, json, seq);
  }
  publishMembership(tenantId: string, roomId: string, userId: string, joined: boolean, join?: JoinContext): void {
    this.inbound?.membership(tenantId, roomId, userId, joined, join);
  }
  async publishControl(_ev: ControlEvent): Promise<void> {
    // No other node to tell.
  }
  async subscribe(): Promise<void> {}
  unsubscribe(): void {}
  connected(): boolean {
    return true;
  }
  async close(): Promise<void> {
    this.inbound = null;
  }
}
