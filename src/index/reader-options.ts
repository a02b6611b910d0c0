/**
 * The options of opening a data file (`ReaderOptions`, the options of openReader and the base of openIndexed's
 * and openCollection's): the interface with its defaults, their checks (`resolveReaderOptions`), and what
 * each open makes of them: the settings of its SeekableReader (`readerSettings`), its source's options
 * (`sourceOptions`) and the runner it decodes with (`runnerFor`).
 */
import { availableParallelism } from 'node:os';
import { invalidOption } from '../errors.js';
import { checkBoolean, checkNonNegativeInt, checkOneOf, checkPositiveInt } from '../options.js';
import { DEFAULT_PIECES, INLINE_DECODE_BYTES, type PieceOptions } from '../readers/chunks.js';
import type { Progress } from '../readers/discover.js';
import type { ScannedChunk } from '../readers/format.js';
import type { SourceOptions } from '../readers/input.js';
import type { VerifyMode } from '../readers/pieces.js';
import type { ByteSource } from '../sources/source.js';
import { inlineRunner, sharedPool, type JobRunner } from '../workers/pool.js';

/**
 * Options of remote sources (`http(s)://`, `s3://`): see `RemoteOptions` and `S3Options` (README, "Object
 * storage"). `headers` applies to HTTP(S) only; region, endpoint, forcePathStyle and credentials to S3.
 */
export type RemoteSourceOptions = Omit<SourceOptions, 'headers'>;

export interface ReaderOptions extends RemoteSourceOptions {
  /** Budget of the decoded-chunk cache, in bytes. Default 256 MiB. */
  cacheBytes?: number;
  /**
   * Chunks decoded at once by scans and multi-chunk reads. 1 decodes in the calling thread; more use the
   * shared worker pool. Default: the number of cores.
   */
  parallelism?: number;
  /**
   * Index file path, an existing directory to keep the index in (as `<dir>/<data file name>.sdx`), or
   * `false` to neither read nor write one. Default: `<file>.sdx` beside a local file (falling back to the
   * cache directory when that directory is not writable or the `.sdx` is not a regular file; an index in
   * either place is used when fresh), the cache directory for URLs, and no index for in-memory data. A
   * path that is not a regular file (a directory where the `.sdx` should be, a FIFO, a device) is
   * skipped with a warning: the index is optional.
   */
  index?: string | false;
  /** What to do when the index is stale or damaged: `'rebuild'` it (default) or `'error'` (`STALE_INDEX` / `CORRUPT_INDEX`). */
  ifStale?: 'rebuild' | 'error';
  /** Forces a new scan even when a fresh index exists. Default false. */
  rebuild?: boolean;
  /** Progress of the index-building scan. */
  onProgress?: (progress: Progress) => void;
  /** Cancels index building. */
  signal?: AbortSignal;
  /** Non-fatal findings (trailing garbage, a rebuilt stale index, an index that could not be saved). Default: ignored. */
  onWarning?: (message: string) => void;
  /**
   * Open a bzip2, gzip or zstd file damaged part-way: the reader covers the intact part and `reader.damage` holds the
   * error (reads past the intact part reject with it). Default false: opening rejects with the error.
   */
  allowDamage?: boolean;
  /**
   * When an index is built (or a fresh one lacks them): first decode the units that are checked only by
   * a value their first full decode records (zstd frames written with --no-check: the CRC-32 of their
   * bytes), so the saved index holds it and every read of them is checked. Costs one decode of those
   * units. Default false (they are recorded as reads first decode them; `seekdata index` sets it).
   */
  recordChecks?: boolean;
  /** Extra HTTP request headers for URL sources. */
  headers?: Record<string, string>;
  /** Time limit of every wait on an HTTP server (for an answer's headers, then each piece of its body), in ms. Default 30,000. The same as `timeoutMs` (which wins). */
  httpTimeoutMs?: number;
  /**
   * `s3://` sources: after building an index, also put it beside the object (`<key>.sdx`, PutObject) so that
   * other hosts download it instead of building it. A failed upload (no permission) is a warning. Default false.
   */
  indexUpload?: boolean;
  /**
   * Called with every decoded chunk, in order, when opening has to decode the whole file to build the
   * chunk map (bzip2 without a fresh index): a caller that wants all the bytes anyway (`seekdata cat`)
   * then decodes them once. `reader.scannedOnOpen` tells whether it saw them all, `reader.scannedBytes`
   * how many bytes from the start it saw (chunks not verified yet, such as the spans of a one-member gzip
   * file before its CRC-32, are not handed out: the caller reads the rest through the reader).
   */
  onScanChunk?: (chunk: ScannedChunk) => void | Promise<void>;
  /**
   * xz blocks larger than this many decompressed bytes (files written as one huge block) are read in
   * pieces of `pieceBytes`, streaming through the block from its start. Default 64 MiB.
   */
  bigUnitBytes?: number;
  /** Piece size for such blocks. Default 8 MiB. */
  pieceBytes?: number;
  /**
   * gzip files: decoded bytes between the checkpoints the indexing pass of an ordinary (not BGZF) gzip
   * file records, each with the 32 KiB window before it (stored compressed in the index, about 1.2% of
   * the decompressed size at 1 MiB); also the size of runs of small members and of BGZF blocks. A random
   * read decodes one such unit. Default 1 MiB (1048576), at least 64 KiB. Applies when the chunk map is
   * built: a fresh index keeps the spacing it was built with (`rebuild: true` to change it).
   */
  gzipSpacingBytes?: number;
  /**
   * `'full'` (default): every byte handed out (`read`, `stream`, records, batches) has passed its unit's
   * integrity check: a read inside an xz block decodes and verifies the whole block, and the pieces of a
   * block read in pieces are handed out only once the block has been verified (one pass through it, the
   * first time it is needed) and the piece matches the CRC32 recorded then. `'lazy'`: a read inside an
   * xz block decodes only the block's prefix up to the read's end and returns it before liblzma has
   * checked the block (faster; damage that liblzma detects only by the block check is returned as data),
   * and pieces of big blocks are handed out as they are decoded. bzip2 blocks are checked either way.
   */
  verify?: 'full' | 'lazy';
  /**
   * The worker pool to decode and parse with (a `WorkerPool` of your own, e.g. with its own size).
   * Default: the process-wide shared pool (when parallelism > 1).
   */
  pool?: JobRunner;
  /**
   * Refuse files that decode to more than this many bytes (decompression bombs): a size the file states
   * (xz index, zstd content sizes or seek table, BGZF ISIZE, an index file's chunk map) is refused before
   * anything is decoded; a size learnt by decoding (bzip2, ordinary gzip, zstd frames without a size) stops
   * the scan as soon as it passes the limit. Either way the error is `LIMIT_EXCEEDED`, naming the file, the
   * limit and where it was passed. Default: no limit (memory stays bounded by the budgets either way).
   */
  maxDecodedBytes?: number;
  /**
   * gzip and zstd units that decode to at most this many bytes are decoded in the calling thread instead of
   * a worker, where that is cheaper than a worker round trip (with the same checks: CRC-32, frame
   * checksums): zstd frames that state their size always (native libzstd decodes them on libuv's thread
   * pool, so the calling thread only waits and decodes started together still run in parallel); gzip
   * units, and zstd frames without a size (WebAssembly), only for a `read` that waits on one unit while
   * nothing else of the reader is decoding (the decode then holds the calling thread, ~2 ms per MiB).
   * Streams of gzip, and every job with a step (record indexing, datasets), stay in the pool. 0: always
   * the pool. Default 2 MiB (2097152). No effect at parallelism 1.
   */
  inlineDecodeBytes?: number;
  /**
   * A `read` inside one gzip span or xz block that is not cached decodes it only from its start (a gzip
   * span: its checkpoint) through the end of the 64 KiB sub-span holding the read's last byte (on average
   * about half the unit), and checks the CRC-32 of every sub-span it decoded (recorded by the indexing pass:
   * gzip's scan, xz's records pass) before returning: in the calling thread, under the same conditions as
   * `inlineDecodeBytes`. A second read into a unit read just before decodes it whole and caches it. Indexes
   * written before sub-span CRC-32s existed, xz files opened without a record index, BGZF and runs of
   * members decode whole units. `false`: always whole units. Default true.
   */
  prefixReads?: boolean;
}

export const READER_DEFAULTS = {
  cacheBytes: 256 << 20,
  ifStale: 'rebuild' as const,
  rebuild: false,
  allowDamage: false,
  recordChecks: false,
  verify: 'full' as const,
  gzipSpacingBytes: 1 << 20,
  inlineDecodeBytes: INLINE_DECODE_BYTES,
  prefixReads: true,
};

/** The smallest gzip checkpoint spacing: each checkpoint costs a 32 KiB window in the index. */
export const MIN_GZIP_SPACING = 64 << 10;

export interface ResolvedReaderOptions {
  cacheBytes: number;
  parallelism: number;
  ifStale: 'rebuild' | 'error';
  rebuild: boolean;
  allowDamage: boolean;
  recordChecks: boolean;
  pieces: PieceOptions;
  verify: VerifyMode;
  gzipSpacingBytes: number;
  maxDecodedBytes: number | undefined;
  inlineDecodeBytes: number;
  prefixReads: boolean;
}

export function resolveReaderOptions(options: ReaderOptions): ResolvedReaderOptions {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options);
  if (options.index !== undefined && options.index !== false && typeof options.index !== 'string') {
    throw invalidOption('index', 'a path or false', options.index);
  }
  return {
    cacheBytes: checkPositiveInt('cacheBytes', options.cacheBytes ?? READER_DEFAULTS.cacheBytes),
    parallelism: checkPositiveInt('parallelism', options.parallelism ?? availableParallelism()),
    ifStale: checkOneOf('ifStale', options.ifStale ?? READER_DEFAULTS.ifStale, ['rebuild', 'error']),
    rebuild: checkBoolean('rebuild', options.rebuild ?? READER_DEFAULTS.rebuild),
    allowDamage: checkBoolean('allowDamage', options.allowDamage ?? READER_DEFAULTS.allowDamage),
    recordChecks: checkBoolean('recordChecks', options.recordChecks ?? READER_DEFAULTS.recordChecks),
    verify: checkOneOf('verify', options.verify ?? READER_DEFAULTS.verify, ['full', 'lazy']),
    gzipSpacingBytes: checkGzipSpacing(options.gzipSpacingBytes ?? READER_DEFAULTS.gzipSpacingBytes),
    maxDecodedBytes: options.maxDecodedBytes === undefined ? undefined : checkNonNegativeInt('maxDecodedBytes', options.maxDecodedBytes),
    inlineDecodeBytes: checkNonNegativeInt('inlineDecodeBytes', options.inlineDecodeBytes ?? READER_DEFAULTS.inlineDecodeBytes),
    prefixReads: checkBoolean('prefixReads', options.prefixReads ?? READER_DEFAULTS.prefixReads),
    pieces: {
      bigUnitBytes: checkPositiveInt('bigUnitBytes', options.bigUnitBytes ?? DEFAULT_PIECES.bigUnitBytes),
      pieceBytes: checkPositiveInt('pieceBytes', options.pieceBytes ?? DEFAULT_PIECES.pieceBytes),
    },
  };
}

/** What a `SeekableReader` takes from the resolved options, whichever open makes it (openReader, openIndexed). */
export function readerSettings(source: ByteSource, runner: JobRunner, resolved: ResolvedReaderOptions) {
  return {
    source,
    runner,
    parallelism: resolved.parallelism,
    cacheBytes: resolved.cacheBytes,
    pieces: resolved.pieces,
    verify: resolved.verify,
    maxDecodedBytes: resolved.maxDecodedBytes,
    inlineBytes: resolved.inlineDecodeBytes,
    prefixReads: resolved.prefixReads,
  };
}

/** The source options of reader options (`httpTimeoutMs` is the older name of `timeoutMs`). */
export function sourceOptions(options: ReaderOptions): SourceOptions {
  const timeoutMs = options.timeoutMs ?? options.httpTimeoutMs;
  return { ...options, ...(timeoutMs === undefined ? {} : { timeoutMs }) };
}

function checkGzipSpacing(value: unknown): number {
  const n = checkPositiveInt('gzipSpacingBytes', value);
  if (n < MIN_GZIP_SPACING) throw invalidOption('gzipSpacingBytes', `an integer of at least ${MIN_GZIP_SPACING} (64 KiB)`, value);
  return n;
}

export function runnerFor(parallelism: number, pool?: JobRunner): JobRunner {
  if (pool !== undefined) return pool;
  return parallelism > 1 ? sharedPool() : inlineRunner;
}
