// The broker between nodes (modelled on centrifuge's): the domain publishes through a Bus after each
// commit; a Broker carries it to every node that has sockets for the topic (one process: memory.ts;
// several: redis.ts); each node's gateway delivers what arrives to its local sockets.

/** A server frame (docs/reference/websocket.md): flat, with `type`. */
export type Frame = { type: string } & Record<string, unknown>;

/**
 * What a join carries so that a node which was not yet receiving the room misses nothing while it
 * subscribes: the room's last_seq at the join's commit (later messages are read back if they went
 * by) and the member.joined frame for the new member's own sockets.
 */
export interface JoinContext {
  lastSeq: number;
  frame?: Frame;
}

/** Fan-out of committed state changes to live sockets, on every node. Implementations must not throw. */
export interface Bus {
  /** Every socket subscribed to the room (its online members), on every node. */
  toRoom(tenantId: string, roomId: string, frame: Frame): void;
  /** Every socket of one user, on every node. */
  toUser(tenantId: string, userId: string, frame: Frame): void;
  /** The user's live sockets (on every node) join (or leave) the room's topic at once. */
  membership(tenantId: string, roomId: string, userId: string, joined: boolean, join?: JoinContext): void;
}

/** Who has an open socket right now, on any node (decides webhooks for offline members). */
export interface OnlineDirectory {
  isOnline(tenantId: string, userId: string): boolean;
}

/** Cache invalidations and cluster state changes every node hears. */
export type ControlEvent =
  | { kind: "tenant"; tenantId: string; jwtKeysChanged?: boolean }
  | { kind: "room"; tenantId: string; roomId: string }
  | { kind: "presence"; tenantId: string; userId: string; online: boolean };

/** What a node does with what the broker brings in (the gateway implements it). */
export interface BusInbound {
  /** A frame for the local topic `topic` (r:tenant:room or u:tenant:user), already JSON; `seq` for room `message` frames. */
  frame(topic: string, json: string, seq?: number): void;
  membership(tenantId: string, roomId: string, userId: string, joined: boolean, join?: JoinContext): void;
  control(ev: ControlEvent): void;
  /** The broker lost its connection: live frames may be missed until `up`. */
  down(reason: string): void;
  up(): void;
}

/** The transport. Topics are the gateway's local names (see src/ws/topics.ts). */
export interface Broker {
  readonly kind: "memory" | "redis";
  /** Sets the one inbound handler (this node's gateway) and connects. */
  listen(inbound: BusInbound): Promise<void>;
  /** Publishes a frame; every node subscribed to the topic receives it, in publish order per publisher. */
  publishFrame(topic: string, json: string, seq?: number): void;
  /** A membership change, for the nodes subscribed to the user's topic. */
  publishMembership(tenantId: string, roomId: string, userId: string, joined: boolean, join?: JoinContext): void;
  /** To every other node (this node applied the change itself); resolves once the broker took it. */
  publishControl(ev: ControlEvent): Promise<void>;
  /** Starts receiving a topic (reference-counted); resolves once the broker confirmed it. */
  subscribe(topic: string): Promise<void>;
  /** Drops one reference to the topic. */
  unsubscribe(topic: string): void;
  /** Up: publishes and subscriptions work. */
  connected(): boolean;
  close(): Promise<void>;
}
