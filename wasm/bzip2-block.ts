// AssemblyScript source of seekdata's WebAssembly bzip2 block decoder, built by scripts/build-wasm.mjs into
// src/readers/bzip2/block.wasm (build output, not committed). It decodes one block at a bit position, as
// src/readers/bzip2/decoder.ts does (same steps, same result: the bytes, the bit where the block ends, the
// stored CRC, verified), and is faster than libbzip2 (@foxglove/wasm-bz2) on the same block: its Huffman
// codes decode through 12-bit lookup tables on a 64-bit bit buffer, move-to-front moves words, and the
// inverse BWT's walk, a chain of loads that each wait on memory, is cut into segments that 12 lanes walk at
// once, whose loads overlap; the run-length stage and the CRC (8 bytes a step) follow over the walk's bytes. Any
// failure is a negative status and nothing more: the JS side (src/readers/bzip2/block-wasm.ts) hands the
// block to the JS decoder, which names the fault exactly.
//
// Memory (byte addresses): the tables below at fixed places up to TT_AT, the BWT vector (900,000 u32) at
// TT_AT, the input at INPUT_AT (copied in by JS, followed by 256 zero bytes: reads run ahead of the bits
// consumed), the walk's scratch after it, then the output (grown here as needed).

const COUNT_AT: usize = 4096; // 256 u32: how often each byte occurs in the BWT vector
const MTF_AT: usize = 5120; // 256 bytes, then 16 spare
const UNSEQ_AT: usize = 5632; // 256 bytes: symbol number -> byte
const LEN_AT: usize = 6144; // code lengths of a group: 258 bytes
const LIMIT_AT: usize = 6656; // per group 32 i32: the last code of each length
const BASE_AT: usize = 7424; // per group 32 i32: index of a code of each length minus its code
const PERM_AT: usize = 8192; // per group 512 u16: symbols by code
const MAXLEN_AT: usize = 14336; // per group an i32: its longest code
const TABLE_AT: usize = 16384; // per group 4096 u16: (length << 9) | symbol for codes of <= 12 bits, 0 for longer
const SELECTORS_AT: usize = 65536; // up to 32767 selectors (bytes)
const CRC_AT: usize = 98304; // 8 tables of 256 u32: table k is the CRC of a byte followed by k zero bytes
const SEG_AT: usize = 106496; // per walk segment 3 u32 (up to 900000 >> SEG_SHIFT): its bytes' start and end, the next segment
const LANE_AT: usize = 117760; // per lane 3 u32: the walk's lanes (walkSegments)
const TT_AT: usize = 118784;
const TT_MAX: usize = 900000;
export const INPUT_AT: usize = TT_AT + TT_MAX * 4;

const TABLE_BITS: u32 = 12;
const MAX_CODE: u32 = 20;
const GROUP_SIZE: i32 = 50;
const SEG_SHIFT: u32 = 10;
const SEG_MASK: u32 = (1 << SEG_SHIFT) - 1;
const LANES: usize = 12;

// Status codes (decode's result): 0 decoded; negative: not a valid block (the JS decoder says what).
const RAN_OUT: i32 = -1;
const BAD_MAGIC: i32 = -2;
const RANDOMISED: i32 = -3;
const CORRUPT: i32 = -4;
const CRC_MISMATCH: i32 = -5;

// Outputs of the last decode.
let endBit: f64 = 0;
let storedCrc: u32 = 0;
let outAt: usize = 0;
let outLength: usize = 0;

// The bit reader of the header (the symbol loop keeps its own in locals): `bb` holds `bits` valid bits at
// its top; bytes past the input read as zeros; reading past its end is noticed through the position.
let bb: u64 = 0;
let bits: u32 = 0;
let pos: usize = 0;
let inputEnd: usize = 0;

export function init(): void {
  reserve(TT_AT);
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

export function getEndBit(): f64 {
  return endBit;
}
export function getCrc(): u32 {
  return storedCrc;
}
export function getOutAt(): usize {
  return outAt;
}
export function getOutLength(): usize {
  return outLength;
}

/** Grows the memory to hold `bytes` bytes; false when it cannot. */
export function reserve(bytes: usize): bool {
  const have = (<usize>memory.size()) << 16;
  if (bytes <= have) return true;
  return memory.grow(<i32>((bytes - have + 0xffff) >>> 16)) >= 0;
}

@inline function refill(): void {
  if (bits <= 32) {
    bb |= (<u64>bswap<u32>(load<u32>(pos))) << (32 - bits);
    pos += 4;
    bits += 32;
  }
}

function get(n: u32): u32 {
  refill();
  const v = <u32>(bb >>> (64 - n));
  bb <<= n;
  bits -= n;
  return v;
}

@inline function overrun(): bool {
  return (<u64>pos << 3) - bits > (<u64>inputEnd << 3);
}

/** Builds group g's tables from LEN_AT; false when the lengths do not make a prefix code. */
function buildGroup(g: usize, alphaSize: u32): bool {
  let minLen: u32 = MAX_CODE;
  let maxLen: u32 = 0;
  for (let s: u32 = 0; s < alphaSize; s++) {
    const len = <u32>load<u8>(LEN_AT + s);
    if (len > maxLen) maxLen = len;
    if (len < minLen) minLen = len;
  }
  const limit = LIMIT_AT + (g << 7);
  const base = BASE_AT + (g << 7);
  const perm = PERM_AT + (g << 10);
  const table = TABLE_AT + (g << (TABLE_BITS + 1));
  memory.fill(table, 0, 1 << (TABLE_BITS + 1));
  for (let l: u32 = 0; l < 32; l++) store<i32>(limit + (l << 2), -1);
  store<i32>(MAXLEN_AT + (g << 2), maxLen);
  let code: u32 = 0;
  let index: u32 = 0;
  for (let len = minLen; len <= maxLen; len++) {
    store<i32>(base + (len << 2), <i32>index - <i32>code);
    for (let s: u32 = 0; s < alphaSize; s++) {
      if (<u32>load<u8>(LEN_AT + s) != len) continue;
      // Not a prefix code: checked before the table is written, which would then reach past its place.
      if (code >= (<u32>1 << len)) return false;
      store<u16>(perm + (index << 1), <u16>s);
      if (len <= TABLE_BITS) {
        const shift = TABLE_BITS - len;
        const from = table + ((<usize>code << shift) << 1);
        const entry = <u16>((len << 9) | s);
        const count = <usize>1 << shift;
        for (let e: usize = 0; e < count; e++) store<u16>(from + (e << 1), entry);
      }
      code++;
      index++;
    }
    store<i32>(limit + (len << 2), <i32>code - 1);
    code <<= 1;
  }
  return true;
}

/**
 * Decodes the block whose magic starts `bitOffset` bits into the `inputLength` input bytes at INPUT_AT, for
 * a stream of block-size `level`. Returns 0 (the getters then say where the block ended and where its bytes
 * are) or a negative status.
 */
export function decode(bitOffset: u32, inputLength: usize, level: u32): i32 {
  if (level < 1 || level > 9) return CORRUPT;
  inputEnd = INPUT_AT + inputLength;
  pos = INPUT_AT + (bitOffset >>> 3);
  bb = 0;
  bits = 0;
  const skip = bitOffset & 7;
  if (skip != 0) get(skip);
  if (get(24) != 0x314159 || get(24) != 0x265359) return overrun() ? RAN_OUT : BAD_MAGIC;
  storedCrc = (get(16) << 16) | get(16);
  if (get(1) != 0) return overrun() ? RAN_OUT : RANDOMISED;
  const origPtr = get(24);
  const status = decodeRest(origPtr, level * 100000);
  // Zeros read past the end of the input make invalid tables or codes: that is running out of input.
  if (status < 0 && status != CRC_MISMATCH && overrun()) return RAN_OUT;
  return status;
}

function decodeRest(origPtr: u32, maxBlock: u32): i32 {
  // Symbols in use.
  let inUse: u32 = 0;
  const used16 = get(16);
  for (let i: u32 = 0; i < 16; i++) {
    if ((used16 & (0x8000 >>> i)) == 0) continue;
    const word = get(16);
    for (let j: u32 = 0; j < 16; j++) if ((word & (0x8000 >>> j)) != 0) store<u8>(UNSEQ_AT + inUse++, <u8>(i * 16 + j));
  }
  if (inUse == 0) return CORRUPT;
  const alphaSize = inUse + 2;
  const groups = get(3);
  if (groups < 2 || groups > 6) return CORRUPT;
  const selectorCount = get(15);
  if (selectorCount < 1) return CORRUPT;
  // Selectors, move-to-front coded in unary; the group order lives in the bytes of one u64.
  let order: u64 = 0x050403020100;
  for (let i: u32 = 0; i < selectorCount; i++) {
    let j: u32 = 0;
    for (;;) {
      refill();
      const bit = <u32>(bb >>> 63);
      bb <<= 1;
      bits -= 1;
      if (bit == 0) break;
      j++;
      if (j >= groups) return CORRUPT;
    }
    const v = (order >>> (j << 3)) & 0xff;
    const mask: u64 = (<u64>1 << ((j + 1) << 3)) - 1;
    order = (order & ~mask) | (((order << 8) | v) & mask);
    store<u8>(SELECTORS_AT + i, <u8>v);
    if (overrun()) return RAN_OUT;
  }
  // Code lengths, delta coded.
  for (let g: u32 = 0; g < groups; g++) {
    let len = get(5);
    for (let s: u32 = 0; s < alphaSize; s++) {
      for (;;) {
        if (len < 1 || len > MAX_CODE) return CORRUPT;
        if (overrun()) return RAN_OUT;
        refill();
        if ((bb >>> 63) == 0) {
          bb <<= 1;
          bits -= 1;
          break;
        }
        len += (bb >>> 62) == 2 ? 1 : -1; // "10": longer, "11": shorter
        bb <<= 2;
        bits -= 2;
      }
      store<u8>(LEN_AT + s, <u8>len);
    }
    if (!buildGroup(g, alphaSize)) return CORRUPT;
    if (overrun()) return RAN_OUT;
  }
  const n = decodeSymbols(inUse, selectorCount, maxBlock);
  if (n < 0) return n;
  if (overrun()) return RAN_OUT;
  endBit = <f64>((<u64>(pos - INPUT_AT) << 3) - bits);
  if (origPtr >= <u32>n) return CORRUPT;
  return inverseBwt(<u32>n, origPtr);
}

/** Huffman symbols -> zero runs and move-to-front -> the BWT vector (byte in the low 8 bits); its length or a status. */
function decodeSymbols(inUse: u32, selectorCount: u32, maxBlock: u32): i32 {
  // The move-to-front list holds the bytes themselves (symbol numbers mapped once, here): its first 8 in the
  // bytes of `w`, the rest at MTF_AT + 8 on.
  for (let i: usize = 0; i < 256; i++) store<u8>(MTF_AT + i, load<u8>(UNSEQ_AT + i));
  let w = load<u64>(MTF_AT);
  memory.fill(COUNT_AT, 0, 1024);
  // Locals for the bit reader in the hot loop.
  let b = bb;
  let nb = bits;
  let p = pos;
  const eob = inUse + 1;
  let n: u32 = 0;
  let selector: u32 = 0;
  let left: i32 = 0;
  let table: usize = 0;
  let g: usize = 0;
  let run: u32 = 0;
  let runBit: u32 = 1;
  const end = inputEnd;
  // A failure leaves the loop with its status, through the one exit below that stores the reader's place.
  let status: i32 = 0;
  for (;;) {
    if (left == 0) {
      if (selector >= selectorCount) {
        status = CORRUPT;
        break;
      }
      g = <usize>load<u8>(SELECTORS_AT + selector++);
      table = TABLE_AT + (g << (TABLE_BITS + 1));
      left = GROUP_SIZE;
      // Past the input (zeros read there): stop before the loop runs on for long.
      if (p > end + 8) {
        status = RAN_OUT;
        break;
      }
    }
    left--;
    if (nb <= 32) {
      b |= (<u64>bswap<u32>(load<u32>(p))) << (32 - nb);
      p += 4;
      nb += 32;
    }
    let symbol: u32;
    const entry = <u32>load<u16>(table + (<usize>(b >>> (64 - TABLE_BITS)) << 1));
    if (entry != 0) {
      const len = entry >>> 9;
      b <<= len;
      nb -= len;
      symbol = entry & 0x1ff;
    } else {
      const maxLen = <u32>load<i32>(MAXLEN_AT + (g << 2));
      let len: u32 = TABLE_BITS + 1;
      let code = <i32>(b >>> (64 - len));
      while (len <= maxLen && code > load<i32>(LIMIT_AT + (g << 7) + (len << 2))) {
        len++;
        code = <i32>(b >>> (64 - len));
      }
      if (len > maxLen) {
        status = CORRUPT;
        break;
      }
      const index = code + load<i32>(BASE_AT + (g << 7) + (len << 2));
      if (index < 0 || <u32>index >= inUse + 2) {
        status = CORRUPT;
        break;
      }
      b <<= len;
      nb -= len;
      symbol = <u32>load<u16>(PERM_AT + (g << 10) + (<usize>index << 1));
    }
    if (symbol <= 1) {
      // RUNA / RUNB: digits of a bijective base-2 run length of the front symbol.
      run += runBit << symbol;
      runBit <<= 1;
      if (run > maxBlock) {
        status = CORRUPT;
        break;
      }
      continue;
    }
    if (run > 0) {
      if (n + run > maxBlock) {
        status = CORRUPT;
        break;
      }
      const byte = <u32>w & 0xff;
      const c = COUNT_AT + (byte << 2);
      store<u32>(c, load<u32>(c) + run);
      const to = TT_AT + (<usize>n << 2);
      for (let k: usize = 0; k < <usize>run; k++) store<u32>(to + (k << 2), byte);
      n += run;
      run = 0;
      runBit = 1;
    }
    if (symbol == eob) break;
    if (n >= maxBlock) {
      status = CORRUPT;
      break;
    }
    // Move-to-front: the symbol's byte goes to the front, those before it move up one.
    const at = symbol - 1;
    let byte: u32;
    if (at < 8) {
      byte = <u32>(w >>> (at << 3)) & 0xff;
      const mask = <u64>-1 >>> ((7 - at) << 3);
      w = (w & ~mask) | (((w << 8) | byte) & mask);
    } else {
      byte = <u32>load<u8>(MTF_AT + at);
      // Positions 8 to at - 1 move up one, and w's last byte goes to position 8.
      if (at < 16) {
        const x = load<u64>(MTF_AT + 8);
        const mask = <u64>-1 >>> ((15 - at) << 3);
        store<u64>(MTF_AT + 8, (x & ~mask) | (((x << 8) | (w >>> 56)) & mask));
      } else {
        // 8 bytes a step from the top; the lowest 8 (loaded first) last.
        const low = load<u64>(MTF_AT + 8);
        for (let from = <usize>at - 8; from > 8; from -= 8) store<u64>(MTF_AT + from + 1, load<u64>(MTF_AT + from));
        store<u64>(MTF_AT + 9, low);
        store<u8>(MTF_AT + 8, <u8>(w >>> 56));
      }
      w = (w << 8) | byte;
    }
    const c = COUNT_AT + (byte << 2);
    store<u32>(c, load<u32>(c) + 1);
    store<u32>(TT_AT + (<usize>n << 2), byte);
    n++;
  }
  pos = p;
  bits = nb;
  bb = b;
  return status != 0 ? status : <i32>n;
}

/** The inverse BWT, the initial run-length stage and the CRC: the block's bytes at outAt. */
function inverseBwt(n: u32, origPtr: u32): i32 {
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
  if (!reserve(cap)) return CORRUPT;
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
          if (!reserve(cap)) return CORRUPT;
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
