/**
 * Mutations of a valid compressed file. Each is a pure function of the file and a seeded random source,
 * so a mutant is reproduced from (seed, format, mutant id) alone.
 */
import type { Base } from './formats.js';

export const KINDS = ['bitflip', 'byte', 'truncate', 'insert', 'delete', 'zero', 'swap'] as const;
export type Kind = (typeof KINDS)[number];

export interface Mutant {
  bytes: Buffer;
  /** What was done, for the report and reproducers. */
  detail: string;
  /** Where in the file (bytes), so that a read can aim near it. */
  at: number;
}

type Rand = () => number;

const int = (rand: Rand, n: number): number => Math.floor(rand() * n);

/** A position: often in the first or last bytes (headers, footers, indexes), else anywhere. */
function position(rand: Rand, length: number): number {
  if (length === 0) return 0;
  const r = rand();
  if (r < 0.2) return int(rand, Math.min(64, length));
  if (r < 0.4) return Math.max(0, length - 1 - int(rand, Math.min(128, length)));
  return int(rand, length);
}

function randomBuffer(rand: Rand, n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, () => int(rand, 256)));
}

/** Bits [from, to) of `src` appended to a bit writer. */
class BitWriter {
  private readonly out: Uint8Array;
  private bit = 0;
  constructor(bits: number) {
    this.out = new Uint8Array(Math.ceil(bits / 8));
  }
  copy(src: Uint8Array, from: number, to: number): void {
    let b = from;
    // Whole bytes when both sides are byte-aligned.
    if (b % 8 === 0 && this.bit % 8 === 0) {
      const bytes = Math.floor((to - b) / 8);
      this.out.set(src.subarray(b / 8, b / 8 + bytes), this.bit / 8);
      b += bytes * 8;
      this.bit += bytes * 8;
    }
    for (; b < to; b++, this.bit++) {
      if ((src[b >> 3] >> (7 - (b & 7))) & 1) this.out[this.bit >> 3] |= 0x80 >> (this.bit & 7);
    }
  }
  bytes(): Buffer {
    return Buffer.from(this.out);
  }
}

/** Swaps two bit ranges [a0, a1) < [b0, b1) of a file. */
export function swapRanges(bytes: Buffer, a: [number, number], b: [number, number]): Buffer {
  const total = bytes.length * 8;
  const w = new BitWriter(total);
  w.copy(bytes, 0, a[0]);
  w.copy(bytes, b[0], b[1]);
  w.copy(bytes, a[1], b[0]);
  w.copy(bytes, a[0], a[1]);
  w.copy(bytes, b[1], total);
  return w.bytes();
}

function twoOf<T>(rand: Rand, items: T[]): [T, T] | undefined {
  if (items.length < 2) return undefined;
  const i = int(rand, items.length);
  let j = int(rand, items.length - 1);
  if (j >= i) j++;
  return i < j ? [items[i], items[j]] : [items[j], items[i]];
}

export function mutate(base: Base, kind: Kind, rand: Rand): Mutant {
  const src = base.bytes;
  const n = src.length;
  switch (kind) {
    case 'bitflip': {
      const copy = Buffer.from(src);
      const flips = rand() < 0.7 ? 1 : 2 + int(rand, 7);
      const at: number[] = [];
      for (let k = 0; k < flips; k++) {
        const p = position(rand, n);
        copy[p] ^= 1 << int(rand, 8);
        at.push(p);
      }
      return { bytes: copy, detail: `flipped a bit at bytes ${at.join(',')}`, at: at[0] };
    }
    case 'byte': {
      const copy = Buffer.from(src);
      const count = rand() < 0.7 ? 1 : 2 + int(rand, 15);
      const p = position(rand, n);
      for (let k = 0; k < count && p + k < n; k++) copy[p + k] = int(rand, 256);
      return { bytes: copy, detail: `set ${count} bytes at ${p}`, at: p };
    }
    case 'truncate': {
      const r = rand();
      let cut: number;
      if (r < 0.15) cut = int(rand, Math.min(48, n));
      else if (r < 0.35) cut = n - 1 - int(rand, Math.min(64, n));
      else if (r < 0.5 && base.units.length > 0) cut = Math.ceil(base.units[int(rand, base.units.length)][1] / 8) + int(rand, 3) - 1;
      else if (r < 0.6 && base.streams.length > 1) cut = base.streams[int(rand, base.streams.length)][1];
      else cut = int(rand, n);
      cut = Math.max(0, Math.min(n - 1, cut));
      return { bytes: Buffer.from(src.subarray(0, cut)), detail: `cut to ${cut} of ${n} bytes`, at: cut };
    }
    case 'insert': {
      const p = position(rand, n + 1);
      const count = rand() < 0.5 ? 1 + int(rand, 4) : 1 + int(rand, 64);
      // Random bytes, or a copy of bytes of the file (plausible-looking structure).
      const from = int(rand, Math.max(1, n - count));
      const added = rand() < 0.5 ? randomBuffer(rand, count) : Buffer.from(src.subarray(from, from + count));
      return { bytes: Buffer.concat([src.subarray(0, p), added, src.subarray(p)]), detail: `inserted ${added.length} bytes at ${p}`, at: p };
    }
    case 'delete': {
      const p = position(rand, n);
      const count = Math.min(n - p, rand() < 0.5 ? 1 + int(rand, 4) : 1 + int(rand, 64));
      return { bytes: Buffer.concat([src.subarray(0, p), src.subarray(p + count)]), detail: `deleted ${count} bytes at ${p}`, at: p };
    }
    case 'zero': {
      const p = position(rand, n);
      const count = Math.min(n - p, rand() < 0.5 ? 1 + int(rand, 64) : 1 + int(rand, 4096));
      const copy = Buffer.from(src);
      copy.fill(0, p, p + count);
      return { bytes: copy, detail: `zeroed ${count} bytes at ${p}`, at: p };
    }
    case 'swap': {
      const streams = base.streams.map(([a, b]): [number, number] => [a * 8, b * 8]);
      const pair = (rand() < 0.3 ? twoOf(rand, streams) : undefined) ?? twoOf(rand, base.units);
      if (pair !== undefined) {
        const what = streams.includes(pair[0]) ? 'streams' : 'blocks';
        return { bytes: swapRanges(src, pair[0], pair[1]), detail: `swapped ${what} at bits ${pair[0][0]} and ${pair[1][0]}`, at: Math.floor(pair[0][0] / 8) };
      }
      // One unit: swap two equal byte ranges inside it.
      const len = 1 + int(rand, Math.max(1, Math.floor(n / 8)));
      const a = int(rand, Math.max(1, n - 2 * len));
      const b = a + len + int(rand, Math.max(1, n - a - 2 * len));
      if (b + len > n) return { bytes: Buffer.from(src), detail: 'swap of nothing (file too small)', at: 0 };
      return { bytes: swapRanges(src, [a * 8, (a + len) * 8], [b * 8, (b + len) * 8]), detail: `swapped ${len} bytes at ${a} and ${b}`, at: a };
    }
  }
}
