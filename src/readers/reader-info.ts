/**
 * What a SeekableReader (reader.ts) tells about itself: `ReaderInfo` (its file, format, sizes, units,
 * verification, decoder and index, as `info()` and the CLI's `info` show them), `ReaderStats` (what its
 * reads cost so far) and `IndexStatus` (where its chunk map came from); `readerInfo` puts the info
 * together from the reader's public fields.
 */
import { isBigUnit } from './chunks.js';
import type { FormatDetails } from './format.js';
import { formatOf, type Format } from './formats.js';
import type { VerifyMode } from './pieces.js';
import type { SeekableReader } from './reader.js';
import { unitSubCrcs } from './sub-crcs.js';
import { largestUnit } from './units.js';

export interface ReaderInfo {
  file: string;
  format: Format;
  compressedSize: number;
  /** Decompressed size (of the intact part, for a file opened with `allowDamage`). */
  size: number;
  /** Independently decodable units (bzip2 or xz blocks, plain spans). */
  units: number;
  /** Decompressed size of the largest unit: the most a random read can cost to decode. */
  largestUnit: number;
  /** Chunks the reader caches: units, with xz units over `bigUnitBytes` split into pieces. */
  chunks: number;
  /** True when some unit is so large that reads inside it decode from the unit's start. */
  sequentialUnits: boolean;
  /** 'full': every byte handed out has passed its unit's integrity check; 'lazy': see `ReaderOptions.verify`. */
  verify: VerifyMode;
  /**
   * What decodes the units in this process (every thread loads the same): "node-liblzma (liblzma 5.8.2)",
   * "@napi-rs/lzma (lzma-rs)", "lzma-native (liblzma 5.2.3)", "seekdata's WebAssembly decoder" (bzip2),
   * "seekdata's JS decoder"; "none" for plain files. `stats.decoders` counts what decoded each unit.
   */
  decoder: string;
  /**
   * Units read in pieces whose pieces are not verified yet: under 'full' the first read (or stream) that
   * needs one first decodes the whole unit once, to its block check.
   */
  unverifiedUnits: number;
  /**
   * Units whose sub-span CRC-32s the chunk map holds, so that a read inside one decodes only a verified
   * prefix of it (`ReaderOptions.prefixReads`): gzip spans, and xz blocks once the file has a record index
   * of this version (0 with an older index: rebuild it to have them).
   */
  prefixUnits: number;
  index: { path: string | undefined; status: IndexStatus };
  damage: string | undefined;
  /** What the format tells beyond this (gzip: single-member, multi-member or BGZF; zstd: frames, seekable), when it does. */
  details?: FormatDetails | undefined;
}

export type IndexStatus = 'loaded' | 'built' | 'rebuilt' | 'none';

export interface ReaderStats {
  /** Chunks decoded (not counting pieces passed on the way inside big units). */
  decodes: number;
  cacheHits: number;
  /** Short prefixes of units decoded by `peek` (to compare with bytes verified before); not in `decodes`. */
  prefixDecodes: number;
  /**
   * Units decoded whole, by the backend that decoded and verified each ("node-liblzma", "napi-rs",
   * "lzma-native"; "wasm", "js" for bzip2): a unit a fast backend could not take (damage, a check or
   * filter it lacks) counts under the one that decoded it instead.
   */
  decoders: Record<string, number>;
  /**
   * Of `decodes`, the chunks decoded in the calling thread instead of a worker (small gzip and zstd units,
   * see `ReaderOptions.inlineDecodeBytes`); 0 at parallelism 1, where everything is decoded there.
   */
  inlineDecodes: number;
  /**
   * Of `decodes`, the reads served by decoding only a verified prefix of their unit, in the calling
   * thread (gzip spans and xz blocks whose sub-span CRC-32s the index holds; see `ReaderOptions.prefixReads`); at
   * parallelism > 1 they count in `inlineDecodes` too.
   */
  prefixReads: number;
}

/** The fields of a SeekableReader its info is made of. */
export type ReaderFacts = Pick<SeekableReader, 'name' | 'format' | 'size' | 'compressedSize' | 'units' | 'layout' | 'verify' | 'indexPath' | 'indexStatus' | 'damage'>;

/** `SeekableReader.info()`: `pieceVerified(u)` tells whether the pieces of unit `u` (read in pieces) are verified. */
export function readerInfo(reader: ReaderFacts, pieceVerified: (u: number) => boolean): ReaderInfo {
  const sequentialUnits = reader.layout.count > reader.units.count;
  return {
    file: reader.name,
    format: reader.format,
    compressedSize: reader.compressedSize,
    size: reader.size,
    units: reader.units.count,
    largestUnit: largestUnit(reader.units),
    chunks: reader.layout.count,
    sequentialUnits,
    verify: reader.verify,
    decoder: formatOf(reader.format).decoderName?.() ?? 'none',
    unverifiedUnits: unverifiedUnits(reader, pieceVerified),
    prefixUnits: prefixUnits(reader),
    index: { path: reader.indexPath, status: reader.indexStatus },
    damage: reader.damage?.message,
    details: formatOf(reader.format).describe?.(reader.units),
  };
}

function prefixUnits(reader: ReaderFacts): number {
  if (formatOf(reader.format).verifiedPrefix === undefined) return 0;
  let n = 0;
  for (let u = 0; u < reader.units.count; u++) if (!isBigUnit(reader.units, u, reader.layout.big) && unitSubCrcs(reader.units, u) !== undefined) n++;
  return n;
}

function unverifiedUnits(reader: ReaderFacts, pieceVerified: (u: number) => boolean): number {
  let n = 0;
  for (let u = 0; u < reader.units.count; u++) if (isBigUnit(reader.units, u, reader.layout.big) && !pieceVerified(u)) n++;
  return n;
}
