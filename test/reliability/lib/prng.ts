// A small seeded PRNG (mulberry32) so every generated input sequence reproduces from its printed seed.

/** Deterministic random source; `seed` is printed by every suite that uses one. */
export class Prng {
  private s: number;
  constructor(readonly seed: number) {
    this.s = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max] inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from an empty list");
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** A short lowercase alphanumeric string. */
  word(len = 8): string {
    const abc = "abcdefghijklmnopqrstuvwxyz0123456789";
    let s = "";
    for (let i = 0; i < len; i++) s += abc[Math.floor(this.next() * abc.length)];
    return s;
  }

  /** A child generator with its own stream (so adding draws in one place does not shift another). */
  fork(salt: number): Prng {
    return new Prng((this.seed ^ Math.imul(salt + 1, 0x9e3779b1)) >>> 0);
  }
}

/** The seed for this run: RELIABILITY_SEED if set, else random; always printed by the caller. */
export function seedFromEnv(name = "RELIABILITY_SEED"): number {
  const raw = process.env[name];
  if (raw && /^\d+$/.test(raw)) return Number(raw) >>> 0;
  return (Math.random() * 2 ** 32) >>> 0;
}
