import { describe, expect, test } from "bun:test";
import { RoomSequencer, type SequencerSource } from "./sequencer";

/** A store holding seqs 1..last whose reads resolve when the test says so. */
function source(last: number, stored: Set<number> = new Set(Array.from({ length: last }, (_, i) => i + 1))): SequencerSource & { reads: number } {
  const s = {
    reads: 0,
    lastSeq: async () => last,
    range: async (_t: string, from: number, to: number) => {
      s.reads++;
      return [...stored].filter((x) => x >= from && x <= to).sort((a, b) => a - b).map((seq) => ({ seq, json: `m${seq}` }));
    },
  };
  return s;
}

const waitUntil = async (pred: () => boolean, ms = 2000) => {
  const end = performance.now() + ms;
  while (!pred()) {
    if (performance.now() > end) throw new Error("timed out");
    await new Promise((r) => setImmediate(r));
  }
};

describe("RoomSequencer", () => {
  test("delivered(seq) resolves once every seq up to it went out here (a replay read it first), or at once, or after the timeout", async () => {
    const out: string[] = [];
    const q = new RoomSequencer(source(0), (_t, j) => out.push(j), 10_000);
    await q.track("r:t:a");
    let done = false;
    const waiting = q.delivered("r:t:a", 2, 10_000).then(() => (done = true));
    q.accept("r:t:a", 2, "m2");
    await Promise.resolve();
    expect(done).toBe(false);
    q.accept("r:t:a", 1, "m1");
    await waiting;
    expect(out).toEqual(["m1", "m2"]);
    // Already delivered, or a topic not tracked here: at once.
    await q.delivered("r:t:a", 2, 10_000);
    await q.delivered("r:t:other", 5, 10_000);
    // A seq that never comes: the timeout.
    const t0 = performance.now();
    await q.delivered("r:t:a", 9, 20);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(15);
  });

  test("frames from two publishers arriving out of order are delivered in seq order, once", async () => {
    const out: string[] = [];
    const q = new RoomSequencer(source(0), (_t, j) => out.push(j), 10_000);
    await q.track("r:t:a");
    q.accept("r:t:a", 2, "m2");
    q.accept("r:t:a", 1, "m1");
    q.accept("r:t:a", 1, "m1");
    q.accept("r:t:a", 3, "m3");
    q.accept("r:t:a", 2, "m2");
    expect(out).toEqual(["m1", "m2", "m3"]);
  });

  test("a gap older than gapMs is filled from the store (a node died between commit and publish)", async () => {
    const out: string[] = [];
    // Positioned at last_seq 3; seqs 4..6 were committed since, but 4 was never published.
    const src = source(3, new Set([1, 2, 3, 4, 5, 6]));
    const q = new RoomSequencer(src, (_t, j) => out.push(j), 5);
    await q.track("r:t:a");
    q.accept("r:t:a", 5, "m5");
    q.accept("r:t:a", 6, "m6");
    expect(out).toEqual([]);
    await waitUntil(() => out.length === 3);
    expect(out).toEqual(["m4", "m5", "m6"]);
    expect(src.reads).toBe(1);
  });

  test("a seq the store does not have either is skipped, not waited for forever", async () => {
    const out: string[] = [];
    const q = new RoomSequencer(source(0, new Set([2])), (_t, j) => out.push(j), 5);
    await q.track("r:t:a");
    q.accept("r:t:a", 2, "m2");
    await waitUntil(() => out.length === 1);
    q.accept("r:t:a", 3, "m3");
    expect(out).toEqual(["m2", "m3"]);
  });

  test("frames that arrive while the start position is read are kept, those at or below it dropped", async () => {
    const out: string[] = [];
    let release!: (n: number) => void;
    const q = new RoomSequencer({ lastSeq: () => new Promise((r) => (release = r)), range: async () => [] }, (_t, j) => out.push(j), 10_000);
    const tracking = q.track("r:t:a");
    q.accept("r:t:a", 5, "m5");
    q.accept("r:t:a", 6, "m6");
    release(5);
    await tracking;
    expect(out).toEqual(["m6"]);
  });

  test("an untracked topic delivers nothing; forget stops tracking", async () => {
    const out: string[] = [];
    const q = new RoomSequencer(source(0), (_t, j) => out.push(j), 10_000);
    q.accept("r:t:x", 1, "m1");
    await q.track("r:t:x");
    q.forget("r:t:x");
    q.accept("r:t:x", 1, "m1");
    expect(out).toEqual([]);
    expect(q.size).toBe(0);
  });
});
