/**
 * Discovering a zstd file whose frames do not all say their decoded size (pzstd, `zstd` reading a pipe):
 * the frames are walked (scan.ts), a frame of unknown size is decoded as a stream in this thread to learn
 * it, in pieces handed to the caller's step as `bytes` jobs; a frame of known size goes to the worker pool
 * as one decode job (with the step), up to `lookahead` jobs at once. The indexing pass decodes once.
 *
 * A streamed frame's pieces before its last come before the frame's checksum is checked: they say
 * `verified: false`; the last piece is handed out only after the whole frame passed. Frames with no
 * checksum at all get the CRC-32 of their decoded bytes recorded in the chunk map (`param`). A streamed
 * frame over `bigUnitBytes` (which a reader reads in pieces) gets the CRC32 of each of its pieces recorded
 * too (`pieceCrcs`), from the same bytes in this thread, before they go to a worker: a frame that fails its
 * checksum ends the scan before it is added, so only CRCs of verified bytes are handed out (a frame without
 * a checksum: of its first decode, as its `param`).
 */
import { crc32 } from 'node:zlib';
import { SeekdataError } from '../../errors.js';
import type { ByteSource } from '../../sources/source.js';
import { settle, unwrap, type Settled } from '../../util.js';
import type { Discovery, ScanContext, ScannedChunk } from '../format.js';
import { PieceCrcRecorder } from '../piece-crcs.js';
import type { UnitTable } from '../units.js';
import { scanZstdFrames } from './scan.js';
import { streamZstdFrame } from './stream.js';
import type { ZstdFrame } from './table.js';
import { unchecked, ZstdUnitsBuilder } from './units.js';
import { zstdUnitTask } from './unit-task.js';

/** Decoded pieces of a streamed frame (cut at the reader's pieces too: see `cuts`). */
const PIECE_BYTES = 1 << 20;
/** Frames of known size larger than this are streamed in pieces here too, never decoded whole in a job. */
const WHOLE_FRAME_MAX = 64 << 20;

interface Pending {
  offset: number;
  compressedDone: number;
  verified: boolean;
  /** For a verified chunk: the units of the chunk map it completes (all before are then verified too). */
  units: number;
  done: Promise<Settled<{ bytes: Uint8Array; step?: unknown }>>;
}

export class ZstdDiscovery implements Discovery {
  private builder = new ZstdUnitsBuilder(false);
  private started = false;
  private trusted = 0;
  private readonly queue: Pending[] = [];

  constructor(
    private readonly source: ByteSource,
    private readonly context: ScanContext,
  ) {}

  private bytesJob(offset: number, bytes: Uint8Array): Pending['done'] {
    const step = this.context.stepFor?.(offset);
    if (step === undefined) return Promise.resolve({ ok: true, value: { bytes } });
    // Pieces are fresh arrays of ours: moved to the worker and back.
    return settle(this.context.runner.run({ input: { kind: 'bytes', bytes }, step }, this.context.signal, [bytes.buffer as ArrayBuffer]));
  }

  private async frameJob(frame: ZstdFrame): Promise<{ bytes: Uint8Array; step?: unknown }> {
    // A copy (`new Uint8Array(view)` copies; a Buffer's `slice` would not), moved to the worker.
    const data = new Uint8Array(await this.source.read(frame.cStart, frame.cEnd - frame.cStart));
    const task = zstdUnitTask({ data, expectedLength: frame.dLength, kind: frame.flags, tableChecksum: frame.tableChecksum, crc: -1, offset: frame.cStart, file: this.source.name });
    const step = this.context.stepFor?.(frame.dStart);
    return this.context.runner.run({ input: { kind: 'decode', format: 'zstd', task }, step }, this.context.signal, [data.buffer]);
  }

  private push(offset: number, bytes: Uint8Array, compressedDone: number, verified: boolean): void {
    this.queue.push({ offset, compressedDone, verified, units: this.builder.count, done: this.bytesJob(offset, bytes) });
  }

  private async take(): Promise<ScannedChunk> {
    const file = this.source.name;
    const head = this.queue.shift();
    if (head === undefined) throw new Error('internal: zstd discovery queue empty');
    const result = unwrap(await head.done);
    if (this.context.signal?.aborted === true) throw new SeekdataError('ABORTED', `${file}: scan aborted`, { file, cause: this.context.signal.reason });
    if (head.verified) this.trusted = head.units;
    return { offset: head.offset, bytes: result.bytes, compressedDone: head.compressedDone, step: result.step, verified: head.verified };
  }

  /** A recorder of the CRC32s of a frame's pieces, when the caller reads big frames in pieces. */
  private recorder(): PieceCrcRecorder | undefined {
    const pieces = this.context.pieces;
    return pieces === undefined ? undefined : new PieceCrcRecorder(pieces.pieceBytes);
  }

  /**
   * Where a streamed frame's pieces are cut besides every PIECE_BYTES: at each of the reader's pieces of a
   * frame over `bigUnitBytes` (`pieceBytes` from its start), so that the pass meets a chunk starting wherever
   * the reader's do and its records can be re-based onto them (openIndexed, RecordBuilder.finishOn), whatever
   * `pieceBytes` is. The frame's size is not known before its end: every streamed frame is cut so.
   */
  private cuts(): number | undefined {
    return this.context.pieces?.pieceBytes;
  }

  /** What `recorder` recorded, kept for a frame a reader reads in pieces (over `bigUnitBytes`). */
  private kept(frame: ZstdFrame, recorder: PieceCrcRecorder | undefined): readonly number[] | undefined {
    const pieces = this.context.pieces;
    return recorder === undefined || pieces === undefined || frame.dLength <= pieces.bigUnitBytes ? undefined : recorder.done();
  }

  async *chunks(): AsyncGenerator<ScannedChunk> {
    const file = this.source.name;
    const lookahead = Math.max(1, this.context.lookahead);
    const queue = this.queue;
    // The frame being decoded to learn its size: the CRC-32 of its bytes (kept for a frame without a
    // checksum only, so computed only for one) and the CRC32s of its pieces.
    let crc = 0;
    let recorder = this.recorder();
    let lastEnd = 0;
    /** The latest piece of the frame being decoded to learn its size: its last one follows the checksum. */
    let held: { offset: number; bytes: Uint8Array } | undefined;
    try {
      for await (const item of scanZstdFrames(this.source, { pieceBytes: PIECE_BYTES, cutBytes: this.cuts(), onWarning: (m) => this.context.onWarning?.(m) })) {
        if (this.context.signal?.aborted === true) throw new SeekdataError('ABORTED', `${file}: scan aborted`, { file, cause: this.context.signal.reason });
        if (item.type === 'data') {
          if (held !== undefined) this.push(held.offset, held.bytes, lastEnd, false);
          if (!item.checked) crc = crc32(item.bytes, crc);
          recorder?.add(item.bytes);
          held = { offset: item.dStart, bytes: item.bytes };
        } else {
          const { frame } = item;
          if (!this.started) {
            this.builder = new ZstdUnitsBuilder(item.fromSeekTable);
            this.started = true;
          }
          if (item.decoded) {
            // The frame passed its checksum (when it has one): its last piece came after it.
            this.builder.add(frame, crc, this.kept(frame, recorder));
            if (held !== undefined) this.push(held.offset, held.bytes, frame.cEnd, true);
            held = undefined;
          } else if (frame.dLength > WHOLE_FRAME_MAX) {
            // Streamed like a frame of unknown size, one piece behind (the last follows the checksum).
            let c = 0;
            const pieces = this.recorder();
            const bare = unchecked(frame.flags);
            let last: { offset: number; bytes: Uint8Array } | undefined;
            let at = frame.dStart;
            for await (const bytes of streamZstdFrame(this.source, frame, PIECE_BYTES, this.cuts())) {
              if (last !== undefined) this.push(last.offset, last.bytes, lastEnd, false);
              if (bare) c = crc32(bytes, c);
              pieces?.add(bytes);
              last = { offset: at, bytes };
              at += bytes.length;
              while (queue.length >= lookahead) yield await this.take();
            }
            this.builder.add(frame, c, this.kept(frame, pieces));
            if (last !== undefined) this.push(last.offset, last.bytes, frame.cEnd, true);
          } else if (frame.dLength > 0) {
            // Decoded whole in a worker: no CRCs of its pieces, should a reader read it in pieces (a
            // `bigUnitBytes` under WHOLE_FRAME_MAX); a pass through it records them (openIndexed's second
            // pass, or a reader's first read in the frame).
            this.builder.add(frame);
            queue.push({ offset: frame.dStart, compressedDone: frame.cEnd, verified: true, units: this.builder.count, done: settle(this.frameJob(frame)) });
          }
          crc = 0;
          recorder = this.recorder();
          lastEnd = frame.cEnd;
        }
        while (queue.length >= lookahead) yield await this.take();
      }
    } catch (error) {
      // What was decoded of frames that passed is still handed out (in order), then the error.
      let verifiedUpTo = 0;
      queue.forEach((p, k) => {
        if (p.verified) verifiedUpTo = k + 1;
      });
      queue.splice(verifiedUpTo);
      while (queue.length > 0) yield await this.take();
      throw error;
    }
    while (queue.length > 0) yield await this.take();
    this.trusted = this.builder.count;
  }

  /** The chunk map of the frames decoded and verified so far (all of them once `chunks()` has ended). */
  table(): UnitTable {
    this.builder.truncate(this.trusted);
    return this.builder.build();
  }

  pieceCrcs(u: number): readonly number[] | undefined {
    return u < this.trusted ? this.builder.pieceCrcs(u) : undefined;
  }
}
