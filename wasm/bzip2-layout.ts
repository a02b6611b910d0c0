// The memory layout of seekdata's WebAssembly bzip2 block decoder (wasm/bzip2-block.ts, which decodes a block's
// header and symbols, and wasm/bzip2-bwt.ts, its inverse BWT), its status codes, and the growing of its memory.
// Byte addresses: the tables below at fixed places up to TT_AT, the BWT vector (900,000 u32) at TT_AT, the input
// at INPUT_AT (bzip2-block.ts), the walk's scratch after it, then the output.

export const COUNT_AT: usize = 4096; // 256 u32: how often each byte occurs in the BWT vector
export const MTF_AT: usize = 5120; // 256 bytes, then 16 spare
export const UNSEQ_AT: usize = 5632; // 256 bytes: symbol number -> byte
export const LEN_AT: usize = 6144; // code lengths of a group: 258 bytes
export const LIMIT_AT: usize = 6656; // per group 32 i32: the last code of each length
export const BASE_AT: usize = 7424; // per group 32 i32: index of a code of each length minus its code
export const PERM_AT: usize = 8192; // per group 512 u16: symbols by code
export const MAXLEN_AT: usize = 14336; // per group an i32: its longest code
export const TABLE_AT: usize = 16384; // per group 4096 u16: (length << 9) | symbol for codes of <= 12 bits, 0 for longer
export const SELECTORS_AT: usize = 65536; // up to 32767 selectors (bytes)
export const CRC_AT: usize = 98304; // 8 tables of 256 u32: table k is the CRC of a byte followed by k zero bytes
export const SEG_AT: usize = 106496; // per walk segment 3 u32 (up to (900000 + 1023) >> 10 = 879): where its bytes start and end, the segment after it
export const LANE_AT: usize = 117760; // per lane 3 u32: the walk's lanes (walkSegments)
export const TT_AT: usize = 118784;
export const TT_MAX: usize = 900000;

// Status codes (decode's result): 0 decoded; negative: not a valid block (the JS decoder says what).
export const RAN_OUT: i32 = -1;
export const BAD_MAGIC: i32 = -2;
export const RANDOMISED: i32 = -3;
export const CORRUPT: i32 = -4;
export const CRC_MISMATCH: i32 = -5;

/** Grows the memory to hold `bytes` bytes; false when it cannot. */
export function growMemory(bytes: usize): bool {
  const have = (<usize>memory.size()) << 16;
  if (bytes <= have) return true;
  return memory.grow(<i32>((bytes - have + 0xffff) >>> 16)) >= 0;
}
