/**
 * Skipped records must not go unnoticed: each dataset counts, per pass (an epoch, a wrap of a stream, an
 * iteration of a time range), the records it read and those its missing / malformed policies skipped,
 * and at the end of the pass warns once when more than SKIP_WARN_SHARE of them were skipped, with the
 * count and the first example (the lowest record number among the examples the parse steps reported).
 */
import type { ParsedRows } from './parse.js';

/** Share of a pass's records that may be skipped without a warning: 0.1%. */
export const SKIP_WARN_SHARE = 0.001;

export type WarningHandler = (message: string) => void;

/** The default warning handler: a Node process warning (printed on stderr once per call), else the console. */
export function emitWarning(message: string): void {
  const proc = (globalThis as { process?: { emitWarning?: (message: string, options: { type: string; code: string }) => void } }).process;
  if (typeof proc?.emitWarning === 'function') proc.emitWarning(message, { type: 'SeekdataWarning', code: 'SEEKDATA_SKIPPED_RECORDS' });
  else console.warn(`SeekdataWarning: ${message}`);
}

export class SkipTally {
  private read = 0;
  private skipped = 0;
  private first: { record: number; reason: string } | undefined;

  constructor(
    private readonly file: string,
    private readonly onWarning: WarningHandler,
    /** How a record is named (a collection: its member file and own number). */
    private readonly describe: (record: number) => string = (record) => `record ${record}`,
  ) {}

  /** Counts parsed rows (their kept and skipped records). */
  add(rows: ParsedRows): void {
    this.addCounts(rows.rows + rows.skipped, rows.skipped, rows.skippedExamples[0]);
  }

  addCounts(read: number, skipped: number, example: { record: number; reason: string } | undefined): void {
    this.read += read;
    this.skipped += skipped;
    // The lowest record number, not the first to arrive: chunks are parsed in parallel and finish in any order.
    if (example !== undefined && (this.first === undefined || example.record < this.first.record)) this.first = example;
  }

  /** Ends a pass (`what`: "epoch 3", ...): warns when it skipped too many, and starts counting anew. */
  end(what: string): void {
    const { read, skipped, first } = this;
    this.read = 0;
    this.skipped = 0;
    this.first = undefined;
    if (skipped === 0 || skipped <= SKIP_WARN_SHARE * read) return;
    const share = read === 0 ? 100 : (100 * skipped) / read;
    const example = first === undefined ? '' : `; the first: ${this.describe(first.record)} ${first.reason}`;
    this.onWarning(
      `${this.file}: ${what} skipped ${skipped} of ${read} records (${share < 0.1 ? share.toPrecision(2) : share.toFixed(1)}%) by the missing / onMalformed policies${example} (dataset.skipped counts them; onMalformed: 'error' stops at the first)`,
    );
  }
}
