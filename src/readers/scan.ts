/**
 * Sequential scans: every decoded chunk of a file in order, decoding up to `lookahead` chunks at once in
 * the worker pool, with memory bounded by that window. Scanning a bzip2 file without an index also
 * discovers its blocks (bzip2/scan.ts) and so builds the chunk map on the way.
 */
import { SeekdataError } from '../errors.js';
import type { ByteSource } from '../sources/source.js';
import type { JobRunner } from '../workers/pool.js';
import { scanBzip2 } from './bzip2/scan.js';
import type { AnalyzeSpec, ChunkAnalysis } from '../index/records/analyze.js';
import { isBigUnit, type ChunkDecoder, type DecodedChunk } from './chunks.js';
import { settle, unwrap, type Settled } from '../util.js';
import type { Format } from './detect.js';
import { UnitTableBuilder, type UnitTable } from './units.js';
import { parseXzContainer, padded4 } from './xz/container.js';

export interface ScannedChunk {
  /** Decompressed offset of the first byte. */
  offset: number;
  bytes: Uint8Array;
  /** Compressed bytes of the file consumed so far (for progress). */
  compressedDone: number;
  /** The records analysis of the chunk, when the scan asked for one. */
  analysis?: ChunkAnalysis | undefined;
}

/** Gives the analysis spec for the chunk at a decompressed offset (undefined: no analysis). */
export type AnalyzeFor = (offset: number) => AnalyzeSpec | undefined;

export interface ScanOptions {
  runner: JobRunner;
  /** Chunks decoded ahead of the consumer. */
  lookahead: number;
  signal?: AbortSignal | undefined;
  onWarning?: ((message: string) => void) | undefined;
}

/** Span of a plain file's units. */
export const PLAIN_SPAN_BYTES = 1 << 20;

export function plainUnits(size: number): UnitTable {
  const builder = new UnitTableBuilder('plain');
  for (let at = 0; at < size; at += PLAIN_SPAN_BYTES) {
    const end = Math.min(size, at + PLAIN_SPAN_BYTES);
    builder.add(at, end, end - at, 0, 0);
  }
  return builder.build();
}

export async function xzUnits(source: ByteSource): Promise<UnitTable> {
  const builder = new UnitTableBuilder('xz');
  for (const block of await parseXzContainer(source)) {
    builder.add(block.offset, block.offset + padded4(block.unpaddedSize), block.uncompressedSize, block.unpaddedSize, block.checkType);
  }
  return builder.build();
}

function aborted(source: ByteSource, signal: AbortSignal): SeekdataError {
  return new SeekdataError('ABORTED', `${source.name}: scan aborted`, { file: source.name, cause: signal.reason });
}

/** Every chunk of a file whose chunk map is known, in order, from decompressed offset `from`. */
export async function* scanKnown(
  decoder: ChunkDecoder,
  options: { lookahead: number; signal?: AbortSignal | undefined; analyzeFor?: AnalyzeFor | undefined },
  from = 0,
): AsyncGenerator<ScannedChunk> {
  const { source, units } = decoder;
  const layout = decoder.layout;
  const queue: Array<{ chunk: number; done: Promise<Settled<DecodedChunk>> }> = [];
  let next = 0;
  while (next < layout.count && layout.start[next + 1] <= from) next++;
  const fill = (): void => {
    while (next < layout.count && queue.length < options.lookahead) {
      const chunk = next++;
      const done = settle(decoder.decodeWith(chunk, options.signal, { analyze: options.analyzeFor?.(layout.start[chunk]) }));
      queue.push({ chunk, done });
      // Pieces of one big unit decode one after another anyway: do not queue them ahead.
      if (isBigUnit(units, layout.unit[chunk], layout.big)) break;
    }
  };
  for (;;) {
    fill();
    const head = queue.shift();
    if (head === undefined) return;
    const settled = await head.done;
    if (options.signal?.aborted) throw aborted(source, options.signal);
    const decoded = unwrap(settled);
    const u = layout.unit[head.chunk];
    const compressedEnd = units.format === 'bzip2' ? Math.ceil(units.cEnd[u] / 8) : units.cEnd[u];
    yield { offset: layout.start[head.chunk], bytes: decoded.bytes, compressedDone: compressedEnd, analysis: decoded.analysis };
  }
}

/**
 * Scans a bzip2 file without an index: yields its chunks in order while building its chunk map, which
 * `table()` returns once the scan has finished.
 */
export class Bzip2Discovery {
  private readonly builder = new UnitTableBuilder('bzip2');
  private finished = false;
  /** Units before the stream being scanned, and of it so far. */
  private streamStart = -1;
  private unitsBeforeStream = 0;
  /** Units that stay usable after damage: all but those of a stream whose CRC failed. */
  private trusted: number | undefined;

  constructor(
    private readonly source: ByteSource,
    private readonly options: ScanOptions & { analyzeFor?: AnalyzeFor | undefined },
  ) {}

  async *chunks(): AsyncGenerator<ScannedChunk> {
    const runner = this.options.runner;
    const signal = this.options.signal;
    const scan = scanBzip2({
      source: this.source,
      // The first block of the first stream (bit 32) is the only one known to start at offset 0 before the
      // walk: analysis specs that depend on the offset (the header) go by that.
      decode: (task) =>
        runner.run({ op: 'decode', task: { kind: 'bzip2', block: task }, analyze: this.options.analyzeFor?.(task.base * 8 + task.bitOffset === 32 ? 0 : -1) }, signal),
      lookahead: this.options.lookahead,
      signal,
      onWarning: this.options.onWarning,
      onBadStream: () => {
        this.trusted = this.unitsBeforeStream;
      },
    });
    for await (const { unit, result } of scan) {
      if (unit.streamStart !== this.streamStart) {
        this.streamStart = unit.streamStart;
        this.unitsBeforeStream = this.builder.count;
      }
      const offset = this.builder.decodedSize;
      this.builder.add(unit.cStartBit, unit.cEndBit, unit.dLength, unit.crc, unit.level);
      yield { offset, bytes: result.bytes, compressedDone: Math.ceil(unit.cEndBit / 8), analysis: result.analysis };
    }
    this.finished = true;
  }

  /**
   * The chunk map of every block scanned so far (complete once `chunks()` has ended). After a stream CRC
   * mismatch, the blocks of that stream are left out: their order (or membership) is known to be wrong.
   */
  table(): UnitTable {
    return this.builder.build(this.trusted);
  }

  get complete(): boolean {
    return this.finished;
  }
}

/** The chunk map of a file that needs no decoding to find its units (xz, plain). */
export async function tableWithoutScan(source: ByteSource, format: Format): Promise<UnitTable | undefined> {
  if (format === 'xz') return xzUnits(source);
  if (format === 'plain') return plainUnits(source.size);
  return undefined;
}
