/**
 * SequentialStream: batches in file order for streaming training, reading chunks ahead in parallel;
 * with `wrap`, it continues from the first record after the last one, filling batches across the end,
 * for as long as it is iterated.
 */
import type { Indexed } from '../index/indexed.js';
import { checkBoolean, checkKnownKeys, checkNonNegativeInt, checkPositiveInt } from '../options.js';
import { SEQUENTIAL_OPTION_KEYS } from '../option-keys.js';
import { BatchBuilder, type Batch } from './batch.js';
import { compileFeatures, type FeatureOptions } from './features.js';
import type { ParseSpec } from './parse.js';
import { labelWidthOf, loadChunkRows, type ChunkRows } from './rows.js';
import type { SkipTally } from './skips.js';

export interface SequentialOptions extends FeatureOptions {
  /** Rows per batch. Default 32. */
  batchSize?: number;
  /** Continue from the start after the end (an endless stream). Default false. */
  wrap?: boolean;
  /** Record to start at. Default 0. */
  startRecord?: number;
}

export class SequentialStream implements AsyncIterable<Batch> {
  readonly featureNames: string[];
  readonly labelNames: string[];
  readonly spec: ParseSpec;
  readonly batchSize: number;
  readonly wrap: boolean;
  private readonly startRecord: number;
  /** Records skipped by the missing / malformed policies. */
  skipped = 0;
  /** This pass's skips, for the warning at its end (options.onWarning). */
  private readonly skips: SkipTally;

  constructor(
    readonly file: Indexed,
    options: SequentialOptions = {},
  ) {
    checkKnownKeys(options, SEQUENTIAL_OPTION_KEYS, 'SequentialStream');
    const compiled = compileFeatures(file, options);
    this.spec = compiled.spec;
    this.featureNames = compiled.featureNames;
    this.labelNames = compiled.labelNames;
    this.skips = compiled.skips;
    this.batchSize = checkPositiveInt('batchSize', options.batchSize ?? 32);
    this.wrap = checkBoolean('wrap', options.wrap ?? false);
    this.startRecord = checkNonNegativeInt('startRecord', options.startRecord ?? 0);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Batch> {
    const records = this.file.records;
    const chunks = records.firstRecord.length - 1;
    if (records.count === 0) return;
    const lookahead = this.file.readAhead;
    const startChunk = this.startRecord < records.count ? records.chunkOf(this.startRecord) : 0;
    // Chunk k of the stream is file chunk (startChunk + k) mod chunks.
    const pending = new Map<number, Promise<ChunkRows>>();
    // Aborted when the consumer leaves: chunks read ahead are not started, a timed map's call is stopped.
    const left = new AbortController();
    const job = (k: number): Promise<ChunkRows> => {
      let p = pending.get(k);
      if (p === undefined) {
        p = loadChunkRows(this.file, (startChunk + k) % chunks, this.spec, left.signal);
        p.catch(() => undefined);
        pending.set(k, p);
      }
      return p;
    };
    const newBuilder = (): BatchBuilder => new BatchBuilder(this.batchSize, this.spec.features.length, labelWidthOf(this.spec), this.spec.labelType);
    let builder = newBuilder();
    /** Adds the rows of a chunk that `keep` selects, yielding each batch as it fills. */
    const emit = function* (rows: ChunkRows, keep: (record: number) => boolean): Generator<Batch> {
      for (let r = 0; r < rows.rows.rows; r++) {
        if (!keep(rows.rows.records[r])) continue;
        builder.add(rows.rows, r);
        if (builder.full) {
          yield builder.build();
          builder = newBuilder();
        }
      }
    };
    // Every pass starts at startRecord; when wrapping, the start chunk's earlier records end the pass,
    // taken from the rows already parsed at the pass's start (not decoded a second time).
    let startRows: ChunkRows | undefined;
    // A pass is one round over the file's chunks; each ends with its skip warning (if due).
    let pass = 0;
    try {
      for (let k = 0; this.wrap || k < chunks; k++) {
        for (let a = k; a < k + lookahead && (this.wrap || a < chunks); a++) job(a);
        const rows = await job(k);
        pending.delete(k);
        this.skipped += rows.rows.skipped;
        this.skips.add(rows.rows);
        if (k % chunks === 0) {
          startRows = rows;
          yield* emit(rows, (record) => record >= this.startRecord);
        } else yield* emit(rows, () => true);
        if (this.wrap && (k + 1) % chunks === 0) {
          if (this.startRecord > 0 && startRows !== undefined) yield* emit(startRows, (record) => record < this.startRecord);
          this.skips.end(`pass ${pass++}`);
        }
      }
      if (builder.size > 0) yield builder.build();
    } finally {
      left.abort();
      this.skips.end(`pass ${pass}`);
    }
  }
}
