/**
 * Writing BGZF for `seekdata recompress --format gzip`: a chunk of bytes becomes true BGZF blocks (each a
 * gzip member of at most 0xff00 input bytes with a `BC` extra subfield holding its size - 1), so gzip,
 * pigz, zcat and htslib (bgzip -d, tabix, samtools) all read the output, and seekdata finds its units
 * from headers alone. Larger members with a BC-like subfield would compress about 1% better but would be
 * an invention no other tool understands; BGZF's 64 KiB limit costs nothing in decoding because units
 * group many blocks. Pure and synchronous: runs in worker threads; append `BGZF_EOF` once at the end.
 */
import zlib from 'node:zlib';
import { SeekdataError } from '../../errors.js';
import { crc32 } from './crc.js';

/** Input bytes per block (bgzip's choice: even stored (incompressible) data then fits BSIZE's 16 bits). */
export const BGZF_BLOCK_INPUT = 0xff00;
const BGZF_HEADER = 18;
const MAX_BLOCK = 1 << 16;

/** One BGZF block (a complete gzip member) holding `chunk` (at most BGZF_BLOCK_INPUT bytes). */
export function bgzfBlock(chunk: Uint8Array, level = 6): Uint8Array {
  if (chunk.length > BGZF_BLOCK_INPUT) throw new SeekdataError('INVALID_OPTION', `a BGZF block holds at most ${BGZF_BLOCK_INPUT} bytes, got ${chunk.length}`);
  let deflated = zlib.deflateRawSync(chunk, { level });
  if (BGZF_HEADER + deflated.length + 8 > MAX_BLOCK) deflated = zlib.deflateRawSync(chunk, { level: 0 });
  const size = BGZF_HEADER + deflated.length + 8;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set([0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 6, 0, 0x42, 0x43, 2, 0], 0);
  view.setUint16(16, size - 1, true);
  out.set(deflated, BGZF_HEADER);
  view.setUint32(size - 8, crc32(chunk), true);
  view.setUint32(size - 4, chunk.length, true);
  return out;
}

/** `chunk` as consecutive BGZF blocks (nothing for an empty chunk). Level: zlib's 0-9, default 6. */
export function compressBgzf(chunk: Uint8Array, level = 6): Uint8Array {
  if (!Number.isInteger(level) || level < 0 || level > 9) throw new SeekdataError('INVALID_OPTION', `options.level must be an integer 0-9, got ${level}`);
  const blocks: Uint8Array[] = [];
  let total = 0;
  for (let at = 0; at < chunk.length; at += BGZF_BLOCK_INPUT) {
    const block = bgzfBlock(chunk.subarray(at, Math.min(chunk.length, at + BGZF_BLOCK_INPUT)), level);
    blocks.push(block);
    total += block.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}
