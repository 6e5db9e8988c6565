// Per-room order across nodes. Two nodes publishing to one room can interleave out of seq order on
// Redis (order holds per publisher connection only), and a node that died between commit and publish
// leaves a hole. Each node therefore restores order on the way in: per room topic it knows the next
// seq to deliver; a frame ahead of it waits (at most gapMs), then the missing seqs are read from the
// store (committed rows, the source of truth) and delivered first. A frame at or below the delivered
// seq is a duplicate and dropped. A topic's state starts when the node subscribes to it, from the
// room's last_seq read after the subscription was confirmed (so nothing newer can be missed).

/** Reads what the node needs from the store. */
export interface SequencerSource {
  /** The room's last_seq now (committed). */
  lastSeq(topic: string): Promise<number>;
  /** `message` frames (JSON) of seqs fromSeq..toSeq that exist, in seq order. */
  range(topic: string, fromSeq: number, toSeq: number): Promise<{ seq: number; json: string }[]>;
}

interface State {
  /** Next seq to deliver; null while the start position is being read. */
  next: number | null;
  held: Map<number, string>;
  timer: ReturnType<typeof setTimeout> | null;
  filling: boolean;
  /** delivered() calls waiting for `next` to pass their seq. */
  waiters: { seq: number; done: () => void }[];
}

/** Restores seq order of room `message` frames per topic before `deliver`. */
export class RoomSequencer {
  private readonly states = new Map<string, State>();

  constructor(
    private readonly source: SequencerSource,
    private readonly deliver: (topic: string, json: string) => void,
    private readonly gapMs: number,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  /**
   * Starts tracking a topic the node just subscribed to (idempotent); resolves once positioned.
   * `startAfterSeq`: deliver from the seq after it (a join names its own point), else from the
   * room's last_seq read now.
   */
  async track(topic: string, startAfterSeq?: number): Promise<void> {
    if (this.states.has(topic)) return;
    const st: State = { next: null, held: new Map(), timer: null, filling: false, waiters: [] };
    this.states.set(topic, st);
    try {
      const last = startAfterSeq ?? (await this.source.lastSeq(topic));
      if (this.states.get(topic) !== st) return;
      st.next = last + 1;
      for (const s of st.held.keys()) if (s <= last) st.held.delete(s);
      this.drain(topic, st);
    } catch (err) {
      if (this.states.get(topic) === st) this.states.delete(topic);
      throw err;
    }
  }

  /** Stops tracking (the node unsubscribed, or the bus went down). */
  forget(topic: string): void {
    const st = this.states.get(topic);
    if (st?.timer) clearTimeout(st.timer);
    for (const w of st?.waiters.splice(0) ?? []) w.done();
    this.states.delete(topic);
  }

  /**
   * Resolves once every seq of the topic up to `seq` has been delivered on this node (at once when
   * the topic is not tracked; after `timeoutMs` at the latest). A socket whose connect replay sent
   * the room up to `seq` from the store subscribes the topic only then: a live frame of those seqs
   * still on its way through Redis would otherwise reach it a second time.
   */
  delivered(topic: string, seq: number, timeoutMs: number): Promise<void> {
    const st = this.states.get(topic);
    if (!st || (st.next !== null && st.next > seq)) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => w.done(), timeoutMs);
      const w = {
        seq,
        done: () => {
          clearTimeout(timer);
          const i = st.waiters.indexOf(w);
          if (i >= 0) st.waiters.splice(i, 1);
          resolve();
        },
      };
      st.waiters.push(w);
    });
  }

  clear(): void {
    for (const t of [...this.states.keys()]) this.forget(t);
  }

  /** A room `message` frame arrived. */
  accept(topic: string, seq: number, json: string): void {
    const st = this.states.get(topic);
    // Not tracked: nobody here listens to the room (an unsubscribe raced the publish).
    if (!st) return;
    if (st.next !== null && seq < st.next) return;
    if (st.next === seq) {
      st.next++;
      this.deliver(topic, json);
      this.drain(topic, st);
      return;
    }
    st.held.set(seq, json);
    if (st.next !== null) this.armGap(topic, st);
  }

  /** Tracked topics (tests). */
  get size(): number {
    return this.states.size;
  }

  private drain(topic: string, st: State): void {
    if (st.next === null) return;
    for (let json = st.held.get(st.next); json !== undefined; json = st.held.get(st.next)) {
      st.held.delete(st.next);
      st.next++;
      this.deliver(topic, json);
    }
    if (st.held.size === 0 && st.timer) {
      clearTimeout(st.timer);
      st.timer = null;
    } else if (st.held.size > 0) this.armGap(topic, st);
    const next = st.next;
    for (const w of st.waiters.filter((x) => x.seq < next)) w.done();
  }

  private armGap(topic: string, st: State): void {
    if (st.timer || st.filling) return;
    st.timer = setTimeout(() => {
      st.timer = null;
      void this.fill(topic, st);
    }, this.gapMs);
    st.timer.unref?.();
  }

  /** The gap outlived gapMs: read the missing seqs from the store and deliver in order. */
  private async fill(topic: string, st: State): Promise<void> {
    if (st.next === null || st.held.size === 0) return;
    st.filling = true;
    const from = st.next;
    const to = Math.min(...st.held.keys()) - 1;
    try {
      const rows = await this.source.range(topic, from, to);
      if (this.states.get(topic) !== st) return;
      for (const r of rows) if (st.next !== null && r.seq >= st.next && !st.held.has(r.seq)) st.held.set(r.seq, r.json);
    } catch (err) {
      this.onError(err);
    } finally {
      st.filling = false;
    }
    if (this.states.get(topic) !== st || st.next === null) return;
    // A seq the store does not have either (never committed) is skipped rather than waited for forever.
    if (!st.held.has(st.next) && st.next <= to) st.next = Math.min(to + 1, Math.min(...st.held.keys()));
    this.drain(topic, st);
  }
}
