// The publish interface between the domain and live delivery. Called only after a commit.
// Today Bun's server.publish (src/ws/); later Redis for several instances: only this interface is shared.

/** A server frame (API.md section 4): flat, with `type`. */
export type Frame = { type: string } & Record<string, unknown>;

/** Fan-out of committed state changes to live sockets. Implementations must not throw. */
export interface Bus {
  /** Every socket subscribed to the room (its online members). */
  toRoom(tenantId: string, roomId: string, frame: Frame): void;
  /** Every socket of one user. */
  toUser(tenantId: string, userId: string, frame: Frame): void;
  /** The user's live sockets join (or leave) the room's topic at once. */
  membership(tenantId: string, roomId: string, userId: string, joined: boolean): void;
}

/** Who has an open socket right now (decides webhooks for offline members). */
export interface OnlineDirectory {
  isOnline(tenantId: string, userId: string): boolean;
}

/** A Bus event as recorded by MemoryBus. */
export type BusEvent =
  | { to: "room"; tenantId: string; roomId: string; frame: Frame }
  | { to: "user"; tenantId: string; userId: string; frame: Frame }
  | { to: "membership"; tenantId: string; roomId: string; userId: string; joined: boolean };

/** An in-memory Bus that records events; used by tests and when no gateway is attached. */
export class MemoryBus implements Bus {
  readonly events: BusEvent[] = [];
  toRoom(tenantId: string, roomId: string, frame: Frame): void {
    this.events.push({ to: "room", tenantId, roomId, frame });
  }
  toUser(tenantId: string, userId: string, frame: Frame): void {
    this.events.push({ to: "user", tenantId, userId, frame });
  }
  membership(tenantId: string, roomId: string, userId: string, joined: boolean): void {
    this.events.push({ to: "membership", tenantId, roomId, userId, joined });
  }
}

/** Forwards to a target set later (the gateway is built after the services). */
export class DeferredBus implements Bus {
  private targets: Bus[] = [];
  attach(bus: Bus): void {
    this.targets.push(bus);
  }
  toRoom(tenantId: string, roomId: string, frame: Frame): void {
    for (const b of this.targets) b.toRoom(tenantId, roomId, frame);
  }
  toUser(tenantId: string, userId: string, frame: Frame): void {
    for (const b of this.targets) b.toUser(tenantId, userId, frame);
  }
  membership(tenantId: string, roomId: string, userId: string, joined: boolean): void {
    for (const b of this.targets) b.membership(tenantId, roomId, userId, joined);
  }
}
