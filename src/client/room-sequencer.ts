// Per-room ordering for the client: drops duplicate `message` frames and fills seq gaps with `sync`
// pages, so the app sees every room's messages once and in seq order (docs/reference/websocket.md guarantees).
import { ChatClientError } from "./errors.ts";
import type { Message, SyncData, SyncReply } from "./types.ts";

/** What the sequencer needs from the client. */
export interface RoomSequencerOptions {
  /** Sends a `sync` request (queued while disconnected). */
  sync: (data: SyncData) => Promise<SyncReply>;
  /** Hands one message to the app; called in seq order per room, each seq once. */
  deliver: (message: Message) => void;
  /** A gap could not be filled; the room keeps its lastSeq and the next trigger retries. */
  onSyncError: (roomId: string, error: unknown) => void;
  /** `sync` page size, 1..200. */
  pageSize: number;
  /** Most `sync` requests in flight at once, across rooms (each costs a rate-limit token). */
  maxConcurrentSyncs: number;
  /** Delay before retrying failed sync attempt `attempt` (0-based); undefined gives up. */
  retryDelayMs: (error: unknown, attempt: number) => number | undefined;
}

interface RoomState {
  roomId: string;
  /** Highest seq handed to the app (or seeded); undefined until the first message or seed. */
  lastSeq: number | undefined;
  /** Fill up to this seq (inclusive); Infinity means "until the server has nothing newer". */
  target: number;
  filling: boolean;
  /** Live messages that arrived ahead of a gap, by seq, waiting for the fill. */
  buffer: Map<number, Message>;
}

// Above this many buffered messages a room stops buffering and lets `sync` fetch them instead.
const MAX_BUFFERED_PER_ROOM = 1000;

/** Orders and dedupes `message` frames per room and pages gaps; one instance per client. */
export class RoomSequencer {
  private readonly rooms = new Map<string, RoomState>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private activeSyncs = 0;
  private readonly slotWaiters: (() => void)[] = [];
  private disposed = false;

  constructor(private readonly options: RoomSequencerOptions) {}

  /** Highest seq delivered (or seeded) for `roomId`, if any. */
  lastSeq(roomId: string): number | undefined {
    return this.rooms.get(roomId)?.lastSeq;
  }

  /** Rooms with a known lastSeq (the ones re-synced after a reconnect). */
  knownRooms(): string[] {
    return [...this.rooms.values()].filter((room) => room.lastSeq !== undefined).map((room) => room.roomId);
  }

  /** The app has shown `roomId` up to `seq` (e.g. from REST history); lastSeq only moves forward. */
  seed(roomId: string, seq: number): void {
    if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError("seq must be an integer >= 0");
    const room = this.room(roomId);
    if (room.lastSeq === undefined || seq > room.lastSeq) room.lastSeq = seq;
    for (const buffered of room.buffer.keys()) if (buffered <= seq) room.buffer.delete(buffered);
  }

  /** Drops all state of `roomId` (e.g. the user left it); a running fill stops at its next step. */
  forget(roomId: string): void {
    this.rooms.delete(roomId);
  }

  /** Handles a `message` frame: deliver, drop as duplicate, or buffer it and fill the gap first. */
  onMessage(message: Message): void {
    if (this.disposed) return;
    const room = this.room(message.room_id);
    if (room.lastSeq === undefined) {
      // The app loads older history itself: the first message seen starts the sequence.
      this.deliverOne(room, message);
      return;
    }
    if (message.seq <= room.lastSeq) return;
    if (!room.filling && message.seq === room.lastSeq + 1) {
      this.deliverOne(room, message);
      return;
    }
    if (room.buffer.size < MAX_BUFFERED_PER_ROOM) {
      room.buffer.set(message.seq, message);
      this.fill(room, message.seq - 1);
    } else {
      this.fill(room, message.seq);
    }
  }

  /** Handles `sync.gap`: fills `from_seq..to_seq` when the room has a lastSeq; else the app's history. */
  onGap(roomId: string, fromSeq: number, toSeq: number): void {
    if (this.disposed) return;
    const room = this.rooms.get(roomId);
    if (room === undefined || room.lastSeq === undefined || toSeq <= room.lastSeq) return;
    // Filling from lastSeq (not from_seq) also covers any seqs between them.
    this.fill(room, Math.max(toSeq, fromSeq));
  }

  /** Syncs `roomId` from its lastSeq to the newest message (after each reconnect). */
  catchUp(roomId: string): void {
    const room = this.rooms.get(roomId);
    if (this.disposed || room === undefined || room.lastSeq === undefined) return;
    this.fill(room, Number.POSITIVE_INFINITY);
  }

  /** Stops every fill and retry timer; the sequencer ignores all later input. */
  dispose(): void {
    this.disposed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.rooms.clear();
    for (const wake of this.slotWaiters.splice(0)) wake();
  }

  private room(roomId: string): RoomState {
    let room = this.rooms.get(roomId);
    if (room === undefined) {
      room = { roomId, lastSeq: undefined, target: 0, filling: false, buffer: new Map() };
      this.rooms.set(roomId, room);
    }
    return room;
  }

  private deliverOne(room: RoomState, message: Message): void {
    room.lastSeq = message.seq;
    room.buffer.delete(message.seq);
    this.options.deliver(message);
  }

  // Delivers buffered messages that continue the sequence; `acceptGaps` also skips over holes.
  private drain(room: RoomState, acceptGaps: boolean): void {
    const seqs = [...room.buffer.keys()].sort((a, b) => a - b);
    for (const seq of seqs) {
      const message = room.buffer.get(seq);
      if (message === undefined) continue;
      const last = room.lastSeq ?? seq - 1;
      if (seq <= last) room.buffer.delete(seq);
      else if (seq === last + 1 || acceptGaps) this.deliverOne(room, message);
      else break;
    }
  }

  private fill(room: RoomState, target: number): void {
    room.target = Math.max(room.target, target);
    if (room.filling) return;
    room.filling = true;
    void this.runFill(room);
  }

  private async runFill(room: RoomState): Promise<void> {
    let failures = 0;
    let completed = false;
    try {
      while (this.isLive(room) && room.lastSeq !== undefined && room.lastSeq < room.target) {
        const requestedTarget = room.target;
        const before = room.lastSeq;
        const data: SyncData = { room_id: room.roomId, after_seq: before, limit: this.options.pageSize };
        // A finite target reads the window up to it only, so replayed frames after it are not fetched twice.
        if (Number.isFinite(requestedTarget)) data.before_seq = requestedTarget + 1;
        let reply: SyncReply | undefined;
        let failure: { error: unknown } | undefined;
        await this.acquireSlot();
        try {
          if (this.isLive(room)) reply = await this.options.sync(data);
        } catch (error) {
          failure = { error };
        } finally {
          this.releaseSlot();
        }
        if (!this.isLive(room)) return;
        if (failure !== undefined) {
          const delay = this.options.retryDelayMs(failure.error, failures++);
          if (delay === undefined) {
            this.options.onSyncError(room.roomId, failure.error);
            return;
          }
          await this.sleep(delay);
          continue;
        }
        if (reply === undefined) return;
        failures = 0;
        const messages = Array.isArray(reply.messages) ? [...reply.messages].sort((a, b) => a.seq - b.seq) : [];
        for (const message of messages) {
          if (room.lastSeq === undefined || message.seq > room.lastSeq) this.deliverOne(room, message);
        }
        this.drain(room, false);
        const progressed = (room.lastSeq ?? 0) > before;
        if (reply.has_more === true && progressed) continue;
        if (room.target > requestedTarget) continue;
        break;
      }
      completed = true;
    } finally {
      room.filling = false;
      if (this.isLive(room)) {
        // Filled: deliver what waited (a hole the server could not fill is skipped). Failed: keep
        // lastSeq and drop the buffer; those seqs are fetched again by the next fill or catch-up.
        if (completed) this.drain(room, true);
        else room.buffer.clear();
        room.target = room.lastSeq ?? 0;
      }
    }
  }

  private isLive(room: RoomState): boolean {
    return !this.disposed && this.rooms.get(room.roomId) === room;
  }

  private async acquireSlot(): Promise<void> {
    if (this.activeSyncs < this.options.maxConcurrentSyncs || this.disposed) {
      this.activeSyncs++;
      return;
    }
    await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
  }

  // Hands the slot straight to the next waiter, so the count stays right without re-checking.
  private releaseSlot(): void {
    const next = this.slotWaiters.shift();
    if (next !== undefined) next();
    else this.activeSyncs--;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }
}

/** Default retry policy for gap fills: transient failures back off a few times, the rest give up. */
export function defaultSyncRetryDelayMs(error: unknown, attempt: number): number | undefined {
  if (attempt >= 5 || !(error instanceof ChatClientError)) return undefined;
  switch (error.code) {
    case "rate_limit_exceeded":
      return error.retryAfterMs ?? 1000;
    case "timeout":
    case "unavailable":
    case "internal_error":
      return Math.min(250 * 2 ** attempt, 5000);
    default:
      return undefined;
  }
}
