/**
 * Discovering a bzip2 file's units: the one decoding scan (scan.ts) run through the worker pool, yielding
 * the decoded chunks in order (with the result of the caller's step on each, run in the same job) while
 * building the chunk map, which `table()` returns once the scan has finished.
 */
import type { ByteSource } from '../../sources/source.js';
import type { Discovery, ScanContext, ScannedChunk } from '../format.js';
import type { DecodeOutput } from '../../workers/registry.js';
import type { Settled } from '../../util.js';
import { UnitTableBuilder, type UnitTable } from '../units.js';
import type { Bzip2BlockTask } from './block.js';
import { SeekdataError } from '../../errors.js';
import { postable } from '../post.js';
import { bzip2Info } from './info.js';
import { EMPTY_STREAM_BYTES, firstBlockBit } from './empty-streams.js';
import { scanBzip2, type Bzip2DecodeOutcome, type Bzip2Unit } from './scan.js';

/** Bytes read to find the first block: up to a few hundred leading empty streams. */
const FIRST_BIT_BYTES = 256 * EMPTY_STREAM_BYTES + 5;

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
  /** What `head` decoded, by start bit (taken once each). */
  private readonly early: Map<number, Promise<Settled<DecodeOutput>>>;
  private first: Promise<number | undefined> | undefined;

  constructor(
    private readonly source: ByteSource,
    private readonly options: ScanContext,
  ) {
    this.early = new Map(options.head?.units);
  }

  /** Where the file's first block starts (empty-streams.ts): bit 32 but after leading empty streams. */
  private firstBit(): Promise<number | undefined> {
    this.first ??= this.source.read(0, Math.min(this.source.size, FIRST_BIT_BYTES)).then(firstBlockBit);
    return this.first;
  }

  private async decode(task: Bzip2BlockTask, transfer: ArrayBuffer[]): Promise<Outcome> {
    // The first block of the first stream (bit 32, or after leading empty streams) is the only one known to
    // start at offset 0 before the walk: steps that depend on the offset (the CSV header) go by that.
    const at = task.base * 8 + task.bitOffset;
    // (Only a block where one could follow empty streams reads the file's start to know.)
    const afterEmpty = at > 32 && (at - 32) % (8 * EMPTY_STREAM_BYTES) === 0 && at < 8 * FIRST_BIT_BYTES;
    const first = at === 32 || (afterEmpty && at === (await this.firstBit()));
    const step = this.options.stepFor?.(first ? 0 : -1);
    // Asked with the step (the two go together: a step that returns what its caller needs, or the bytes).
    const keepBytes = this.options.keepBytes?.() ?? true;
    const early = await this.take(at);
    if (early !== undefined) {
      // Decoded by `head`: only the step runs, on a copy (the bytes stay here: they are the chunk's bytes).
      const info = bzip2Info(early.info);
      const outcome = { bytes: early.bytes, length: early.bytes.length, endBit: info.endBit - task.base * 8, crc: info.crc };
      if (step === undefined) return { ...outcome, step: undefined };
      const copy = new Uint8Array(early.bytes);
      const ran = await this.options.runner.run({ input: { kind: 'bytes', bytes: copy }, step, keepBytes: false }, this.options.signal, [copy.buffer]);
      return { ...outcome, step: ran.step };
    }
    const result = await this.options.runner.run({ input: { kind: 'decode', format: 'bzip2', task }, step, keepBytes }, this.options.signal, transfer);
    const info = bzip2Info(result.info);
    return { bytes: result.bytes, length: result.length, endBit: info.endBit, crc: info.crc, step: result.step };
  }

  /**
   * Block `unit` decoded again, all its bytes, checked against what the scan found (its end, CRC and
   * length: libbzip2 checks all three; the other decoders' answers are compared here).
   */
  private async whole(unit: Bzip2Unit): Promise<Uint8Array> {
    const file = this.source.name;
    const first = Math.floor(unit.cStartBit / 8);
    const end = Math.min(this.source.size, Math.ceil(unit.cEndBit / 8));
    const { bytes: data, transfer } = postable(await this.source.read(first, end - first), this.source.ownsReads === true);
    const endBit = unit.cEndBit - first * 8;
    const task: Bzip2BlockTask = { data, bitOffset: unit.cStartBit - first * 8, level: 9, base: first, atEnd: true, file, endBit, expectedCrc: unit.crc, expectedLength: unit.dLength };
    const result = await this.options.runner.run({ input: { kind: 'decode', format: 'bzip2', task } }, this.options.signal, transfer);
    const info = bzip2Info(result.info);
    if (info.endBit !== endBit || info.crc !== unit.crc || result.bytes.length !== unit.dLength) {
      throw new SeekdataError('CORRUPT_DATA', `${file}: the bzip2 block at byte ${first} decoded differently the second time`, { file, compressedOffset: first });
    }
    return result.bytes;
  }

  /**
   * The block at bit `at` as `head` decoded it (checked against its CRC; facts absolute), once: a block
   * that failed there, or a second decode at the same bit (the scan decoding again over a longer range),
   * is decoded by the scan's own job.
   */
  private async take(at: number): Promise<DecodeOutput | undefined> {
    const early = this.early.get(at);
    if (early === undefined) return undefined;
    this.early.delete(at);
    const settled = await early;
    return settled.ok ? settled.value : undefined;
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
      yield { offset, bytes: result.bytes, compressedDone: Math.ceil(unit.cEndBit / 8), step: result.step, whole: () => this.whole(unit) };
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
