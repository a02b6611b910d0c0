/**
 * bzip2 as a format module (format.ts): units are blocks, found by the one decoding scan (discovery.ts);
 * a block is decoded at its bit offset (backend.ts: seekdata's WebAssembly decoder, libbzip2 or our JS decoder)
 * and checked against the chunk map (its length, its stored CRC, where it ends).
 */
import { SeekdataError } from '../../errors.js';
import { decodeInput, type FormatModule } from '../format.js';
import { postable } from '../post.js';
import { bzip2DecoderName, decodeBzip2, prepareBzip2 } from './backend.js';
import type { Bzip2BlockTask } from './block.js';
import { findBlockMagics } from './magic.js';
import { MARGIN_BYTES } from './scan.js';
import type { DecodeOutput } from '../../workers/registry.js';
import { settle, unwrap, type Settled } from '../../util.js';
import { Bzip2Discovery } from './discovery.js';
import { bzip2Info } from './info.js';
import { firstBlockBit } from './empty-streams.js';
import { validateBzip2Units } from './validate.js';

/** Compressed bytes that surely hold the first bzip2 block (at most ~1 MB even for incompressible data). */
const FIRST_BLOCK_BYTES = 2 << 20;

export const bzip2Format: FormatModule<'bzip2', Bzip2BlockTask> = {
  name: 'bzip2',
  unitName: 'bzip2 block',
  signature: { magic: [0x42, 0x5a, 0x68, [0x31, 0x39]], header: 4, extensions: ['.bz2', '.bz', '.tbz2', '.tbz'] },
  offsetsInBits: true,

  units: () => Promise.resolve(undefined),
  scan: (source, context) => new Bzip2Discovery(source, context),
  // The scan needs only each block's length, end and CRC: its jobs may keep the decoded bytes.
  scanLeavesBytes: true,

  // The first block, decoded by the runner (a pool worker, whose decoder is loaded already, where the calling
  // thread may not have loaded one yet), and the next `alongside` blocks
  // at the magic candidates found after it, by the workers that would idle meanwhile; the scan takes them
  // instead of decoding them again (discovery.ts).
  async head(source, runner, alongside) {
    const n = Math.min(source.size, FIRST_BLOCK_BYTES);
    const data = await source.read(0, n);
    // An empty stream ("BZh9" + end-of-stream marker) has no block: the first block is in the first stream
    // after the empty ones (a file made by `cat` may start with one), else there is none.
    const firstBit = firstBlockBit(data);
    if (firstBit === undefined) return { bytes: new Uint8Array(0) };
    const units = new Map<number, Promise<Settled<DecodeOutput>>>();
    const decodeAt = (startBit: number, endByte: number): Promise<Settled<DecodeOutput>> => {
      const first = startBit >>> 3;
      const { bytes, transfer } = postable(data.subarray(first, endByte), false);
      const task: Bzip2BlockTask = { data: bytes, bitOffset: startBit - first * 8, level: 9, base: first, atEnd: endByte === source.size, file: source.name };
      // Facts in absolute terms (the end bit from the file's start), as HeadChunk.units asks.
      const decoded = runner.run({ input: decodeInput(bzip2Format, task) }, undefined, transfer).then((r) => {
        const info = bzip2Info(r.info);
        return { bytes: r.bytes, info: { ...info, endBit: first * 8 + info.endBit } };
      });
      return settle(decoded);
    };
    const head = decodeAt(firstBit, n);
    units.set(firstBit, head);
    if (alongside > 0) {
      // Block candidates after the first (a candidate inside the first block's data fails to decode, and
      // the scan decodes it again, and sees it is off the chain, as for any false candidate).
      // Each over the bytes up to the next candidate, as the scan's speculative decodes are (scan.ts).
      const hits = findBlockMagics(data).filter((bit) => bit > firstBit);
      for (let k = 0; k < alongside && k + 1 < hits.length; k++) units.set(hits[k], decodeAt(hits[k], Math.min(n, Math.ceil(hits[k + 1] / 8) + MARGIN_BYTES)));
    }
    const first = unwrap(await head);
    return { bytes: first.bytes, units };
  },

  validate: validateBzip2Units,

  async task(source, units, u) {
    const first = Math.floor(units.cStart[u] / 8);
    const end = Math.min(source.size, Math.ceil(units.cEnd[u] / 8));
    const { bytes: data, transfer } = postable(await source.read(first, end - first), source.ownsReads === true);
    // The chunk map's end, CRC and length: libbzip2 (when it decodes) needs the end and checks all three;
    // `check` below compares the others' answers with them.
    const task: Bzip2BlockTask = {
      data,
      bitOffset: units.cStart[u] - first * 8,
      level: 9,
      base: first,
      atEnd: true,
      file: source.name,
      endBit: units.cEnd[u] - first * 8,
      expectedCrc: units.param[u],
      expectedLength: units.dStart[u + 1] - units.dStart[u],
    };
    return { input: decodeInput(bzip2Format, task), transfer };
  },

  // seekdata's WebAssembly decoder once prepared, else libbzip2, else the JS decoder (backend.ts); check() below either way.
  decode: decodeBzip2,
  prepare: prepareBzip2,
  decoderName: bzip2DecoderName,

  check(units, u, result, file) {
    const info = bzip2Info(result.info);
    const first = Math.floor(units.cStart[u] / 8);
    if (result.length !== units.dStart[u + 1] - units.dStart[u] || info.crc !== units.param[u] || first * 8 + info.endBit !== units.cEnd[u]) {
      // The block itself passed its CRC: it is the chunk map that is wrong (a changed file, or a bad index).
      throw new SeekdataError('CORRUPT_INDEX', `${file}: bzip2 block at byte ${first} does not match the index (file changed, or a damaged or crafted index)`, {
        file,
        compressedOffset: first,
      });
    }
  },
};
