/**
 * Compressing a stream of bytes into independent units, in parallel and in order, with bounded memory.
 * Bytes pushed in are cut into units of exactly `unitBytes` (the last one shorter) at whatever offset
 * that falls on: units know nothing of records. Each unit is a worker job (a `bytes` input with the
 * `compress` step) and its buffer is moved to the worker. At most `window` units are in flight; the
 * next push waits for the oldest to finish and be written, so memory holds about
 * `window x (unitBytes + its compressed size)` plus the unit being filled, whatever the input's size.
 * Results are written in unit order, framed by the format's head and tail (writers.ts).
 */
import { SeekdataError } from '../../errors.js';
import type { JobResult, WorkerJob } from '../../workers/jobs.js';
import type { JobRunner } from '../../workers/pool.js';
import { postable } from '../post.js';
import { compressStep } from './steps.js';
import { writerOf, type UnitRecord, type WriteFormat, type Writer } from './writers.js';

export interface CompressorOptions {
  format: WriteFormat;
  level: number;
  /** Decompressed bytes per unit. */
  unitBytes: number;
  runner: JobRunner;
  /** Units compressing at once, at most. */
  window: number;
  signal?: AbortSignal | undefined;
  /** Called after each unit is written, with the decompressed and compressed bytes written so far. */
  onUnit?: ((decompressedBytes: number, compressedBytes: number) => void) | undefined;
}

export interface CompressorResult {
  units: number;
  decompressedBytes: number;
  /** Bytes of the output, head and tail included. */
  compressedBytes: number;
  /** Most units that were in flight at once (at most the window). */
  maxInFlight: number;
}

interface InFlight {
  job: Promise<JobResult>;
  length: number;
}

export class UnitCompressor {
  private readonly writer: Writer;
  private readonly records: UnitRecord[] = [];
  private readonly queue: InFlight[] = [];
  private filling: Uint8Array;
  private filled = 0;
  private started = false;
  private closed = false;
  private decompressedBytes = 0;
  private compressedBytes = 0;
  private maxInFlight = 0;

  constructor(
    private readonly write: (bytes: Uint8Array) => Promise<void>,
    private readonly options: CompressorOptions,
  ) {
    this.writer = writerOf(options.format);
    this.filling = new Uint8Array(options.unitBytes);
  }

  /** Adds bytes to the output; waits while the window is full. */
  async push(bytes: Uint8Array): Promise<void> {
    if (this.closed) throw new SeekdataError('CLOSED', 'recompress: bytes pushed after the output was finished');
    let used = 0;
    while (used < bytes.length) {
      const take = Math.min(bytes.length - used, this.filling.length - this.filled);
      this.filling.set(bytes.subarray(used, used + take), this.filled);
      this.filled += take;
      used += take;
      if (this.filled === this.filling.length) {
        const unit = this.filling;
        this.filling = new Uint8Array(this.options.unitBytes);
        this.filled = 0;
        await this.submit(unit);
      }
    }
  }

  /** Compresses the last (partial) unit, writes everything in flight and the format's tail. */
  async finish(): Promise<CompressorResult> {
    if (this.filled > 0) {
      // An exact copy: the unit owns its buffer and moves to the worker whole.
      const unit = this.filling.slice(0, this.filled);
      this.filled = 0;
      await this.submit(unit);
    }
    this.closed = true;
    while (this.queue.length > 0) await this.writeOldest();
    await this.begin();
    const tail = this.writer.tail(this.records, this.options.level);
    if (tail.length > 0) await this.emit(tail);
    return { units: this.records.length, decompressedBytes: this.decompressedBytes, compressedBytes: this.compressedBytes, maxInFlight: this.maxInFlight };
  }

  /** Gives up: waits for the jobs in flight (a worker job is never cut short) and drops their results. */
  async abandon(): Promise<void> {
    this.closed = true;
    const jobs = this.queue.splice(0).map((q) => q.job);
    await Promise.allSettled(jobs);
  }

  private async submit(unit: Uint8Array): Promise<void> {
    if (this.options.signal?.aborted === true) throw new SeekdataError('ABORTED', 'recompress aborted', { cause: this.options.signal.reason });
    while (this.queue.length >= this.options.window) await this.writeOldest();
    const { bytes, transfer } = postable(unit, true);
    const job: WorkerJob = {
      input: { kind: 'bytes', bytes },
      step: compressStep.call({ format: this.options.format, level: this.options.level }),
      keepBytes: false,
    };
    const length = unit.length;
    const running = this.options.runner.run(job, undefined, transfer);
    // Awaited in order by writeOldest; until then a failure must not count as unhandled.
    running.catch(() => undefined);
    this.queue.push({ job: running, length });
    this.maxInFlight = Math.max(this.maxInFlight, this.queue.length);
  }

  private async writeOldest(): Promise<void> {
    const oldest = this.queue[0];
    const result = await oldest.job;
    this.queue.shift();
    if (result.length !== oldest.length) {
      throw new SeekdataError('WORKER_ERROR', `recompress: a compress job took ${result.length} bytes for a unit of ${oldest.length}`);
    }
    const unit = compressStep.result(result.step);
    await this.begin();
    await this.emit(unit.bytes);
    this.records.push({ compressedSize: unit.bytes.length, decompressedSize: oldest.length, note: unit.note });
    this.decompressedBytes += oldest.length;
    this.options.onUnit?.(this.decompressedBytes, this.compressedBytes);
  }

  private async begin(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const head = this.writer.head(this.options.level);
    if (head.length > 0) await this.emit(head);
  }

  private async emit(bytes: Uint8Array): Promise<void> {
    await this.write(bytes);
    this.compressedBytes += bytes.length;
  }
}
