/**
 * Empty bzip2 streams at a file's start ("BZh" + level, the end-of-stream marker, a zero CRC: 14 bytes, no
 * block), as `cat empty.bz2 data.bz2` makes: the first block, which holds decompressed offset 0 (the CSV
 * header), is then not at bit 32 but in the first stream after them. `head` and the scan's step both ask here.
 */

/** The bytes of one empty stream. */
export const EMPTY_STREAM_BYTES = 14;

const EOS = [0x17, 0x72, 0x45, 0x38, 0x50, 0x90];

function isStreamHeader(data: Uint8Array, at: number): boolean {
  return data[at] === 0x42 && data[at + 1] === 0x5a && data[at + 2] === 0x68 && data[at + 3] >= 0x31 && data[at + 3] <= 0x39;
}

function isEmptyStream(data: Uint8Array, at: number): boolean {
  return at + EMPTY_STREAM_BYTES <= data.length && isStreamHeader(data, at) && EOS.every((b, k) => data[at + 4 + k] === b) && data.subarray(at + 10, at + 14).every((b) => b === 0);
}

/**
 * The bit where the first block of `data` (a file's first bytes) starts: 32, after the first stream's
 * header, or that of the first stream after leading empty ones; undefined when `data` holds empty streams
 * and then no stream header (no block in them).
 */
export function firstBlockBit(data: Uint8Array): number | undefined {
  let at = 0;
  while (isEmptyStream(data, at)) at += EMPTY_STREAM_BYTES;
  if (at > 0 && !(isStreamHeader(data, at) && data.length > at + 4)) return undefined;
  return 8 * at + 32;
}
