/**
 * Opening a data file for random access: resolve the source, detect the format, load a fresh index (its
 * chunk map checked against the data) or discover the chunk map (a full parallel scan for bzip2, footers
 * and indexes only for xz, arithmetic for plain files), and save the index for next time.
 */
import { availableParallelism } from 'node:os';
import { invalidOption, isSeekdataError } from '../errors.js';
import { checkBoolean, checkKnownKeys, checkNonNegativeInt, checkOneOf, checkPositiveInt } from '../options.js';
import { READER_OPTION_KEYS } from '../option-keys.js';
import { DEFAULT_PIECES, INLINE_DECODE_BYTES, type PieceOptions } from '../readers/chunks.js';
import { discoverUnits, type Progress } from '../readers/discover.js';
import type { ScannedChunk } from '../readers/format.js';
import { openSource, type Input, type SourceOptions } from '../readers/input.js';
import { checkKnownSize } from '../readers/limit.js';
import type { VerifyMode } from '../readers/pieces.js';
import type { UnitTable } from '../readers/units.js';
import { SeekableReader, type IndexStatus } from '../readers/reader.js';
import { sourceFormat, warnOnOpen } from '../readers/source-format.js';
import type { ByteSource } from '../sources/source.js';
import { inlineRunner, sharedPool, type JobRunner } from '../workers/pool.js';
import { fingerprint, type Fingerprint } from './fingerprint.js';
import { carriedRecordOptions, checkIndexPlace, indexPlaces, loadUnits, metaSection, saveIndex } from './persist.js';
import { findIndexes } from './store.js';
import { recordUnitChecks, unitsNeedingRecording } from './record-checks.js';
import { unitSections } from './unit-sections.js';

export type { Progress } from '../readers/discover.js';
export type { Input } from '../readers/input.js';

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
   * A `read` inside one gzip span that is not cached decodes the span only from its checkpoint through
   * the end of the 64 KiB sub-span holding the read's last byte (on average about half the span), and
   * checks the CRC-32 of every sub-span it decoded (recorded by the indexing pass) before returning: in
   * the calling thread, under the same conditions as `inlineDecodeBytes`. A second read into a span read
   * just before decodes it whole and caches it. Indexes written before sub-span CRC-32s existed, BGZF and
   * runs of members decode whole units. `false`: always whole units. Default true.
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

/** Opens a data file for random access. */
export async function openReader(input: Input, options: ReaderOptions = {}): Promise<SeekableReader> {
  checkKnownKeys(options, READER_OPTION_KEYS, 'openReader');
  const resolved = resolveReaderOptions(options);
  const source = await openSource(input, sourceOptions(options));
  try {
    const format = await sourceFormat(source);
    const places = await indexPlaces(source, options.index, options.onWarning, sourceOptions(options));
    const upload = checkBoolean('indexUpload', options.indexUpload ?? false) ? places?.remote : undefined;
    const runner = runnerFor(resolved.parallelism, options.pool);
    const init = readerSettings(source, runner, resolved);
    let print: Fingerprint | undefined;
    let rebuilding = false;
    let carried: unknown;
    /** A fresh index's chunk map that lacks recorded checks (with `recordChecks`): completed and saved again. */
    let incomplete: UnitTable | undefined;
    if (places !== undefined) {
      print = await fingerprint(source);
      let found = await findIndexes(places.read, print, format, source.name, options.onWarning, places);
      let fetched = false;
      // No fresh index here: the one beside the object in its store (s3://…/<key>.sdx), when it has one.
      if (found.fresh.length === 0 && places.remote !== undefined && !resolved.rebuild) {
        fetched = await places.remote.fetch(await places.write(), options.onWarning);
        if (fetched) {
          await found.close();
          found = await findIndexes(places.read, print, format, source.name, options.onWarning, places);
        }
      }
      try {
        if (!resolved.rebuild) {
          for (const candidate of [...found.fresh]) {
            try {
              const units = await loadUnits(candidate, source, format);
              if (resolved.recordChecks && unitsNeedingRecording(units) > 0) {
                incomplete = units;
                break;
              }
              warnOnOpen(units, source.name, options.onWarning);
              if (upload !== undefined && !fetched) await upload.upload(candidate.path, options.onWarning);
              return new SeekableReader({ ...init, units, indexPath: candidate.path, indexStatus: 'loaded', damage: undefined, scannedOnOpen: false });
            } catch (error) {
              if (!isSeekdataError(error, 'CORRUPT_INDEX')) throw error;
              await found.demote(candidate, error);
            }
          }
        }
        // Nothing built that could not be kept: another data file's index at the `index` path is an error.
        await checkIndexPlace(places);
        const problem = found.problems[0];
        carried = carriedRecordOptions(found);
        rebuilding = resolved.rebuild || problem !== undefined;
        if (problem !== undefined && !resolved.rebuild) {
          if (resolved.ifStale === 'error') throw problem.error;
          const kept = carried === 'unknown' ? ' (its record options cannot be read: record commands will ask for them)' : carried === undefined ? '' : ' (keeping its record options)';
          options.onWarning?.(`${problem.error.message}; rebuilding the chunk map${kept}`);
        }
      } finally {
        await found.close();
      }
    }
    const discovered = incomplete !== undefined ? { units: incomplete, damage: undefined, scanned: false, handedOut: 0, warned: true } : await discoverUnits(source, format, {
      runner,
      parallelism: resolved.parallelism,
      allowDamage: resolved.allowDamage,
      signal: options.signal,
      onProgress: options.onProgress,
      onWarning: options.onWarning,
      onChunk: options.onScanChunk,
      unitBytes: resolved.gzipSpacingBytes,
      pieces: resolved.pieces,
      maxDecodedBytes: resolved.maxDecodedBytes,
    });
    const { units, damage, scanned, handedOut, warned } = discovered;
    let indexPath: string | undefined;
    const saving = places !== undefined && print !== undefined && damage === undefined;
    if (saving && resolved.recordChecks && unitsNeedingRecording(units) > 0) {
      // A loaded chunk map has not met the limit yet (the reader's constructor checks it): before decoding.
      checkKnownSize(units, source.name, resolved.maxDecodedBytes, 'its chunk map');
      await recordUnitChecks(source, units, runner, { pieces: resolved.pieces, parallelism: resolved.parallelism, signal: options.signal });
    } else if (warned !== true) {
      warnOnOpen(units, source.name, options.onWarning);
    }
    if (places !== undefined && print !== undefined && damage === undefined) {
      const saved = await saveIndex(places, [metaSection(source, places.owner, format, print, carried), ...unitSections(units)], options.onWarning);
      indexPath = saved?.path;
      if (upload !== undefined && indexPath !== undefined) await upload.upload(indexPath, options.onWarning);
    }
    const indexStatus: IndexStatus = indexPath === undefined ? 'none' : rebuilding ? 'rebuilt' : 'built';
    return new SeekableReader({ ...init, units, indexPath, indexStatus, damage, scannedOnOpen: scanned, scannedBytes: handedOut });
  } catch (error) {
    await source.close();
    throw error;
  }
}
