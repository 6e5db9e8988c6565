// A Bus that records what the domain published (tests).
import type { Bus, Frame } from "./bus";

/** A Bus event as recorded by RecordingBus. */
export type BusEvent =
  | { to: "room"; tenantId: string; roomId: string; frame: Frame }
  | { to: "user"; tenantId: string; userId: string; frame: Frame }
  | { to: "membership"; tenantId: string; roomId: string; userId: string; joined: boolean };

/** Records every call in order. */
export class RecordingBus implements Bus {
  readonly events: BusEvent[] = [];
  toRoom(tenantId: string, roomId: string, frame: Frame): void {
    this.events.push({ to: "room", tenantId, roomId, frame });
  }
  toUser(tenantId: string, userId: string, frame: Frame): void {
    this.events.push({ to: "user", tenantId, userId, frame });
  }
  membership(tenantId: string, roomId: string, userId: string, joined: boolean, _join?: unknown): void {
    this.events.push({ to: "membership", tenantId, roomId, userId, joined });
  }
}
