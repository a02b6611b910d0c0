/**
 * Verified prefix reads of an xz block. python-xz answers a read inside a block by decoding the block from
 * its start up to the bytes asked for — on average half a block — but those bytes are unchecked: the
 * block's check (CRC-32, CRC-64 or SHA-256 of all of it) comes after its last byte. So seekdata decoded
 * the whole block for a verified read. The indexing pass, which decodes and verifies every block anyway,
 * now also records the CRC-32 of every 64 KiB sub-span of each block (sub-crcs.ts; 4 bytes per 64 KiB in
 * the index). A read whose last byte lies in sub-span k streams the block through the end of sub-span k
 * only (node-liblzma's engine where it loads, else lzma-native: liblzma-stream.ts, block.ts), checks the
 * CRC-32 of every sub-span it decoded, and only then hands anything out.
 *
 * The compressed bytes are read once at the block's own ratio (+2% and 2 KiB), more only when they decode
 * to too little, and fed in slices (at most 32 KiB, fewer bytes at a high ratio: a block of zeros must not decode
 * far past the read) until the bytes wanted are out (damage in the bytes past them is
 * not met, as a whole decode would meet it). liblzma's errors in the prefix are the whole decode's typed errors (CORRUPT_DATA naming the
 * block). A sub-span whose CRC-32 does not match gives the read to a whole decode (undefined): the block's
 * own check then decides (a block without one, `--check=none`: its sub-span CRC-32s, which napi.ts's
 * `decodeXz` checks) — damaged data is CORRUPT_DATA there; bytes that pass it are right, and the
 * recorded CRC-32 was what was wrong (the index's sections are checksummed, so only a crafted index gets
 * there). Blocks decoding to more than their index records are refused on the way, as in every decode.
 */
import type { ByteSource } from '../../sources/source.js';
import { failingSubSpan, prefixFeed, prefixTarget } from '../sub-crcs.js';
import { XzBlockDecoder, type XzBlockMeta, type XzBlockStream } from './block.js';
import { padded4 } from './container.js';
import { LiblzmaBlockDecoder } from './liblzma-stream.js';
import { readyXz, xzStreamingEngine } from './napi.js';

/** Compressed bytes fed to liblzma at a time. */
const FEED_SLICE = 32 << 10;
/**
 * The smallest slice, and the first: LZMA2 expands up to ~7,000:1 (zeros), and liblzma decodes all it is fed,
 * so later slices are sized by the ratio seen so far to decode to about the bytes still wanted.
 */
const MIN_SLICE = 1024;

/** Compressed bytes to feed next for `want` more decoded bytes, at the ratio seen so far. */
function sliceFor(decoder: XzBlockStream, want: number): number {
  if (decoder.produced === 0) return MIN_SLICE;
  return Math.max(MIN_SLICE, Math.min(FEED_SLICE, Math.ceil((want * decoder.consumed) / decoder.produced)));
}

/**
 * Decoded bytes [0, n >= end) of the block `meta` describes, every sub-span of them checked against `sub`;
 * undefined when the block should be decoded whole instead (no CRCs, a read reaching its last sub-span,
 * a CRC-32 that does not match).
 */
export async function xzVerifiedPrefix(source: ByteSource, meta: XzBlockMeta, sub: { span: number; crcs: Uint8Array } | undefined, end: number): Promise<Uint8Array | undefined> {
  const dLength = meta.uncompressedSize;
  if (sub === undefined || end <= 0) return undefined;
  const target = prefixTarget(end, sub.span, dLength);
  if (target >= dLength) return undefined;
  await readyXz();
  const engine = xzStreamingEngine();
  // Output buffers of `target` bytes: the first usually holds all that is wanted.
  const decoder: XzBlockStream = engine === undefined ? new XzBlockDecoder(meta, target) : new LiblzmaBlockDecoder(engine, meta, target);
  const stored = padded4(meta.unpaddedSize);
  const parts: Uint8Array[] = [];
  try {
    let n = prefixFeed(target, stored, dLength);
    let data = await source.read(meta.offset, n);
    let at = 0;
    while (decoder.produced < target) {
      if (at === data.length) {
        // Fed all of it and still short: only a damaged block does that; its whole decode says how.
        if (decoder.consumed >= stored) return undefined;
        n = Math.min(stored, Math.ceil(n * 1.25) + (16 << 10));
        data = await source.read(meta.offset + decoder.consumed, n - decoder.consumed);
        at = 0;
      }
      // In slices, stopping at the bytes wanted: damage past them, in the bytes fed beyond, is not met.
      const take = Math.min(sliceFor(decoder, target - decoder.produced), data.length - at);
      parts.push(...decoder.feed(data.subarray(at, at + take), target));
      at += take;
    }
  } finally {
    decoder.dispose();
  }
  const out = parts[0].length >= target ? parts[0] : joined(parts, target);
  return failingSubSpan(out, target, sub.crcs, sub.span) < 0 ? out.subarray(0, target) : undefined;
}

/** The first `length` bytes of `parts` in one array. */
function joined(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    if (at === length) break;
    const take = Math.min(part.length, length - at);
    out.set(part.subarray(0, take), at);
    at += take;
  }
  return out;
}
