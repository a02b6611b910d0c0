/**
 * Seeded randomness for datasets. A keyed pseudo-random permutation of [0, n) in O(1) memory: a
 * balanced Feistel network over the smallest even-bit domain holding n, with cycle walking back into
 * [0, n) (the format-preserving-encryption construction). Position i of an epoch's order is
 * `at(i)`, so an epoch's order is a pure function of (seed, epoch) and needs no array; `inverse(y)` is the
 * position of element y (the rounds run backwards, and the cycle walk is walked backwards).
 */

/** Murmur3's finaliser, as a signed 32-bit integer (the bits of `fmix32`; no heap number on a hot path). */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function fmix32(h: number): number {
  return mix32(h) >>> 0;
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
  /** 2^halfBits. */
  private readonly factor: number;
  private readonly mask: number;
  /** Round keys as signed 32-bit integers: only their bits matter (they are XORed), and V8 keeps them small. */
  private readonly keys: Int32Array;

  constructor(
    readonly size: number,
    seed: number,
  ) {
    if (!Number.isSafeInteger(size) || size < 0 || size > 2 ** 32) throw new RangeError(`permutation size ${size} out of range`);
    let bits = 1;
    while (2 ** bits < size) bits++;
    this.halfBits = Math.max(1, Math.ceil(bits / 2));
    this.factor = 2 ** this.halfBits;
    this.mask = this.factor - 1;
    this.keys = new Int32Array(ROUNDS);
    for (let r = 0; r < ROUNDS; r++) this.keys[r] = hashInts(seed, r) | 0;
  }

  // x < 2^32 (the domain is at most 2^32), so `x >>> halfBits` is its upper half and `x & mask` its lower.
  private encrypt(x: number): number {
    const mask = this.mask;
    const keys = this.keys;
    let left = x >>> this.halfBits;
    let right = x & mask;
    for (let r = 0; r < ROUNDS; r++) {
      const next = (left ^ mix32(right ^ keys[r])) & mask;
      left = right;
      right = next;
    }
    return left * this.factor + right;
  }

  /** The inverse of `encrypt`: each round (L, R) -> (R, L ^ F(R)) undone as (L', R') -> (R' ^ F(L'), L'). */
  private decrypt(y: number): number {
    const mask = this.mask;
    const keys = this.keys;
    let left = y >>> this.halfBits;
    let right = y & mask;
    for (let r = ROUNDS - 1; r >= 0; r--) {
      const previous = (right ^ mix32(left ^ keys[r])) & mask;
      right = left;
      left = previous;
    }
    return left * this.factor + right;
  }

  /** The element at position i of the permutation (0 <= i < size). */
  at(i: number): number {
    let x = this.encrypt(i);
    // Cycle walking: the domain is at most 4x the size, so this loops about twice on average.
    while (x >= this.size) x = this.encrypt(x);
    return x;
  }

  /**
   * The position of element y (0 <= y < size): `at(inverse(y)) === y`. The cycle walk of `at` went
   * forwards from i through values outside [0, size) to y; walking backwards from y stops at the first value
   * inside it, which is i.
   */
  inverse(y: number): number {
    let x = this.decrypt(y);
    while (x >= this.size) x = this.decrypt(x);
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
