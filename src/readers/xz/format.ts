/**
 * xz as a format module (format.ts): units are blocks, found without decoding by parsing every stream's
 * footer and index backwards (container.ts); a block is decoded whole inside a synthetic single-block
 * stream by the fastest liblzma binding that loads (napi.ts), or streamed front to back for huge blocks,
 * prefixes and 'lazy' reads: by node-liblzma's engine where it is the thread's decoder (liblzma-stream.ts),
 * else by lzma-native (block.ts). A read inside one block decodes only a verified prefix of it when the
 * index holds the block's sub-span CRC-32s (prefix-read.ts).
 */
import type { ByteSource } from '../../sources/source.js';
import { decodeInput, type FormatModule, type StreamOptions, type UnitStream } from '../format.js';
import { postable } from '../post.js';
import { streamPrefix } from '../prefix.js';
import { checkSubCrcShape, SUB_SPAN_BYTES, unitSubCrcs } from '../sub-crcs.js';
import { sameUnits, UnitTableBuilder, type UnitTable } from '../units.js';
import { XzBlockDecoder, type XzBlockMeta, type XzBlockStream, type XzBlockTask } from './block.js';
import { LiblzmaBlockDecoder } from './liblzma-stream.js';
import { padded4, parseXzContainer, XZ_HEADER_MAGIC } from './container.js';
import { decodeXz, prepareXz, xzDecoderName, xzStreamingEngine } from './napi.js';
import { xzVerifiedPrefix } from './prefix-read.js';

/** The check type of a block written with `--check=none`. */
const CHECK_NONE = 0;

/** Steps of a prefix decode: small, so it stops soon after the bytes asked for. */
const PREFIX_STEPS: StreamOptions = { feedBytes: 16 << 10, outputBytes: 64 << 10 };

export async function xzUnits(source: ByteSource): Promise<UnitTable> {
  const builder = new UnitTableBuilder('xz');
  for (const block of await parseXzContainer(source)) {
    builder.add(block.offset, block.offset + padded4(block.unpaddedSize), block.uncompressedSize, block.unpaddedSize, block.checkType);
  }
  return builder.build();
}

function blockMeta(units: UnitTable, u: number, file: string): XzBlockMeta {
  return { offset: units.cStart[u], unpaddedSize: units.param[u], uncompressedSize: units.dStart[u + 1] - units.dStart[u], checkType: units.kind[u], file };
}

/** The smallest slice fed per step: LZMA2 expands at most about 7,000:1 (zeros), so a step yields at most ~7 MB. */
const MIN_FEED = 1024;

/**
 * Compressed bytes to feed next: `feedBytes`, but no more than the ratio seen so far says will decode to
 * about `outputBytes`: liblzma decodes all it is fed at once, so at a bomb's ratio a fixed 256 KiB slice
 * would come out as gigabytes in one step.
 */
function feedSize(decoder: XzBlockStream, options: StreamOptions): number {
  if (decoder.produced === 0) return Math.min(options.feedBytes, MIN_FEED);
  const byRatio = Math.floor((options.outputBytes * decoder.consumed) / decoder.produced);
  return Math.max(MIN_FEED, Math.min(options.feedBytes, byRatio));
}

/** Block u fed to liblzma slice by slice; after the last slice the block is ended, and liblzma verifies it. */
function xzStream(source: ByteSource, units: UnitTable, u: number, options: StreamOptions): UnitStream {
  const meta = blockMeta(units, u, source.name);
  const engine = xzStreamingEngine();
  const decoder: XzBlockStream = engine === undefined ? new XzBlockDecoder(meta, options.outputBytes) : new LiblzmaBlockDecoder(engine, meta, options.outputBytes);
  const stored = padded4(units.param[u]);
  let finished = false;
  return {
    async step() {
      const fed = decoder.consumed;
      if (fed < stored) return decoder.feed(await source.read(units.cStart[u] + fed, Math.min(feedSize(decoder, options), stored - fed)));
      if (finished) return null;
      finished = true;
      return decoder.finish();
    },
    dispose: () => decoder.dispose(),
  };
}

export const xzFormat: FormatModule<'xz', XzBlockTask> = {
  name: 'xz',
  unitName: 'xz block',
  signature: { magic: XZ_HEADER_MAGIC, header: 12, extensions: ['.xz', '.txz'] },
  // An xz header with one or two damaged magic bytes is still xz (and then reported as corrupt there,
  // with the offset) rather than an unknown format.
  detect(head) {
    let n = 0;
    for (let i = 0; i < XZ_HEADER_MAGIC.length && i < head.length; i++) if (head[i] === XZ_HEADER_MAGIC[i]) n++;
    return n >= 4;
  },
  offsetsInBits: false,

  units: xzUnits,
  // The chunk map is cheap to derive from the file itself (its indexes): the stored one must equal it.
  // Sub-span CRC-32s, when it has them, one per 64 KiB of a block or none (sub-crcs.ts; nothing to tie them to here: the
  // index's section checksums guard them, and a read they fail decodes the whole block, which its own check decides).
  validate: async (units, source, fail) => {
    sameUnits(await xzUnits(source), units, source.name, fail);
    checkSubCrcShape(units, (what) => fail(`xz ${what}`));
  },

  /**
   * An xz stream written with `--check=none` has nothing to verify a block's bytes against: 'full' can only
   * confirm that each block decodes to the size its index records.
   */
  warnings(units, file) {
    let unchecked = 0;
    for (let u = 0; u < units.count; u++) if (units.kind[u] === CHECK_NONE) unchecked++;
    if (unchecked === 0) return [];
    return [`${file}: ${unchecked} of ${units.count} xz blocks have no integrity check (written with --check=none): damage inside them cannot be detected`];
  },

  async task(source, units, u) {
    const offset = units.cStart[u];
    const { bytes: data, transfer } = postable(await source.read(offset, units.cEnd[u] - offset), source.ownsReads === true);
    // A block without a check is checked by its sub-span CRC-32s, when the index has them (a prefix read whose
    // CRC-32 fails comes here too). A copy: a posted view would take the whole blob with it.
    const sub = units.kind[u] === CHECK_NONE ? unitSubCrcs(units, u) : undefined;
    const subCrcs = sub === undefined ? undefined : { span: sub.span, crcs: sub.crcs.slice() };
    return { input: decodeInput(xzFormat, { ...blockMeta(units, u, source.name), data, subCrcs }), transfer };
  },
  // node-liblzma, else @napi-rs/lzma, else lzma-native: the block's check verified by each (napi.ts).
  decode: decodeXz,
  prepare: prepareXz,
  decoderName: xzDecoderName,

  stream: xzStream,
  bigUnits: true,
  prefix: (source, units, u, length) => streamPrefix(xzStream(source, units, u, PREFIX_STEPS), length),
  // The indexing pass records the CRC-32 of every 64 KiB of each block it decodes whole, for verified prefix reads.
  passSubCrcs: SUB_SPAN_BYTES,
  verifiedPrefix: (source, units, u, end) => xzVerifiedPrefix(source, blockMeta(units, u, source.name), unitSubCrcs(units, u), end),
};
