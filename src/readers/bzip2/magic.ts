/**
 * Finding bzip2 block (and end-of-stream) magics at any bit position, and checking which magic starts at
 * a given one.
 *
 * A 48-bit magic shifted by s bits (0..7) covers 6 whole bytes (s = 0) or 5 whole bytes between two partial
 * ones. Any 5 consecutive bytes hold a byte pair starting at a multiple of 4, so one pass reads the pair at
 * every 4th byte and looks it up in a table of the pairs that occur among the whole bytes of the 8 shifted
 * magics (32 of 65,536 pairs: a false hit per ~2,000 pairs read); each hit is then checked bit for bit.
 * The discovery scan needs no search for the end-of-stream magic: its walk over the blocks only asks
 * whether one starts where the next block must start (`magicAt`).
 *
 * This JS search is the fallback of a WebAssembly one (magic-wasm.ts), which gives the same hits for about a
 * third of the CPU, and the truth its tests compare it with.
 */
import { magicHitsInModule, magicSearchModule } from './magic-wasm.js';

export const BLOCK_MAGIC = 0x314159265359n;
export const EOS_MAGIC = 0x177245385090n;

/** The two 24-bit halves of a 48-bit magic, for `magicAt`. */
const BLOCK_HI = 0x314159;
const BLOCK_LO = 0x265359;
const EOS_HI = 0x177245;
const EOS_LO = 0x385090;

interface ShiftPattern {
  /** Shift: the magic's first bit is bit `s` (from the top) of its first byte. */
  s: number;
  /** 7 pattern bytes and the mask of magic bits in each. */
  bytes: Uint8Array;
  masks: Uint8Array;
}

function patternsFor(magic: bigint): ShiftPattern[] {
  const out: ShiftPattern[] = [];
  for (let s = 0; s < 8; s++) {
    const value = magic << BigInt(8 - s);
    const mask = ((1n << 48n) - 1n) << BigInt(8 - s);
    const bytes = new Uint8Array(7);
    const masks = new Uint8Array(7);
    for (let i = 0; i < 7; i++) {
      bytes[i] = Number((value >> BigInt(48 - 8 * i)) & 0xffn);
      masks[i] = Number((mask >> BigInt(48 - 8 * i)) & 0xffn);
    }
    out.push({ s, bytes, masks });
  }
  return out;
}

/** A whole-byte pair of a shifted magic: pattern `p`'s bytes j and j + 1 (both whole). */
interface PairPlace {
  p: ShiftPattern;
  j: number;
  eos: boolean;
}

/** The pairs of some magics: pair (first byte << 8 | second byte) → index + 1 into places (0: none). */
interface PairTable {
  table: Uint8Array;
  places: PairPlace[][];
}

function pairTable(magics: ReadonlyArray<{ magic: bigint; eos: boolean }>): PairTable {
  const table = new Uint8Array(1 << 16);
  const places: PairPlace[][] = [];
  for (const { magic, eos } of magics) {
    for (const p of patternsFor(magic)) {
      // Exactly 4 consecutive pair places per shift (bytes 1..5 whole for s > 0; bytes 0..5 for s = 0, of
      // which pairs 0..3): one of them starts at a multiple of 4, so each magic is found once.
      const first = p.s === 0 ? 0 : 1;
      for (let j = first; j < first + 4; j++) {
        const pair = (p.bytes[j] << 8) | p.bytes[j + 1];
        if (table[pair] === 0) {
          places.push([]);
          table[pair] = places.length;
        }
        places[table[pair] - 1].push({ p, j, eos });
      }
    }
  }
  return { table, places };
}

const BLOCK_PAIRS = pairTable([{ magic: BLOCK_MAGIC, eos: false }]);
const ALL_PAIRS = pairTable([
  { magic: BLOCK_MAGIC, eos: false },
  { magic: EOS_MAGIC, eos: true },
]);

function matchesAt(data: Uint8Array, b: number, p: ShiftPattern): boolean {
  if (b < 0 || (data[b] & p.masks[0]) !== p.bytes[0]) return false;
  for (let i = 1; i < 7; i++) {
    if (p.masks[i] === 0) break;
    if (b + i >= data.length || (data[b + i] & p.masks[i]) !== p.bytes[i]) return false;
  }
  return true;
}

export interface MagicHit {
  /** Bit position of the first magic bit, relative to the start of the searched bytes. */
  bit: number;
  eos: boolean;
}

/** The magics of `pairs` whose first bit lies in [0, limitBit) of `data`, sorted. */
function search(data: Uint8Array, limitBit: number, pairs: PairTable): MagicHit[] {
  const hits: MagicHit[] = [];
  const table = pairs.table;
  const end = data.length - 1;
  // The hot loop only looks pairs up; the rare hits are checked in a function of their own.
  for (let q = 0; q < end; q += 4) if (table[(data[q] << 8) | data[q + 1]] !== 0) checkPair(data, q, limitBit, pairs, hits);
  // Hits are distinct (one place per magic); sorted, since a later pair can hold an earlier magic.
  hits.sort((a, b) => a.bit - b.bit);
  return hits;
}

/** Pushes the magics (first bit < limitBit) that hold the pair at byte q at one of their places. */
function checkPair(data: Uint8Array, q: number, limitBit: number, pairs: PairTable, hits: MagicHit[]): void {
  for (const { p, j, eos } of pairs.places[pairs.table[(data[q] << 8) | data[q + 1]] - 1]) {
    const b = q - j;
    const bit = b * 8 + p.s;
    if (bit < limitBit && matchesAt(data, b, p)) hits.push({ bit, eos });
  }
}

/** The JS search: all block (and with `eos`, end-of-stream) magics whose first bit lies in [0, limitBit) of `data`, sorted. */
export function findMagicsJs(data: Uint8Array, limitBit = data.length * 8, eos = true): MagicHit[] {
  return search(data, limitBit, eos ? ALL_PAIRS : BLOCK_PAIRS);
}

/**
 * The magics of `findMagicsJs` found by the WebAssembly search when it loads, else (or should it throw) by the
 * JS search: the same hits either way.
 */
function findMagicsAny(data: Uint8Array, limitBit: number, eos: boolean): MagicHit[] {
  const module = magicSearchModule();
  if (module !== undefined) {
    // The module cannot trap on any input; if it did, the JS search would still answer.
    try {
      return magicHitsInModule(module, data, limitBit, eos);
    } catch {
      // The JS search below.
    }
  }
  return findMagicsJs(data, limitBit, eos);
}

/**
 * Bit positions (relative to `data[0]`) of all block magics whose first bit lies in [0, limitBit) of
 * `data` (data may extend past limitBit so that magics starting near the limit are seen whole). Sorted.
 */
export function findBlockMagics(data: Uint8Array, limitBit = data.length * 8): number[] {
  return findMagicsAny(data, limitBit, false).map((hit) => hit.bit);
}

/** All block and end-of-stream magics whose first bit lies in [0, limitBit) of `data`, sorted. */
export function findMagics(data: Uint8Array, limitBit = data.length * 8): MagicHit[] {
  return findMagicsAny(data, limitBit, true);
}

/** Which 48-bit magic starts at `bit` of `data` (undefined: none, or fewer than 48 bits there). */
export function magicAt(data: Uint8Array, bit: number): 'block' | 'eos' | undefined {
  if (bit < 0 || bit + 48 > data.length * 8) return undefined;
  const hi = bits24(data, bit);
  const lo = bits24(data, bit + 24);
  if (hi === BLOCK_HI && lo === BLOCK_LO) return 'block';
  if (hi === EOS_HI && lo === EOS_LO) return 'eos';
  return undefined;
}

/** 24 bits from `bit` on (the caller checks they are inside `data`). */
function bits24(data: Uint8Array, bit: number): number {
  const at = bit >> 3;
  const shift = bit & 7;
  const word = data[at] * 0x1000000 + ((data[at + 1] << 16) | (data[at + 2] << 8) | (shift === 0 ? 0 : data[at + 3]));
  return Math.floor(word / 2 ** (8 - shift)) & 0xffffff;
}
