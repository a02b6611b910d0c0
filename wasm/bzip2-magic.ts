// AssemblyScript source of seekdata's WebAssembly bzip2 magic search, built by scripts/build-wasm.mjs (with
// SIMD) into src/readers/bzip2/magic.wasm (build output, not committed). It finds the 48-bit block magic
// (and, when asked, the end-of-stream magic) at any bit position of the bytes at INPUT_AT: the same hits as
// the JS search (src/readers/bzip2/magic.ts), which src/readers/bzip2/magic-wasm.ts falls back to.
//
// A magic shifted by s bits (0..7) has 5 whole bytes from its "anchor": its first byte when s = 0, the byte
// after when s > 0. The filter looks at every anchor, 16 in a vector, 4 vectors a step (one branch per 64
// anchors): each of the anchor's first two bytes is classified by two 16-byte nibble lookups (swizzles) into a
// byte whose bit s says "this is whole byte 0 (or 1) of shift s"; the AND of the two says which shifts the pair
// fits (exactly: a nibble pair names one byte). Pairs of random bytes fit one of 8 shifts once per ~8,000
// anchors, so the rare step with a fit is checked anchor by anchor, every shift bit for bit, in bit order: the
// hits come out sorted.

const BLOCK_MAGIC: u64 = 0x314159265359;
const EOS_MAGIC: u64 = 0x177245385090;
const MAGIC_MASK: u64 = 0xffffffffffff;

// Nibble tables, 16 bytes each: for the block magic, whole byte 0 by low and high nibble, then whole byte 1;
// the same for the end-of-stream magic after them.
const TABLES_AT: usize = 0;
/** The hits of the last search: u32 (bit << 1) | eos. */
export const HITS_AT: usize = 1024;
/** The largest input of one search (bytes; the caller searches longer inputs piece by piece). */
export const MAX_INPUT: usize = 65536 + 8;
/** The input, after room for one hit per bit of the largest input (more than any input can hold). */
export const INPUT_AT: usize = HITS_AT + MAX_INPUT * 8 * 4;
/** Zero bytes after the input, for the filter's loads past its end (never counted as part of a magic). */
const PADDING: usize = 96;

/** Whole byte k (0..4) from the anchor of `magic` shifted by s bits. */
function wholeByte(magic: u64, s: u32, k: u32): u32 {
  // The magic sits at bits 47..0; shifted so that its first bit is bit s of byte 0 of a 7-byte pattern.
  const value = magic << (8 - s);
  const byte = s === 0 ? k : k + 1;
  return <u32>((value >> (48 - 8 * byte)) & 0xff);
}

function setTables(at: usize, magic: u64): void {
  for (let k: u32 = 0; k < 2; k++) {
    const lo = at + k * 32;
    const hi = lo + 16;
    for (let s: u32 = 0; s < 8; s++) {
      const b = wholeByte(magic, s, k);
      store<u8>(lo + (b & 15), <u32>load<u8>(lo + (b & 15)) | (<u32>1 << s));
      store<u8>(hi + (b >> 4), <u32>load<u8>(hi + (b >> 4)) | (<u32>1 << s));
    }
  }
}

/** Grows the memory to hold the largest input and its padding, and writes the tables. False when it cannot. */
export function init(): bool {
  const need = INPUT_AT + MAX_INPUT + PADDING;
  const have = (<usize>memory.size()) << 16;
  if (need > have && memory.grow(<i32>((need - have + 0xffff) >>> 16)) < 0) return false;
  memory.fill(TABLES_AT, 0, 128);
  setTables(TABLES_AT, BLOCK_MAGIC);
  setTables(TABLES_AT + 64, EOS_MAGIC);
  return true;
}

@inline function classify(v: v128, lo: v128, hi: v128): v128 {
  return v128.and(i8x16.swizzle(lo, v128.and(v, i8x16.splat(15))), i8x16.swizzle(hi, i8x16.shr_u(v, 4)));
}

/** Which shifts the pairs at anchors p..p+15 fit (bit s of each byte), for one magic's tables at `t`. */
@inline function fits(p: usize, t: usize): v128 {
  const first = classify(v128.load(p), v128.load(t), v128.load(t + 16));
  return v128.and(first, classify(v128.load(p + 1), v128.load(t + 32), v128.load(t + 48)));
}

/** Bit i set: lane i of `m` is not zero. */
@inline function lanesOf(m: v128): u64 {
  return <u64>i8x16.bitmask(i8x16.ne(m, i8x16.splat(0)));
}

let count: u32 = 0;

@inline function push(hit: u32): void {
  store<u32>(HITS_AT + ((<usize>count) << 2), hit);
  count++;
}

/**
 * Pushes the magics whose anchor is `a` (an input index) and that lie wholly inside the input's `length` bytes,
 * with their first bit < limitBit, in bit order (shift 1..7 start in the byte before the anchor, shift 0 at it).
 */
function checkAnchor(a: usize, length: usize, limitBit: u32, eos: bool): void {
  for (let n: u32 = 1; n <= 8; n++) {
    const s = n & 7;
    if (s !== 0 && a === 0) continue;
    const b = s === 0 ? a : a - 1;
    // The magic's 48 bits end in byte b + 5 (s = 0) or b + 6.
    if (b + (s === 0 ? 6 : 7) > length) continue;
    const bit = <u32>b * 8 + s;
    if (bit >= limitBit) continue;
    const value = (bswap<u64>(load<u64>(INPUT_AT + b)) >> (16 - s)) & MAGIC_MASK;
    if (value === BLOCK_MAGIC) push(bit << 1);
    else if (eos && value === EOS_MAGIC) push((bit << 1) | 1);
  }
}

/**
 * Searches the `length` bytes at INPUT_AT (at most MAX_INPUT) for magics whose first bit is < limitBit, the end-
 * of-stream magic too when `eos`. Returns the number of hits at HITS_AT, sorted by bit.
 */
export function search(length: usize, limitBit: u32, eos: bool): u32 {
  count = 0;
  if (length > MAX_INPUT) return 0;
  memory.fill(INPUT_AT + length, 0, PADDING);
  // A magic's bytes reach 5 bytes past its anchor, so none has its anchor at or after length - 5; nor after the
  // byte of its limit bit.
  let anchors = length >= 6 ? length - 5 : 0;
  const limitAnchor = <usize>((<u64>limitBit + 7) >> 3);
  if (limitAnchor + 1 < anchors) anchors = limitAnchor + 1;
  for (let a: usize = 0; a < anchors; a += 64) {
    const p = INPUT_AT + a;
    let m0 = fits(p, TABLES_AT);
    let m1 = fits(p + 16, TABLES_AT);
    let m2 = fits(p + 32, TABLES_AT);
    let m3 = fits(p + 48, TABLES_AT);
    if (eos) {
      m0 = v128.or(m0, fits(p, TABLES_AT + 64));
      m1 = v128.or(m1, fits(p + 16, TABLES_AT + 64));
      m2 = v128.or(m2, fits(p + 32, TABLES_AT + 64));
      m3 = v128.or(m3, fits(p + 48, TABLES_AT + 64));
    }
    if (!v128.any_true(v128.or(v128.or(m0, m1), v128.or(m2, m3)))) continue;
    let lanes = lanesOf(m0) | (lanesOf(m1) << 16) | (lanesOf(m2) << 32) | (lanesOf(m3) << 48);
    while (lanes !== 0) {
      const lane = <usize>ctz(lanes);
      lanes &= lanes - 1;
      if (a + lane < anchors) checkAnchor(a + lane, length, limitBit, eos);
    }
  }
  return count;
}
