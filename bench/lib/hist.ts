// Latency histogram shared by the load generator and the harness: fixed buckets, mergeable,
// cheap to record (no allocation), exact enough for p50/p99 (10 µs steps below 100 ms, 1 ms above).

const FINE_MS = 100;
const FINE_STEPS_PER_MS = 100;
const FINE = FINE_MS * FINE_STEPS_PER_MS; // 10,000 buckets of 10 µs
const COARSE = 120_000; // 1 ms buckets from 100 ms to ~2 min
const SIZE = FINE + COARSE + 1;

/** A latency histogram in milliseconds. */
export class Hist {
  counts = new Uint32Array(SIZE);
  n = 0;
  max = 0;
  sum = 0;

  record(ms: number): void {
    if (!(ms >= 0)) ms = 0;
    let i: number;
    if (ms < FINE_MS) i = (ms * FINE_STEPS_PER_MS) | 0;
    else i = FINE + Math.min(COARSE, ((ms - FINE_MS) | 0));
    this.counts[i]!++;
    this.n++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
  }

  /** The value below which a fraction p (0..1) of samples lie (upper edge of the bucket). */
  percentile(p: number): number {
    if (this.n === 0) return NaN;
    const target = Math.max(1, Math.ceil(p * this.n));
    let acc = 0;
    for (let i = 0; i < SIZE; i++) {
      acc += this.counts[i]!;
      if (acc >= target) {
        const upper = i < FINE ? (i + 1) / FINE_STEPS_PER_MS : FINE_MS + (i - FINE) + 1;
        return Math.min(upper, this.max);
      }
    }
    return this.max;
  }

  merge(o: Hist): void {
    for (let i = 0; i < SIZE; i++) this.counts[i]! += o.counts[i]!;
    this.n += o.n;
    this.sum += o.sum;
    if (o.max > this.max) this.max = o.max;
  }

  reset(): void {
    this.counts.fill(0);
    this.n = 0;
    this.max = 0;
    this.sum = 0;
  }

  /** Sparse JSON form: [[bucket, count], ...] plus n/max/sum. */
  toJSON(): HistJson {
    const b: [number, number][] = [];
    for (let i = 0; i < SIZE; i++) if (this.counts[i]) b.push([i, this.counts[i]!]);
    return { n: this.n, max: this.max, sum: this.sum, b };
  }

  static fromJSON(j: HistJson | undefined | null): Hist {
    const h = new Hist();
    if (!j) return h;
    for (const [i, c] of j.b) h.counts[i] = c;
    h.n = j.n;
    h.max = j.max;
    h.sum = j.sum;
    return h;
  }
}

export interface HistJson {
  n: number;
  max: number;
  sum: number;
  b: [number, number][];
}

/** A timestamp comparable across processes of this machine (ms, sub-ms precision). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
