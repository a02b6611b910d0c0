/**
 * Discovering an ordinary gzip file's units: the one sequential checkpoint pass (scan.ts) inflates the
 * file in this thread, and every unit it yields goes, with its decoded bytes, to the caller's step as a
 * `bytes` job (in the worker pool, up to `lookahead` at once), so the indexing pass decodes the file once.
 *
 * A span inside a member is yielded before the member's CRC-32 is checked (at its end): such chunks say
 * `verified: false`. When a member fails its check, the scan rejects before anything after it is
 * yielded, and the chunk map keeps only the units of the members that passed (`table()`).
 */
import { SeekdataError } from '../../errors.js';
import type { ByteSource } from '../../sources/source.js';
import { settle, unwrap, type Settled } from '../../util.js';
import type { Discovery, ScanContext, ScannedChunk } from '../format.js';
import type { UnitTable } from '../units.js';
import { scanLimit } from '../limit-scan.js';
import { scanGzip, type GzipScannedUnit } from './scan.js';
import { gzipUnitTable } from './table.js';
import { GzipTableBuilder, KIND_SPAN } from './units.js';

/** Default decoded bytes between checkpoints (and per run of small members). */
export const DEFAULT_SPACING = 1 << 20;

interface Pending {
  offset: number;
  compressedDone: number;
  verified: boolean;
  /** The unit's bytes and the step's result (run in a job when the caller asked for a step). */
  done: Promise<Settled<{ bytes: Uint8Array; step?: unknown }>>;
}

export class GzipDiscovery implements Discovery {
  private readonly builder = new GzipTableBuilder();
  /** Units of members that passed their check (the rest belong to the member being scanned). */
  private trusted = 0;
  private bgzf = false;
  private readonly spacing: number;

  constructor(
    private readonly source: ByteSource,
    private readonly context: ScanContext,
  ) {
    this.spacing = context.unitBytes ?? DEFAULT_SPACING;
  }

  private job(unit: GzipScannedUnit): Pending['done'] {
    const step = this.context.stepFor?.(unit.dStart);
    if (step === undefined) return Promise.resolve({ ok: true, value: { bytes: unit.data } });
    // The scan's bytes are ours alone (a fresh copy per unit): moved to the worker and back.
    const bytes = unit.data;
    return settle(this.context.runner.run({ input: { kind: 'bytes', bytes }, step }, this.context.signal, [bytes.buffer as ArrayBuffer]));
  }

  async *chunks(): AsyncGenerator<ScannedChunk> {
    const file = this.source.name;
    const scan = scanGzip(this.source, {
      spacing: this.spacing,
      onWarning: (w) => this.context.onWarning?.(w.message),
      onGrow: scanLimit(file, this.context.maxDecodedBytes),
    });
    const queue: Pending[] = [];
    const take = async (): Promise<ScannedChunk> => {
      const head = queue.shift();
      if (head === undefined) throw new Error('internal: gzip discovery queue empty');
      const result = unwrap(await head.done);
      if (this.context.signal?.aborted === true) throw new SeekdataError('ABORTED', `${file}: scan aborted`, { file, cause: this.context.signal.reason });
      return { offset: head.offset, bytes: result.bytes, compressedDone: head.compressedDone, step: result.step, verified: head.verified };
    };
    try {
      for (let r = await scan.next(); ; r = await scan.next()) {
        if (this.context.signal?.aborted === true) throw new SeekdataError('ABORTED', `${file}: scan aborted`, { file, cause: this.context.signal.reason });
        if (r.done === true) {
          this.bgzf = r.value.bgzf;
          break;
        }
        const unit = r.value;
        if (unit.dLength > 0) {
          this.builder.add(unit);
          queue.push({ offset: unit.dStart, compressedDone: Math.ceil(unit.cEnd / 8), verified: unit.verified, done: this.job(unit) });
        } else if (unit.kind === KIND_SPAN) {
          // A member's empty last span joins the span before it; empty members are left out (validate.ts).
          this.builder.extendLast(unit.cEnd, unit.members);
        }
        // A verified unit vouches for every unit before it (they are of members that passed, or of its own).
        if (unit.verified) this.trusted = this.builder.count;
        while (queue.length >= Math.max(1, this.context.lookahead)) yield await take();
      }
    } catch (error) {
      // Chunks already decoded of members that passed their check are still handed out, then the error.
      let verifiedUpTo = 0;
      queue.forEach((p, k) => {
        if (p.verified) verifiedUpTo = k + 1;
      });
      queue.splice(verifiedUpTo).forEach((p) => void p.done);
      while (queue.length > 0) yield await take();
      this.builder.truncate(this.trusted);
      throw error;
    }
    while (queue.length > 0) yield await take();
    this.trusted = this.builder.count;
  }

  /** The chunk map of the members scanned and verified so far (all of them once `chunks()` has ended). */
  table(): UnitTable {
    this.builder.truncate(this.trusted);
    return gzipUnitTable(this.builder.build(this.bgzf), { bgzf: this.bgzf, spacing: this.spacing });
  }
}
