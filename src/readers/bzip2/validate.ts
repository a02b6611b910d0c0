/**
 * Checking a bzip2 chunk map loaded from an index file against the data, so that a crafted index cannot
 * make the reader hand out bytes from the wrong place: every block lies inside the file; blocks of one
 * stream are contiguous; every stream boundary the map implies is checked in the file (end-of-stream
 * marker, the stream CRC equal to the combination of the block CRCs of the map, the next stream header),
 * so no block or stream can be left out, repeated or reordered. Each block is then verified against its
 * CRC when it is decoded.
 */
import { FileSource } from '../../sources/file-source.js';
import type { ByteSource } from '../../sources/source.js';
import type { UnitTable } from '../units.js';

/** Remote files with more streams than this have their stream boundaries checked only structurally. */
const MAX_REMOTE_STREAMS = 64;
/** At most this many bytes between two streams (a few empty streams). */
const MAX_GAP_BYTES = 1 << 16;
const EOS = [0x17, 0x72, 0x45, 0x38, 0x50, 0x90];
/** bzip2's run-length stage expands at most 51-fold (5 bytes → 255). */
const MAX_EXPANSION = 51;

export async function validateBzip2Units(units: UnitTable, source: ByteSource, fail: (what: string) => Error): Promise<void> {
  const bits = source.size * 8;
  const streams: Array<[number, number]> = [];
  for (let i = 0; i < units.count; i++) {
    const level = units.kind[i];
    const length = units.dStart[i + 1] - units.dStart[i];
    if (!(units.cStart[i] >= 32 && units.cEnd[i] > units.cStart[i] && units.cEnd[i] + 80 <= bits) || !Number.isSafeInteger(units.cStart[i]) || !Number.isSafeInteger(units.cEnd[i])) {
      throw fail(`bzip2 block ${i} (bits ${units.cStart[i]}..${units.cEnd[i]}) is not inside ${source.name}`);
    }
    if (level < 1 || level > 9 || length > MAX_EXPANSION * level * 100_000) throw fail(`bzip2 block ${i}: level ${level}, ${length} bytes`);
    if (!Number.isInteger(units.param[i]) || units.param[i] < 0 || units.param[i] > 0xffffffff) throw fail(`bzip2 block ${i}: bad CRC`);
    if (i > 0 && units.cStart[i] === units.cEnd[i - 1]) {
      if (units.kind[i] !== units.kind[i - 1]) throw fail(`bzip2 block ${i}: level differs within a stream`);
      streams[streams.length - 1][1] = i;
    } else {
      if (units.cStart[i] % 8 !== 0 || (i > 0 && units.cStart[i] < units.cEnd[i - 1] + 112)) throw fail(`bzip2 block ${i} does not follow block ${i - 1}`);
      streams.push([i, i]);
    }
  }
  if (streams.length > MAX_REMOTE_STREAMS && !(source instanceof FileSource)) return;
  let at = 0;
  for (const [first, last] of streams) {
    await emptyStreams(source, at, units.cStart[first] / 8 - 4, fail);
    const head = await source.read(units.cStart[first] / 8 - 4, 4);
    if (head[0] !== 0x42 || head[1] !== 0x5a || head[2] !== 0x68 || head[3] !== 0x30 + units.kind[first]) {
      throw fail(`no bzip2 stream header before block ${first}`);
    }
    let combined = 0;
    for (let i = first; i <= last; i++) combined = (((combined << 1) | (combined >>> 31)) ^ units.param[i]) >>> 0;
    const eos = units.cEnd[last];
    const from = Math.floor(eos / 8);
    const trailer = await source.read(from, Math.ceil((eos + 80) / 8) - from);
    const shift = eos - from * 8;
    for (let k = 0; k < 6; k++) if (readBits(trailer, shift + 8 * k, 8) !== EOS[k]) throw fail(`no bzip2 end-of-stream marker after block ${last}`);
    if (readBits(trailer, shift + 48, 32) !== combined) throw fail(`the block CRCs of blocks ${first}..${last} do not make the stream CRC in ${source.name}`);
    at = Math.ceil((eos + 80) / 8);
  }
  // After the last stream: the end of the file, trailing garbage, or empty streams — not a stream with blocks.
  await emptyStreams(source, at, -1, fail);
}

/** Checks that [from, to) holds only empty streams (to -1: as many as follow, up to the end or other bytes). */
async function emptyStreams(source: ByteSource, from: number, to: number, fail: (what: string) => Error): Promise<void> {
  const end = to < 0 ? Math.min(source.size, from + MAX_GAP_BYTES) : to;
  if (end < from || end - from > MAX_GAP_BYTES) throw fail(`${to - from} bytes between bzip2 streams at byte ${from}`);
  const bytes = await source.read(from, end - from);
  let p = 0;
  for (;;) {
    if (to >= 0 && p === bytes.length) return;
    const isHeader = p + 4 <= bytes.length && bytes[p] === 0x42 && bytes[p + 1] === 0x5a && bytes[p + 2] === 0x68 && bytes[p + 3] >= 0x31 && bytes[p + 3] <= 0x39;
    if (!isHeader) {
      if (to < 0) {
        // Trailing bytes that are not a stream header: garbage, which the scan ignores too.
        return;
      }
      throw fail(`unexpected bytes between bzip2 streams at byte ${from + p}`);
    }
    const empty = p + 14 <= bytes.length && EOS.every((b, k) => bytes[p + 4 + k] === b) && bytes.subarray(p + 10, p + 14).every((b) => b === 0);
    if (!empty) throw fail(`a bzip2 stream with blocks at byte ${from + p} is missing from the chunk map`);
    p += 14;
  }
}

function readBits(bytes: Uint8Array, bit: number, count: number): number {
  let value = 0;
  for (let i = 0; i < count; i++) {
    const b = bit + i;
    value = value * 2 + ((bytes[b >> 3] >> (7 - (b & 7))) & 1);
  }
  return value;
}
