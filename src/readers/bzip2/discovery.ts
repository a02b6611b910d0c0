/**
 * Discovering a bzip2 file's units: the one decoding scan (scan.ts) run through the worker pool, yielding
 * the decoded chunks in order (with the result of the caller's step on each, run in the same job) while
 * building the chunk map, which `table()` returns once the scan has finished.
 */
import type { ByteSource } from '../../sources/source.js';
import type { Discovery, ScanContext, ScannedChunk } from '../format.js';
import { UnitTableBuilder, type UnitTable } from '../units.js';
import type { Bzip2BlockTask } from './block.js';
import { bzip2Info } from './info.js';
import { scanBzip2, type Bzip2DecodeOutcome } from './scan.js';

interface Outcome extends Bzip2DecodeOutcome {
  step: unknown;
}

export class Bzip2Discovery implements Discovery {
  private readonly builder = new UnitTableBuilder('bzip2');
  private finished = false;
  /** Units before the stream being scanned, and of it so far. */
  private streamStart = -1;
  private unitsBeforeStream = 0;
  /** Units that stay usable after damage: all but those of a stream whose CRC failed. */
  private trusted: number | undefined;

  constructor(
    private readonly source: ByteSource,
    private readonly options: ScanContext,
  ) {}

  private async decode(task: Bzip2BlockTask, transfer: ArrayBuffer[]): Promise<Outcome> {
    // The first block of the first stream (bit 32) is the only one known to start at offset 0 before the
    // walk: steps that depend on the offset (the CSV header) go by that.
    const step = this.options.stepFor?.(task.base * 8 + task.bitOffset === 32 ? 0 : -1);
    const result = await this.options.runner.run({ input: { kind: 'decode', format: 'bzip2', task }, step }, this.options.signal, transfer);
    const info = bzip2Info(result.info);
    return { bytes: result.bytes, endBit: info.endBit, crc: info.crc, step: result.step };
  }

  async *chunks(): AsyncGenerator<ScannedChunk> {
    const scan = scanBzip2({
      source: this.source,
      decode: (task, transfer) => this.decode(task, transfer),
      lookahead: this.options.lookahead,
      signal: this.options.signal,
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
      yield { offset, bytes: result.bytes, compressedDone: Math.ceil(unit.cEndBit / 8), step: result.step };
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
