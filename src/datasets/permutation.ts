/**
 * Seeded randomness for datasets. A keyed pseudo-random permutation of [0, n) in O(1) memory: a
 * balanced Feistel network over the smallest even-bit domain holding n, with cycle walking back into
 * [0, n) (the format-preserving-encryption construction). Position i of an epoch's order is
 * `permute(i)`, so an epoch's order is a pure function of (seed, epoch) and needs no array.
 */

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit hash of a few integers (seeds, epochs, ranks). */
export function hashInts(...values: number[]): number {
  let h = 0x9e3779b9;
  for (const v of values) {
    // Mix both 32-bit halves so seeds beyond 2^32 still matter.
    h = fmix32(h ^ (v >>> 0));
    h = fmix32(h ^ Math.floor(v / 4294967296));
  }
  return h;
}

const ROUNDS = 6;

export class FeistelPermutation {
  private readonly halfBits: number;
  private readonly mask: number;
  private readonly keys: Uint32Array;

  constructor(
    readonly size: number,
    seed: number,
  ) {
    if (!Number.isSafeInteger(size) || size < 0 || size > 2 ** 32) throw new RangeError(`permutation size ${size} out of range`);
    let bits = 1;
    while (2 ** bits < size) bits++;
    this.halfBits = Math.max(1, Math.ceil(bits / 2));
    this.mask = 2 ** this.halfBits - 1;
    this.keys = new Uint32Array(ROUNDS);
    for (let r = 0; r < ROUNDS; r++) this.keys[r] = hashInts(seed, r);
  }

  private encrypt(x: number): number {
    const half = this.halfBits;
    const mask = this.mask;
    let left = Math.floor(x / 2 ** half);
    let right = x & mask;
    for (let r = 0; r < ROUNDS; r++) {
      const next = (left ^ fmix32(right ^ this.keys[r])) & mask;
      left = right;
      right = next;
    }
    return left * 2 ** half + right;
  }

  /** The element at position i of the permutation (0 <= i < size). */
  at(i: number): number {
    let x = this.encrypt(i);
    // Cycle walking: the domain is at most 4x the size, so this loops about twice on average.
    while (x >= this.size) x = this.encrypt(x);
    return x;
  }
}

/** Mulberry32: a small, fast seeded PRNG for shuffle buffers. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
