// The inverse BWT of seekdata's WebAssembly bzip2 block decoder (wasm/bzip2-block.ts decodes the block into the
// BWT vector and calls inverseBwt): the vector's links, the walk, the initial run-length stage and the CRC.
// The walk is a chain of loads from a 3.6 MB vector, each waiting on memory; it is cut into segments that
// LANES lanes walk at once, so their loads overlap, and the bytes are then read in the walk's order through the
// run-length stage (8 bytes at a time where no run ends in them) and the CRC (8 bytes a step, slicing-by-8).
import { CORRUPT, COUNT_AT, CRC_AT, CRC_MISMATCH, growMemory, LANE_AT, SEG_AT, TT_AT } from './bzip2-layout';

const SEG_SHIFT: u32 = 10;
const SEG_MASK: u32 = (1 << SEG_SHIFT) - 1;
const LANES: usize = 12;

// Where the last block's bytes are.
export let outAt: usize = 0;
export let outLength: usize = 0;

/** Fills CRC_AT's tables: table k holds the CRC of a byte followed by k zero bytes. */
export function initCrc(): void {
  for (let i: u32 = 0; i < 256; i++) {
    let c: u32 = i << 24;
    for (let k = 0; k < 8; k++) c = (c & 0x80000000) != 0 ? (c << 1) ^ 0x04c11db7 : c << 1;
    store<u32>(CRC_AT + (i << 2), c);
  }
  for (let k: usize = 1; k < 8; k++) {
    for (let i: usize = 0; i < 256; i++) {
      const c = load<u32>(CRC_AT + ((k - 1) << 10) + (i << 2));
      store<u32>(CRC_AT + (k << 10) + (i << 2), (c << 8) ^ load<u32>(CRC_AT + ((c >>> 24) << 2)));
    }
  }
}

/**
 * The inverse BWT of the n-symbol vector at TT_AT whose walk starts at origPtr, the initial run-length stage
 * and the CRC (checked against storedCrc): the walk's scratch after inputEnd, then the block's bytes at outAt.
 * Returns 0 or a negative status.
 */
export function inverseBwt(n: u32, origPtr: u32, inputEnd: usize, storedCrc: u32): i32 {
  // cftab: where each byte's positions start, kept in COUNT_AT's place.
  let sum: u32 = 0;
  for (let i: usize = 0; i < 256; i++) {
    const c = load<u32>(COUNT_AT + (i << 2));
    store<u32>(COUNT_AT + (i << 2), sum);
    sum += c;
  }
  for (let i: u32 = 0; i < n; i++) {
    const byte = load<u32>(TT_AT + (<usize>i << 2)) & 0xff;
    const c = COUNT_AT + (<usize>byte << 2);
    const to = load<u32>(c);
    store<u32>(c, to + 1);
    const cell = TT_AT + (<usize>to << 2);
    store<u32>(cell, load<u32>(cell) | (i << 8));
  }
  // Scratch for the walk's bytes: the first segment's, then one region per lane; the output after it.
  const laneSize = (<usize>n + 16) & ~15;
  const scratch = (inputEnd + 64) & ~15;
  outAt = scratch + laneSize * (LANES + 1);
  let cap = outAt + <usize>n + 65536;
  if (!growMemory(cap)) return CORRUPT;
  // The first segment: from the walk's start to the first segment start it meets (walkSegments), or n bytes
  // on a cycle without one. The vector is a permutation of its positions; for a periodic block it is several
  // cycles, and the walk goes round the one it starts on as often as the block needs, as bzip2's does. So do
  // the segments: that cycle's segment before the walk's start runs on through it to the first segment's end,
  // and following the segments from there repeats the cycle.
  let t = load<u32>(TT_AT + (<usize>origPtr << 2)) >>> 8;
  let o = scratch;
  let k: u32 = 0;
  do {
    const cell = load<u32>(TT_AT + (<usize>t << 2));
    store<u8>(o, <u8>cell);
    o++;
    t = cell >>> 8;
    k++;
  } while ((t & SEG_MASK) != 0 && k < n);
  const firstEnd = o;
  const firstNext = t >>> SEG_SHIFT;
  if (k < n) walkSegments(n, scratch + laneSize, laneSize);
  // The bytes in the walk's order, the first segment's then each segment's successor's, through the
  // run-length stage (4 equal bytes, then a count of more). Room is kept for every symbol still to come as
  // one byte; a count of more checks for its own bytes beyond that.
  let out = outAt;
  let last: u32 = 0x100;
  let same: u32 = 0;
  let from = scratch;
  let end = firstEnd;
  let next = firstNext;
  let left = n; // symbols not yet read, this segment's included
  for (;;) {
    if (<usize>left < end - from) end = from + left;
    left -= <u32>(end - from);
    for (let p = from; p < end; p++) {
      // 8 bytes at once where no run of 4 ends in them (all but a few words of text): `e` has bit i set when
      // byte i equals the byte before it, and with two bits for the equal bytes before the word, three set
      // bits in a row are a run's 4th byte, left to the loop below.
      while (same != 4 && p + 8 <= end) {
        const x = load<u64>(p);
        const d = x ^ ((x << 8) | <u64>(last & 0xff));
        const zero = ~(((d & 0x7f7f7f7f7f7f7f7f) + 0x7f7f7f7f7f7f7f7f) | d | 0x7f7f7f7f7f7f7f7f);
        let e = <u32>(((zero >>> 7) * 0x0102040810204080) >>> 56);
        if (same == 0) e &= 0xfe; // after a run's count, equal bytes start a new run
        const flags = (e << 2) | ((0x3200 >>> (same << 2)) & 3);
        if ((flags & (flags >>> 1) & (flags >>> 2)) != 0) break;
        store<u64>(out, x);
        out += 8;
        p += 8;
        last = <u32>(x >>> 56);
        same = 1 + ((flags >>> 9) & 1) + ((flags >>> 9) & (flags >>> 8) & 1);
      }
      if (p >= end) break;
      const byte = <u32>load<u8>(p);
      if (same == 4) {
        const more = <usize>left + (end - p) - 1;
        if (out + byte + more > cap) {
          cap = out + 256 + more * 52;
          if (!growMemory(cap)) return CORRUPT;
        }
        memory.fill(out, <u8>last, byte);
        out += byte;
        same = 0;
        continue;
      }
      same = byte == last ? same + 1 : 1;
      last = byte;
      store<u8>(out, <u8>byte);
      out++;
    }
    if (left == 0) break;
    const record = SEG_AT + (<usize>next * 12);
    from = load<u32>(record);
    end = load<u32>(record, 4);
    next = load<u32>(record, 8);
  }
  // The block ends with 4 equal bytes and no count of more after them: corrupt for libbzip2 (bzip2 -d reads
  // the count past the block's last symbol and reports a data error), and so here.
  if (same == 4) return CORRUPT;
  outLength = out - outAt;
  if (~crc32(outAt, out) != storedCrc) return CRC_MISMATCH;
  return 0;
}

// The walk in segments, LANES at once: the inverse BWT's walk is one chain of dependent loads from a vector
// that does not fit the core's cache, each waiting on memory (~12 ms of a ~19 ms block walked as one chain).
// Every position that is a multiple of 1 << SEG_SHIFT starts a segment, which runs to the next such position
// the walk reaches; segments are independent, so the lanes' loads overlap. A segment's record says where its
// bytes are and which segment follows it. No second vector: the walk touches the same memory as before.

/** Ends lane segment `seg` at `o`, reaching position `t`; records where its bytes end and what follows. */
@inline function endSegment(seg: u32, o: usize, t: u32): void {
  const record = SEG_AT + (<usize>seg * 12);
  store<u32>(record, <u32>o, 4);
  store<u32>(record, t >>> SEG_SHIFT, 8);
}

@inline function startSegment(seg: u32, o: usize): void {
  store<u32>(SEG_AT + (<usize>seg * 12), <u32>o);
}

/** Walks every segment, in LANES lanes whose bytes go to regions of `laneSize` bytes from `region`. */
function walkSegments(n: u32, region: usize, laneSize: usize): void {
  const markers = (n + SEG_MASK) >>> SEG_SHIFT;
  const lanesEnd = LANE_AT + LANES * 12;
  let claimed: u32 = 0;
  for (let lane = LANE_AT, o = region; lane < lanesEnd; lane += 12, o += laneSize) {
    const seg = claimed < markers ? claimed++ : markers;
    if (seg < markers) startSegment(seg, o);
    store<u32>(lane, seg << SEG_SHIFT);
    store<u32>(lane, <u32>o, 4);
    store<u32>(lane, seg, 8);
  }
  // Until a lane finds no segment left to start (each lane is then done, at the start of a segment, or
  // inside one). A lane's state (position to load next, where its next byte goes, its segment, or `markers`
  // for none) stays in memory: the loads of a step wait far longer than its stores take to forward.
  let idle = claimed < <u32>LANES;
  while (!idle) {
    for (let lane = LANE_AT; lane < lanesEnd; lane += 12) {
      const cell = load<u32>(TT_AT + (<usize>load<u32>(lane) << 2));
      const o = <usize>load<u32>(lane, 4);
      store<u8>(o, <u8>cell);
      let t = cell >>> 8;
      if ((t & SEG_MASK) == 0) {
        endSegment(load<u32>(lane, 8), o + 1, t);
        const seg = claimed;
        store<u32>(lane, seg, 8);
        if (seg < markers) {
          claimed++;
          startSegment(seg, o + 1);
          t = seg << SEG_SHIFT;
        } else idle = true;
      }
      store<u32>(lane, t);
      store<u32>(lane, <u32>o + 1, 4);
    }
  }
  // The segments still open, one at a time (every segment is claimed by now).
  for (let lane = LANE_AT; lane < lanesEnd; lane += 12) {
    const seg = load<u32>(lane, 8);
    if (seg < markers) finishSegment(seg, load<u32>(lane), load<u32>(lane, 4));
  }
}

function finishSegment(seg: u32, t: u32, o: usize): void {
  do {
    const cell = load<u32>(TT_AT + (<usize>t << 2));
    store<u8>(o, <u8>cell);
    o++;
    t = cell >>> 8;
  } while ((t & SEG_MASK) != 0);
  endSegment(seg, o, t);
}

/** The block CRC of the bytes from `from` to `end`, 8 at a time (slicing-by-8 over CRC_AT's 8 tables). */
function crc32(from: usize, end: usize): u32 {
  let c: u32 = 0xffffffff;
  let p = from;
  for (; p + 8 <= end; p += 8) {
    const x = c ^ bswap<u32>(load<u32>(p));
    const y = load<u32>(p, 4);
    c =
      load<u32>(CRC_AT + 7168 + ((<usize>x >>> 24) << 2)) ^
      load<u32>(CRC_AT + 6144 + (((<usize>x >>> 16) & 0xff) << 2)) ^
      load<u32>(CRC_AT + 5120 + (((<usize>x >>> 8) & 0xff) << 2)) ^
      load<u32>(CRC_AT + 4096 + ((<usize>x & 0xff) << 2)) ^
      load<u32>(CRC_AT + 3072 + ((<usize>y & 0xff) << 2)) ^
      load<u32>(CRC_AT + 2048 + (((<usize>y >>> 8) & 0xff) << 2)) ^
      load<u32>(CRC_AT + 1024 + (((<usize>y >>> 16) & 0xff) << 2)) ^
      load<u32>(CRC_AT + ((<usize>y >>> 24) << 2));
  }
  for (; p < end; p++) c = (c << 8) ^ load<u32>(CRC_AT + ((((c >>> 24) ^ <u32>load<u8>(p)) & 0xff) << 2));
  return c;
}
