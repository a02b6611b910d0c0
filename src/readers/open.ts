/**
 * Opening a data file: resolve the source, detect the format, load a fresh index or build the chunk map
 * (a full parallel scan for bzip2, footers and indexes only for xz, arithmetic for plain files), and save
 * the index for next time.
 */
import { availableParallelism } from 'node:os';
import { SeekdataError, invalidOption, isSeekdataError } from '../errors.js';
import { checkBoolean, checkKnownKeys, checkOneOf, checkPositiveInt } from '../options.js';
import { READER_OPTION_KEYS } from '../option-keys.js';
import { FileSource } from '../sources/file-source.js';
import { HttpSource } from '../sources/http-source.js';
import { redactUrl } from '../sources/redact.js';
import { MemorySource, type ByteSource } from '../sources/source.js';
import { fingerprint, type Fingerprint } from '../index/fingerprint.js';
import { writeIndexFile, type SectionValue } from '../index/index-file.js';
import { indexPlacesFor, type IndexPlaces } from '../index/location.js';
import { findIndexes, unitSections, unitsFromSections, type FoundIndexes, type FreshCandidate, type IndexMeta } from '../index/store.js';
import { verifyUnits } from '../index/verify-units.js';
import { inlineRunner, sharedPool, type JobRunner } from '../workers/pool.js';
import type { Format } from './detect.js';
import { sourceFormat, warnUnchecked } from './source-format.js';
import { SeekableReader, type IndexStatus } from './reader.js';
import { Bzip2Discovery, tableWithoutScan, type ScannedChunk } from './scan.js';

export { sourceFormat } from './source-format.js';
import type { UnitTable } from './units.js';
import { DEFAULT_PIECES, type PieceOptions } from './chunks.js';
import type { VerifyMode } from './pieces.js';

export interface Progress {
  /** Compressed bytes processed. */
  bytesDone: number;
  /** Compressed bytes in all. */
  bytesTotal: number;
}

export interface ReaderOptions {
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
   * Open a bzip2 file damaged part-way: the reader covers the intact part and `reader.damage` holds the
   * error (reads past the intact part reject with it). Default false: opening rejects with the error.
   */
  allowDamage?: boolean;
  /** Extra HTTP request headers for URL sources. */
  headers?: Record<string, string>;
  /** Time limit of every wait on an HTTP server (for an answer's headers, then each piece of its body), in ms. Default 30,000. */
  httpTimeoutMs?: number;
  /**
   * Called with every decoded chunk, in order, when opening has to decode the whole file to build the
   * chunk map (bzip2 without a fresh index): a caller that wants all the bytes anyway (`seekdata cat`)
   * then decodes them once. `reader.scannedOnOpen` tells whether it was called.
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
}

export const READER_DEFAULTS = {
  cacheBytes: 256 << 20,
  ifStale: 'rebuild' as const,
  rebuild: false,
  allowDamage: false,
  verify: 'full' as const,
};


export type Input = string | URL | Uint8Array | ByteSource;

export async function openSource(input: Input, headers?: Record<string, string>, timeoutMs?: number): Promise<ByteSource> {
  if (input instanceof Uint8Array) return new MemorySource(input);
  if (input instanceof URL || (typeof input === 'string' && /^https?:\/\//i.test(input))) {
    const url = input instanceof URL ? input.href : input;
    if (!/^https?:/i.test(url)) {
      if (input instanceof URL && input.protocol === 'file:') return FileSource.open(decodeURIComponent(input.pathname));
      throw new SeekdataError('INVALID_OPTION', `${redactUrl(url)}: only file paths and http(s) URLs are supported`, { file: redactUrl(url) });
    }
    return HttpSource.open(url, { ...(headers === undefined ? {} : { headers }), ...(timeoutMs === undefined ? {} : { timeoutMs }) });
  }
  if (typeof input === 'string') return FileSource.open(input);
  if (typeof input === 'object' && input !== null && typeof input.read === 'function' && typeof input.size === 'number') return input;
  throw invalidOption('input', 'a path, URL, Uint8Array or ByteSource', input);
}

export interface ResolvedReaderOptions {
  cacheBytes: number;
  parallelism: number;
  ifStale: 'rebuild' | 'error';
  rebuild: boolean;
  allowDamage: boolean;
  pieces: PieceOptions;
  verify: VerifyMode;
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
    verify: checkOneOf('verify', options.verify ?? READER_DEFAULTS.verify, ['full', 'lazy']),
    pieces: {
      bigUnitBytes: checkPositiveInt('bigUnitBytes', options.bigUnitBytes ?? DEFAULT_PIECES.bigUnitBytes),
      pieceBytes: checkPositiveInt('pieceBytes', options.pieceBytes ?? DEFAULT_PIECES.pieceBytes),
    },
  };
}

export function runnerFor(parallelism: number, pool?: JobRunner): JobRunner {
  if (pool !== undefined) return pool;
  return parallelism > 1 ? sharedPool() : inlineRunner;
}

/** Where this source's index is read from and written to, or undefined when it has none. */
export async function indexPlaces(source: ByteSource, option: string | false | undefined, onWarning?: (message: string) => void): Promise<IndexPlaces | undefined> {
  if (option === false) return undefined;
  const isUrl = source instanceof HttpSource;
  if (typeof option === 'string') return indexPlacesFor(source.name, isUrl, option, onWarning);
  if (!isUrl && !(source instanceof FileSource)) return undefined;
  return indexPlacesFor(source.name, isUrl, undefined, onWarning);
}

/** The chunk map of a fresh index, checked against the data (see verify-units.ts). */
export async function loadUnits(candidate: FreshCandidate, source: ByteSource, format: Format): Promise<UnitTable> {
  const units = unitsFromSections(await candidate.file.loadPrefix('units.'), format, candidate.path);
  await verifyUnits(units, source, candidate.path);
  return units;
}

/** What a rebuilt index keeps of the record options of the indexes it replaces. */
export function carriedRecordOptions(found: FoundIndexes): unknown {
  const state = found.recordOptions();
  return state.state === 'known' ? state.options : state.state === 'unknown' ? 'unknown' : undefined;
}

/** Saves an index; a failure to save is a warning, not an error (the data is still readable). */
export async function saveIndex(
  places: { write: () => Promise<string> },
  sections: Array<[string, SectionValue]>,
  onWarning: ((message: string) => void) | undefined,
): Promise<{ path: string; bytes: number } | undefined> {
  let path = '(unknown)';
  try {
    path = await places.write();
    const bytes = await writeIndexFile(path, new Map(sections));
    return { path, bytes };
  } catch (error) {
    onWarning?.(`could not save index to ${path}: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

/** The `meta` section: format, fingerprint, and the data set's record options (and record layer). */
export function metaSection(source: ByteSource, format: Format, print: Fingerprint, recordOptions?: unknown, records?: unknown): [string, SectionValue] {
  const meta: IndexMeta = { format, source: source.name, fingerprint: print, createdAt: new Date().toISOString() };
  if (recordOptions !== undefined) meta.recordOptions = recordOptions;
  if (records !== undefined) meta.records = records;
  return ['meta', { json: meta }];
}

/**
 * Builds the chunk map of a source. For bzip2 this is the full scan; `onChunk` sees every decoded chunk
 * in order (so a caller that needs all the bytes anyway decodes them only once).
 */
export async function buildUnits(
  source: ByteSource,
  format: Format,
  options: {
    runner: JobRunner;
    parallelism: number;
    allowDamage: boolean;
    signal?: AbortSignal | undefined;
    onProgress?: ((progress: Progress) => void) | undefined;
    onWarning?: ((message: string) => void) | undefined;
    onChunk?: ((chunk: ScannedChunk) => void | Promise<void>) | undefined;
  },
): Promise<{ units: UnitTable; damage: SeekdataError | undefined }> {
  const known = await tableWithoutScan(source, format);
  if (known !== undefined) {
    options.onProgress?.({ bytesDone: source.size, bytesTotal: source.size });
    return { units: known, damage: undefined };
  }
  const discovery = new Bzip2Discovery(source, {
    runner: options.runner,
    lookahead: options.parallelism * 2,
    signal: options.signal,
    onWarning: options.onWarning,
  });
  try {
    for await (const chunk of discovery.chunks()) {
      await options.onChunk?.(chunk);
      options.onProgress?.({ bytesDone: chunk.compressedDone, bytesTotal: source.size });
    }
  } catch (error) {
    const damaged = isSeekdataError(error, 'CORRUPT_DATA') || isSeekdataError(error, 'TRUNCATED');
    if (!damaged || !options.allowDamage) {
      if (damaged && error instanceof SeekdataError) {
        throw new SeekdataError(error.code, `${error.message} (the intact part before it can be read with the allowDamage option, or --allow-damage)`, {
          file: error.file,
          compressedOffset: error.compressedOffset,
          cause: error,
        });
      }
      throw error;
    }
    return { units: discovery.table(), damage: error as SeekdataError };
  }
  options.onProgress?.({ bytesDone: source.size, bytesTotal: source.size });
  return { units: discovery.table(), damage: undefined };
}

/** Opens a data file for random access. */
export async function openReader(input: Input, options: ReaderOptions = {}): Promise<SeekableReader> {
  checkKnownKeys(options, READER_OPTION_KEYS, 'openReader');
  const resolved = resolveReaderOptions(options);
  const source = await openSource(input, options.headers, options.httpTimeoutMs);
  try {
    const format = await sourceFormat(source);
    const places = await indexPlaces(source, options.index, options.onWarning);
    const runner = runnerFor(resolved.parallelism, options.pool);
    const init = { source, runner, parallelism: resolved.parallelism, cacheBytes: resolved.cacheBytes, pieces: resolved.pieces, verify: resolved.verify };
    let print: Fingerprint | undefined;
    let rebuilding = false;
    let carried: unknown;
    if (places !== undefined) {
      print = await fingerprint(source);
      const found = await findIndexes(places.read, print, format, source.name, options.onWarning);
      try {
        if (!resolved.rebuild) {
          for (const candidate of [...found.fresh]) {
            try {
              const units = await loadUnits(candidate, source, format);
              warnUnchecked(units, source.name, options.onWarning);
              return new SeekableReader({ ...init, units, indexPath: candidate.path, indexStatus: 'loaded', damage: undefined, scannedOnOpen: false });
            } catch (error) {
              if (!isSeekdataError(error, 'CORRUPT_INDEX')) throw error;
              await found.demote(candidate, error);
            }
          }
        }
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
    const { units, damage } = await buildUnits(source, format, {
      runner,
      parallelism: resolved.parallelism,
      allowDamage: resolved.allowDamage,
      signal: options.signal,
      onProgress: options.onProgress,
      onWarning: options.onWarning,
      onChunk: options.onScanChunk,
    });
    warnUnchecked(units, source.name, options.onWarning);
    let indexPath: string | undefined;
    if (places !== undefined && print !== undefined && damage === undefined) {
      const saved = await saveIndex(places, [metaSection(source, format, print, carried), ...unitSections(units)], options.onWarning);
      indexPath = saved?.path;
    }
    const indexStatus: IndexStatus = indexPath === undefined ? 'none' : rebuilding ? 'rebuilt' : 'built';
    return new SeekableReader({ ...init, units, indexPath, indexStatus, damage, scannedOnOpen: format === 'bzip2' });
  } catch (error) {
    await source.close();
    throw error;
  }
}
