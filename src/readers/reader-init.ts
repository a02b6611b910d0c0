/** What a SeekableReader (reader.ts) is built from: openReader and the index layer's loaders fill it in. */
import type { SeekdataError } from '../errors.js';
import type { ByteSource } from '../sources/source.js';
import type { JobRunner } from '../workers/pool.js';
import type { PieceOptions } from './chunks.js';
import type { VerifyMode } from './pieces.js';
import type { IndexStatus } from './reader-info.js';
import type { UnitTable } from './units.js';

export interface ReaderInit {
  source: ByteSource;
  units: UnitTable;
  runner: JobRunner;
  parallelism: number;
  cacheBytes: number;
  indexPath: string | undefined;
  indexStatus: IndexStatus;
  damage: SeekdataError | undefined;
  scannedOnOpen: boolean;
  /** Decompressed bytes `onScanChunk` saw on open (default: all when `scannedOnOpen`, else none). */
  scannedBytes?: number | undefined;
  pieces: PieceOptions;
  verify: VerifyMode;
  /** A chunk map that decodes to more than this (from an index file) is refused: LIMIT_EXCEEDED (limit.ts). */
  maxDecodedBytes?: number | undefined;
  /** Units up to this size are decoded in the calling thread where their format allows (`ReaderOptions.inlineDecodeBytes`). */
  inlineBytes?: number | undefined;
  /** Reads inside one uncached unit decode only a verified prefix of it where the format can (`ReaderOptions.prefixReads`). Default true. */
  prefixReads?: boolean | undefined;
}
