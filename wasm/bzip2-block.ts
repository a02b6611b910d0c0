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
// This file: the block's header, tables and symbols, into the BWT vector; wasm/bzip2-bwt.ts: the inverse BWT;
// wasm/bzip2-layout.ts: where everything is in memory. The input is at INPUT_AT (copied in by JS, followed by
// 256 zero bytes: reads run ahead of the bits consumed).
import {
  BAD_MAGIC,
  BASE_AT,
  CORRUPT,
  CRC_MISMATCH,
  COUNT_AT,
  growMemory,
  LEN_AT,
  LIMIT_AT,
  MAXLEN_AT,
  MTF_AT,
  PERM_AT,
  RAN_OUT,
  RANDOMISED,
  SELECTORS_AT,
  TABLE_AT,
  TT_AT,
  TT_MAX,
  UNSEQ_AT,
} from './bzip2-layout';
import { initCrc, inverseBwt, outAt, outLength } from './bzip2-bwt';

export const INPUT_AT: usize = TT_AT + TT_MAX * 4;

const TABLE_BITS: u32 = 12;
const MAX_CODE: u32 = 20;
const GROUP_SIZE: i32 = 50;

// Outputs of the last decode.
let endBit: f64 = 0;
let storedCrc: u32 = 0;

// The bit reader of the header (the symbol loop keeps its own in locals): `bb` holds `bits` valid bits at
// its top; bytes past the input read as zeros; reading past its end is noticed through the position.
let bb: u64 = 0;
let bits: u32 = 0;
let pos: usize = 0;
let inputEnd: usize = 0;

export function init(): void {
  reserve(TT_AT);
  initCrc();
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
  return growMemory(bytes);
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
  return inverseBwt(<u32>n, origPtr, inputEnd, storedCrc);
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

