/**
 * `recompress(input, output)`: makes a file seekable once. The input (any format seekdata reads, or
 * plain) is read in order with a reader, cut into units of `unitBytes` decompressed bytes, each unit
 * compressed on its own in the worker pool (readers/write), and the output written atomically: gzip as
 * BGZF, zstd in the seekable format, xz as one stream of many blocks with their sizes in the block
 * headers, bzip2 as one stream per unit. It lives in the index layer because it opens the input with
 * `openReader`; the formats and the pipeline are the readers layer's.
 */
import { availableParallelism } from 'node:os';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SeekdataError, invalidOption } from '../errors.js';
import { checkKnownKeys, checkPositiveInt } from '../options.js';
import { RECOMPRESS_OPTION_KEYS } from '../option-keys.js';
import type { Progress } from '../readers/discover.js';
import type { Input } from '../readers/input.js';
import type { SeekableReader } from '../readers/reader.js';
import { AtomicOutput } from '../readers/write/atomic.js';
import { UnitCompressor } from '../readers/write/pipeline.js';
import { writeSettings } from '../readers/write/settings.js';
import type { WriteFormat } from '../readers/write/writers.js';
import type { JobRunner } from '../workers/pool.js';
import { openReader } from './open-reader.js';
import { runnerFor } from './reader-options.js';

export interface RecompressOptions {
  /** Output format: `'gzip'` (BGZF), `'zstd'` (seekable format), `'xz'` (multi-block) or `'bzip2'`. Default: from the output's name (`.gz`, `.zst`, `.xz`, `.bz2`); required otherwise. */
  format?: WriteFormat;
  /** Decompressed bytes per unit (the output's unit of random access). Default 1 MiB (1,048,576); 1 to 256 MiB. */
  unitBytes?: number;
  /** Compression level. Default and range per format: gzip 6 (0-9), zstd 3 (1-22), xz 6 (0-9, the preset), bzip2 9 (1-9). */
  level?: number;
  /** Units compressed at once, and the input's decode parallelism. 1 works in the calling thread; more use the worker pool. Default: the number of cores. */
  parallelism?: number;
  /** The worker pool to use (a `WorkerPool` of your own). Default: the process-wide shared pool (when parallelism > 1). */
  pool?: JobRunner;
  /** Units in flight at most: memory holds about this many units and their compressed forms. Default 2 x parallelism. */
  window?: number;
  /**
   * Progress of the input: decompressed bytes written so far out of the decompressed size; for an input
   * decoded while its chunk map is built (bzip2 without a fresh index), its compressed bytes read so far.
   */
  onProgress?: (progress: Progress) => void;
  /** Non-fatal findings about the input (e.g. trailing garbage). Default: ignored. */
  onWarning?: (message: string) => void;
  /**
   * Replace a file that exists at `output`. Default `false`: an existing output is an IO_ERROR before any
   * work (and at the end, if one appeared meanwhile); either way it is replaced only once the new file is
   * complete.
   */
  overwrite?: boolean;
  /** Cancels the work: the promise rejects with ABORTED and no output is left. */
  signal?: AbortSignal;
  /** Index file of the INPUT, as `openReader`'s `index`. Default `false`: none is read or written. */
  index?: string | false;
  /** Extra HTTP request headers for a URL input. */
  headers?: Record<string, string>;
  /** Time limit of every wait on an HTTP server, in ms. Default 30,000. */
  httpTimeoutMs?: number;
  /** Refuse an input that decodes to more bytes (decompression bombs): `LIMIT_EXCEEDED`, as `openReader`'s. Default: no limit. */
  maxDecodedBytes?: number;
}

export interface RecompressResult {
  /** The output file. */
  path: string;
  format: WriteFormat;
  level: number;
  unitBytes: number;
  /** Units written (the last may be shorter than unitBytes). */
  units: number;
  /** Decompressed bytes (the input's content). */
  decompressedBytes: number;
  /** Size of the output. */
  compressedBytes: number;
  /** Most units that were in flight at once. */
  maxInFlight: number;
}

/** The local path of an input, when it is one (for the same-file check). */
function localPath(input: Input): string | undefined {
  if (input instanceof URL) return input.protocol === 'file:' ? fileURLToPath(input) : undefined;
  if (typeof input === 'string' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) return input;
  return undefined;
}

async function refuseSameFile(input: Input, output: string): Promise<void> {
  const path = localPath(input);
  if (path === undefined) return;
  const same = (): SeekdataError =>
    new SeekdataError('INVALID_OPTION', `${output}: the output is the input file; write to another path (it is replaced only once complete)`, { file: output, option: 'output' });
  if (resolve(path) === resolve(output)) throw same();
  const [a, b] = await Promise.all([stat(path).catch(() => undefined), stat(output).catch(() => undefined)]);
  if (a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino) throw same();
}

/** Writes `input` to `output` as a seekable compressed file (see `RecompressOptions`). */
export async function recompress(input: Input, output: string, options: RecompressOptions = {}): Promise<RecompressResult> {
  checkKnownKeys(options, RECOMPRESS_OPTION_KEYS, 'recompress');
  if (typeof output !== 'string' || output === '') throw invalidOption('output', 'a file path', output);
  const settings = writeSettings(output, options);
  const parallelism = checkPositiveInt('parallelism', options.parallelism ?? availableParallelism());
  const window = checkPositiveInt('window', options.window ?? 2 * parallelism);
  if (options.overwrite !== undefined && typeof options.overwrite !== 'boolean') throw invalidOption('overwrite', 'true or false', options.overwrite);
  await refuseSameFile(input, output);
  const runner = runnerFor(parallelism, options.pool);
  const out = await AtomicOutput.create(output, { overwrite: options.overwrite === true });
  // Set once the input is streamed (not scanned): progress then counts decompressed bytes written.
  let total: number | undefined;
  const compressor = new UnitCompressor((bytes) => out.write(bytes), {
    ...settings,
    runner,
    window,
    signal: options.signal,
    onUnit: (done) => {
      if (total !== undefined) options.onProgress?.({ bytesDone: done, bytesTotal: total });
    },
  });
  let reader: SeekableReader | undefined;
  let scanned = false;
  try {
    reader = await openReader(input, {
      index: options.index ?? false,
      parallelism,
      ...(options.pool === undefined ? {} : { pool: options.pool }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
      ...(options.headers === undefined ? {} : { headers: options.headers }),
      ...(options.httpTimeoutMs === undefined ? {} : { httpTimeoutMs: options.httpTimeoutMs }),
      ...(options.maxDecodedBytes === undefined ? {} : { maxDecodedBytes: options.maxDecodedBytes }),
      // A bzip2 input without a chunk map is decoded by the scan that finds its blocks: those chunks are
      // the input, in order, so it is decoded once, and the scan's progress is the progress. (A gzip
      // scan hands out only a verified start, reader.scannedBytes; see below.) (Finding the
      // units of other inputs, from xz indexes or arithmetic, also reports progress: not passed on.)
      onProgress: (p) => {
        if (scanned) options.onProgress?.(p);
      },
      onScanChunk: (chunk) => {
        scanned = true;
        return compressor.push(chunk.bytes);
      },
    });
    if (!reader.scannedOnOpen) {
      // The scan may have handed out a verified start (whole gzip members before a member it had to cut
      // into spans): those bytes are in the compressor already; the rest is read through the reader.
      total = reader.size;
      options.onProgress?.({ bytesDone: reader.scannedBytes, bytesTotal: total });
      for await (const bytes of reader.stream(reader.scannedBytes)) await compressor.push(bytes);
    }
    const result = await compressor.finish();
    await out.commit();
    options.onProgress?.({ bytesDone: result.decompressedBytes, bytesTotal: result.decompressedBytes });
    return { path: output, ...settings, ...result };
  } catch (error) {
    await compressor.abandon();
    await out.discard();
    throw error;
  } finally {
    await reader?.close();
  }
}
