/**
 * The parsed rows of a chunked (or file-order) epoch's window, kept place by place beside the order's
 * window (order.ts): the features of the record at window place p are at xs[p * F, (p + 1) * F), its
 * labels at ys[p * L, (p + 1) * L). A draw then reads one row at the place the order picked and moves the
 * last place's row into it, as the order moves its record: no lookup of a record in its chunk's rows, no
 * per-chunk bookkeeping, one random memory access per draw (a window is megabytes: the lookups and the
 * per-chunk arrays of the earlier design cost a few cache misses per record, most of the batch loop's time).
 *
 * The window holds exactly the rows of the records not drawn yet (at most `order.maxWindow` places, sized
 * once), plus the rows of chunks that arrived before entering the window (read ahead), held as they came
 * until they enter. A chunk's rows are copied in once: when it enters (in file order, one `set` per array
 * when no record was skipped), or, when they arrive after it entered, to the places its records are at.
 */
import type { ChunkedOrder } from './order.js';
import type { ChunkRows } from './rows.js';

export class RowWindow {
  /** Features per place (row-major, F per place). */
  xs: Float32Array;
  /** Labels per place (L per place); Int32Array for int32 labels. */
  ys: Float32Array | Int32Array;
  /** Per place: 1 when its record has no row (skipped as malformed or missing by the policies). */
  gone: Uint8Array;
  /** Per slot: 1 once its rows are in the window (or it has no records left). */
  readonly filled: Uint8Array;
  /** Rows that arrived before their slot entered the window. */
  private readonly waiting: Array<ChunkRows | undefined> = [];
  private waitingBytes = 0;
  /** Bytes held now (the places, and rows waiting to enter), and the most held at once. */
  bytes = 0;
  peakBytes = 0;

  constructor(
    private readonly order: ChunkedOrder,
    private readonly features: number,
    private readonly labelWidth: number,
    private readonly intLabels: boolean,
  ) {
    const places = Math.max(1, order.maxWindow);
    this.xs = new Float32Array(places * features);
    this.ys = intLabels ? new Int32Array(places * labelWidth) : new Float32Array(places * labelWidth);
    this.gone = new Uint8Array(places);
    this.filled = new Uint8Array(order.segments.length);
    this.account();
  }

  private account(): void {
    this.bytes = this.xs.byteLength + this.ys.byteLength + this.gone.byteLength + this.waitingBytes;
    if (this.bytes > this.peakBytes) this.peakBytes = this.bytes;
  }

  /** The rows of slot s arrived: into the window when it has entered, else held until it does. */
  put(slot: number, rows: ChunkRows): void {
    if (this.filled[slot] === 1) return;
    if (slot >= this.order.loaded) {
      this.waiting[slot] = rows;
      this.waitingBytes += rowsBytes(rows);
      this.account();
      return;
    }
    // Entered before its rows came: its records are wherever the draws since have moved them.
    this.order.placesOf(slot, (place, record) => this.copyIn(rows, rows.rowOf[record - rows.first], place));
    this.filled[slot] = 1;
  }

  /** Slot s just entered the window (`order.onEnter`): its records are the window's last places, in file order. */
  entered(slot: number): void {
    const count = this.order.count(slot);
    const at = this.order.windowSize - count;
    this.ensure(this.order.windowSize);
    if (count === 0) {
      this.filled[slot] = 1;
      return;
    }
    const rows = this.waiting[slot];
    if (rows === undefined) return;
    this.waiting[slot] = undefined;
    this.waitingBytes -= rowsBytes(rows);
    const parsed = rows.rows;
    if (parsed.rows === count) {
      // Every record has its row, in record order: the rows are the places' rows as they are.
      this.xs.set(parsed.features, at * this.features);
      this.ys.set(parsed.labels, at * this.labelWidth);
      this.gone.fill(0, at, at + count);
    } else {
      for (let k = 0; k < count; k++) this.copyIn(rows, rows.rowOf[this.order.recordAt(at + k) - rows.first], at + k);
    }
    this.filled[slot] = 1;
    this.account();
  }

  /** Row `row` of `rows` (-1: none) into place `place`. */
  private copyIn(rows: ChunkRows, row: number, place: number): void {
    if (row === undefined || row < 0) {
      this.gone[place] = 1;
      return;
    }
    this.gone[place] = 0;
    const F = this.features;
    const L = this.labelWidth;
    const { features, labels } = rows.rows;
    for (let k = 0; k < F; k++) this.xs[place * F + k] = features[row * F + k];
    for (let k = 0; k < L; k++) this.ys[place * L + k] = labels[row * L + k];
  }

  /** Room for `places` places (the order's bound makes this a no-op; kept as a guard). */
  private ensure(places: number): void {
    if (places <= this.gone.length) return;
    const capacity = Math.max(places, Math.ceil(this.gone.length * 1.5));
    const xs = new Float32Array(capacity * this.features);
    xs.set(this.xs);
    const ys = this.intLabels ? new Int32Array(capacity * this.labelWidth) : new Float32Array(capacity * this.labelWidth);
    ys.set(this.ys);
    const gone = new Uint8Array(capacity);
    gone.set(this.gone);
    this.xs = xs;
    this.ys = ys;
    this.gone = gone;
    this.account();
  }
}

function rowsBytes(rows: ChunkRows): number {
  return rows.rows.features.byteLength + rows.rows.labels.byteLength + rows.rows.records.byteLength + rows.rowOf.byteLength;
}
