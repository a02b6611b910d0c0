/**
 * Chunks are what the reader caches and decodes: normally one chunk per unit. A unit too large to decode
 * at once (an xz file written as one huge block) is split into fixed-size pieces (pieces.ts). Decoding a
 * chunk is the same for every format: the format turns the unit into a job input (format.ts), the job
 * runs in the worker pool (with the caller's step, if any), and the format checks the result against the
 * chunk map. What the step does is the caller's business: this layer only carries it.
 */
import { SeekdataError } from '../errors.js';
import type { ByteSource } from '../sources/source.js';
import { runJob, type JobResult, type WorkerJob } from '../workers/jobs.js';
import { inlineRunner, type JobRunner, type JobStop } from '../workers/pool.js';
import { runStep, type StepCall } from '../workers/registry.js';
import { streams, type FormatModule, type StreamingFormat } from './format.js';
import { formatOf } from './formats.js';
import { PieceDecoder, pieceCrcTable, type VerifyMode } from './pieces.js';
import { postable } from './post.js';
import { floorIndex, type PieceCrcTable, type UnitTable } from './units.js';

/**
 * Default `inlineBytes`: units of formats that can (gzip, zstd) decoding to at most this many bytes are
 * decoded in the calling thread rather than posted to a worker (a 1 MiB gzip span or zstd frame decodes
 * in 1-2 ms, and a worker round trip adds 0.3-0.5 ms to it, several ms on a loaded machine).
 */
export const INLINE_DECODE_BYTES = 2 << 20;

/** Default: units larger than this (decompressed) are read in pieces. */
export const BIG_UNIT_BYTES = 64 << 20;
/** Default piece size for big units. */
export const PIECE_BYTES = 8 << 20;

export interface PieceOptions {
  /** Units larger than this (decompressed bytes) of formats that stream them are read in pieces. */
  bigUnitBytes: number;
  /** Size of those pieces. */
  pieceBytes: number;
}

export const DEFAULT_PIECES: PieceOptions = { bigUnitBytes: BIG_UNIT_BYTES, pieceBytes: PIECE_BYTES };

export interface DecodedChunk {
  /** The chunk's bytes (empty when the caller asked only for the step's result). */
  bytes: Uint8Array;
  /** What the step returned, when one was asked for. */
  step?: unknown;
}

/** Work done on a chunk in the same worker job that decodes it. */
export interface ChunkWork {
  step?: StepCall | undefined;
  /** Whether the bytes are wanted back (default true). */
  keepBytes?: boolean | undefined;
  /**
   * The caller waits on this chunk alone (a random read while nothing else of its reader is decoding): a
   * small unit whose format decodes it in a short synchronous native call ('blocking', see
   * `FormatModule.inline`) is then decoded in the calling thread. Default false.
   */
  lone?: boolean | undefined;
  /**
   * Stops the job while it runs (`JobRunner.run`'s `stop`: its worker thread is terminated). For a step
   * that may run too long (a user map with a time limit); such a step always runs in the runner, never in
   * the calling thread (not even for a big unit's piece).
   */
  stop?: JobStop | undefined;
}

export interface ChunkLayout {
  count: number;
  /** Unit of each chunk. */
  unit: Uint32Array;
  /** Decompressed start of each chunk; `start[count]` is the total size. */
  start: Float64Array;
  /** First chunk of each unit. */
  firstChunk: Uint32Array;
  /** Units over `big` bytes are split into pieces of `piece` bytes. */
  big: number;
  piece: number;
}

function streamsBigUnits(format: FormatModule): format is StreamingFormat {
  return format.bigUnits === true && streams(format);
}

export function isBigUnit(units: UnitTable, u: number, big: number): boolean {
  return units.dStart[u + 1] - units.dStart[u] > big && streamsBigUnits(formatOf(units.format));
}

export function chunkLayout(units: UnitTable, pieces: PieceOptions = DEFAULT_PIECES): ChunkLayout {
  const big = pieces.bigUnitBytes;
  const piece = pieces.pieceBytes;
  let count = 0;
  for (let u = 0; u < units.count; u++) count += isBigUnit(units, u, big) ? Math.ceil((units.dStart[u + 1] - units.dStart[u]) / piece) : 1;
  const unit = new Uint32Array(count);
  const start = new Float64Array(count + 1);
  const firstChunk = new Uint32Array(units.count);
  let c = 0;
  for (let u = 0; u < units.count; u++) {
    firstChunk[u] = c;
    const base = units.dStart[u];
    const length = units.dStart[u + 1] - base;
    const n = isBigUnit(units, u, big) ? Math.ceil(length / piece) : 1;
    for (let k = 0; k < n; k++) {
      unit[c] = u;
      start[c] = base + k * piece;
      c++;
    }
  }
  start[count] = units.dStart[units.count];
  return { count, unit, start, firstChunk, big, piece };
}

export function chunkAt(layout: ChunkLayout, offset: number): number {
  return floorIndex(layout.start, layout.count, offset);
}

export interface ChunkDecoderOptions {
  /**
   * 'full' (default): pieces of big units are handed out only after their unit's check (see pieces.ts).
   * 'lazy': as they are decoded, for a caller that drops everything when a later piece fails.
   */
  verify?: VerifyMode | undefined;
  /** Receives every piece of a big unit decoded on the way to the one asked for, to cache it. */
  onPiece?: ((chunk: number, bytes: Uint8Array) => void) | undefined;
  /** A piece already at hand (the caller's cache). */
  cached?: ((chunk: number) => Uint8Array | undefined) | undefined;
  /** Bytes of pieces a verification pass may hold for the cache. Default 0 (only the piece asked for). */
  holdBytes?: number | undefined;
  /** Told the backend that decoded each unit decoded whole (`DecodeOutput.decoder`), when the format names it. */
  onDecoder?: ((name: string) => void) | undefined;
  /**
   * Units decoding to at most this many bytes are decoded in the calling thread, as their format allows
   * (`FormatModule.inline`), instead of by the runner; steps still run in the runner. 0 (default): never.
   */
  inlineBytes?: number | undefined;
  /** Told of each chunk decoded in the calling thread instead of by the runner (`inlineBytes`). */
  onInline?: (() => void) | undefined;
}

export class ChunkDecoder {
  readonly format: FormatModule;
  private readonly pieces: PieceDecoder | undefined;
  private readonly crcs: PieceCrcTable;
  private readonly onDecoder: ((name: string) => void) | undefined;
  private readonly inlineBytes: number;
  private readonly onInline: (() => void) | undefined;

  constructor(
    readonly source: ByteSource,
    readonly units: UnitTable,
    readonly layout: ChunkLayout,
    private readonly runner: JobRunner,
    options: ChunkDecoderOptions = {},
  ) {
    this.format = formatOf(units.format);
    this.crcs = pieceCrcTable(units, layout);
    this.onDecoder = options.onDecoder;
    // The inline runner decodes in the calling thread anyway.
    this.inlineBytes = runner === inlineRunner ? 0 : (options.inlineBytes ?? 0);
    this.onInline = options.onInline;
    if (streamsBigUnits(this.format)) {
      this.pieces = new PieceDecoder(source, units, layout, this.format, {
        verify: options.verify ?? 'full',
        onPiece: options.onPiece ?? (() => {}),
        cached: options.cached ?? (() => undefined),
        holdBytes: options.holdBytes ?? 0,
      });
    }
  }

  /** Whether the pieces of big unit `u` have known CRCs (the unit has passed its check once). */
  pieceVerified(u: number): boolean {
    return this.pieces?.known(u) ?? true;
  }

  /** CRC32s of the pieces of big units, as far as known. */
  get pieceCrcs(): PieceCrcTable {
    return this.crcs;
  }

  /** Decodes one chunk and checks it against the chunk map (`lone`: see `ChunkWork.lone`). */
  async decode(chunk: number, signal?: AbortSignal, lone = false): Promise<Uint8Array> {
    return (await this.decodeWith(chunk, signal, { lone })).bytes;
  }

  /** Whether unit `u` is decoded in the calling thread rather than by the runner (see `inlineBytes`). */
  private decodesInline(u: number, lone: boolean): boolean {
    if (this.inlineBytes <= 0 || this.units.dStart[u + 1] - this.units.dStart[u] > this.inlineBytes) return false;
    const how = this.format.inline?.(this.units, u);
    return how === 'off-thread' || (how === 'blocking' && lone);
  }

  /** Runs a decode job in the calling thread (the same decode and checks a worker runs). */
  private async runInline(job: WorkerJob, signal: AbortSignal | undefined): Promise<JobResult> {
    if (signal?.aborted === true) throw new SeekdataError('ABORTED', 'job aborted', { cause: signal.reason });
    this.onInline?.();
    return runJob(job);
  }

  /**
   * Decodes one chunk and, in the same worker job, runs the step asked for on its bytes. With `cached`
   * (the chunk's bytes, already decoded and checked) the step runs on them instead: no decode.
   */
  async decodeWith(chunk: number, signal: AbortSignal | undefined, work: ChunkWork, cached?: Uint8Array): Promise<DecodedChunk> {
    const { step } = work;
    const keep = work.keepBytes !== false;
    if (cached !== undefined) return this.onBytes(cached, work, signal);
    const u = this.layout.unit[chunk];
    if (this.pieces !== undefined && isBigUnit(this.units, u, this.layout.big)) {
      // Pieces are decoded in this thread (they stream through the unit): the step runs here too, unless
      // it is one that may need stopping (a thread can be stopped only by terminating it).
      const bytes = await this.pieces.decode(chunk);
      if (step !== undefined && work.stop !== undefined) return this.onBytes(bytes, work, signal);
      return { bytes: keep ? bytes : new Uint8Array(0), step: step === undefined ? undefined : runStep(step, bytes) };
    }
    const inline = step === undefined && this.decodesInline(u, work.lone === true);
    const { input, transfer } = await this.format.task(this.source, this.units, u, inline);
    if (input.kind === 'bytes') return this.onBytes(input.bytes, work, signal, transfer);
    const job: WorkerJob = { input, step, keepBytes: keep };
    const result = inline ? await this.runInline(job, signal) : await this.runner.run(job, signal, transfer, work.stop);
    const file = this.source.name;
    this.format.check?.(this.units, u, result, file);
    if (result.decoder !== undefined) this.onDecoder?.(result.decoder);
    const expected = this.layout.start[chunk + 1] - this.layout.start[chunk];
    if (result.length !== expected) {
      throw new SeekdataError('CORRUPT_INDEX', `${file}: ${this.format.unitName} ${u} decoded to ${result.length} bytes, the chunk map says ${expected}`, { file });
    }
    return { bytes: result.bytes, step: result.step };
  }

  /**
   * Bytes that need no decoding (a plain span, a cached chunk): returned as they are, or posted with the step.
   * `transfer`: their buffer when the task says it may be moved (a read the source gave away).
   */
  private async onBytes(bytes: Uint8Array, work: ChunkWork, signal: AbortSignal | undefined, transfer: ArrayBuffer[] = []): Promise<DecodedChunk> {
    if (work.step === undefined) return { bytes };
    // Else not ours to move (a source's shared array, or the cache's): posted as a copy (see postable).
    const post = transfer.length > 0 ? { bytes, transfer } : postable(bytes, false);
    const result = await this.runner.run({ input: { kind: 'bytes', bytes: post.bytes }, step: work.step, keepBytes: work.keepBytes }, signal, post.transfer, work.stop);
    return { bytes: result.bytes, step: result.step };
  }

  close(): void {
    this.pieces?.close();
  }
}
