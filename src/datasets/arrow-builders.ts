/**
 * Column builders for one Arrow record batch: typed arrays filled row by row (values, a validity bitmap,
 * UTF-8 bytes and offsets) and handed to Arrow as `Data` without a copy. They replace `vectorFromArray`
 * over arrays of JS values, which cost a boxed value per cell and a second copy.
 */
import { Float64, Int32, Int64, makeData, type Data, type Dictionary, type Timestamp, type Utf8, type Vector } from 'apache-arrow';

/** The validity bitmap and null count shared by every builder. */
class Validity {
  readonly bitmap: Uint8Array;
  nulls = 0;

  constructor(readonly rows: number) {
    // All valid until a row is set to null.
    this.bitmap = new Uint8Array((rows + 7) >> 3).fill(0xff);
  }

  setNull(row: number): void {
    this.bitmap[row >> 3] &= ~(1 << (row & 7));
    this.nulls++;
  }

  props(): { nullCount: number; nullBitmap: Uint8Array | undefined } {
    return { nullCount: this.nulls, nullBitmap: this.nulls === 0 ? undefined : this.bitmap };
  }
}

export interface ColumnBuilder {
  setNull(row: number): void;
  finish(): Data;
}

/** Int32 or Float64 values. */
export class NumberBuilder implements ColumnBuilder {
  private readonly validity: Validity;
  readonly values: Int32Array | Float64Array;

  constructor(
    private readonly type: Int32 | Float64,
    readonly rows: number,
  ) {
    this.validity = new Validity(rows);
    this.values = type instanceof Int32 ? new Int32Array(rows) : new Float64Array(rows);
  }

  set(row: number, value: number): void {
    this.values[row] = value;
  }

  setNull(row: number): void {
    this.validity.setNull(row);
  }

  finish(): Data {
    const common = { length: this.validity.rows, ...this.validity.props() };
    const { type, values } = this;
    if (type instanceof Int32 && values instanceof Int32Array) return makeData({ type, ...common, data: values });
    if (type instanceof Float64 && values instanceof Float64Array) return makeData({ type, ...common, data: values });
    throw new Error('number builder: type and values disagree');
  }
}

/**
 * 64-bit integers (Int64, Timestamp). Safe integers are written as two 32-bit halves, so most values
 * make no bigint.
 */
export class Int64Builder implements ColumnBuilder {
  private readonly validity: Validity;
  private readonly values: BigInt64Array;
  private readonly halves: Int32Array;

  constructor(
    private readonly type: Int64 | Timestamp,
    readonly rows: number,
  ) {
    this.validity = new Validity(rows);
    this.values = new BigInt64Array(rows);
    this.halves = new Int32Array(this.values.buffer);
  }

  set(row: number, value: number | bigint): void {
    if (typeof value === 'bigint') {
      this.values[row] = value;
      return;
    }
    // Little-endian two's complement: high = floor(v / 2^32), low = v - high × 2^32 (both exact for safe integers).
    const high = Math.floor(value / 4294967296);
    this.halves[2 * row] = value - high * 4294967296;
    this.halves[2 * row + 1] = high;
  }

  setNull(row: number): void {
    this.validity.setNull(row);
  }

  finish(): Data {
    const common = { length: this.validity.rows, ...this.validity.props(), data: this.values };
    const type = this.type;
    return type instanceof Int64 ? makeData({ type, ...common }) : makeData({ type, ...common });
  }
}

/** UTF-8 strings from bytes. */
export class Utf8Builder implements ColumnBuilder {
  private readonly validity: Validity;
  private readonly offsets: Int32Array;
  private bytes = new Uint8Array(1 << 16);
  private used = 0;
  private row = 0;

  constructor(
    private readonly type: Utf8,
    readonly rows: number,
  ) {
    this.validity = new Validity(rows);
    this.offsets = new Int32Array(rows + 1);
  }

  /** Rows must be set in order (each row once, as a value or a null). */
  set(row: number, source: Uint8Array, start: number, end: number): void {
    this.fill(row);
    const n = end - start;
    if (this.used + n > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.used + n));
      grown.set(this.bytes.subarray(0, this.used));
      this.bytes = grown;
    }
    this.bytes.set(source.subarray(start, end), this.used);
    this.used += n;
    this.offsets[row + 1] = this.used;
    this.row = row + 1;
  }

  setNull(row: number): void {
    this.fill(row);
    this.validity.setNull(row);
    this.offsets[row + 1] = this.used;
    this.row = row + 1;
  }

  private fill(row: number): void {
    for (; this.row < row; this.row++) this.offsets[this.row + 1] = this.used;
  }

  finish(): Data {
    this.fill(this.validity.rows);
    // A view of the used bytes (no copy: the builder is dropped after the batch).
    return makeData({ type: this.type, length: this.validity.rows, ...this.validity.props(), valueOffsets: this.offsets, data: this.bytes.subarray(0, this.used) });
  }
}

/** Int32 keys into a dictionary shared by every batch of the export (so the writer stores it once). */
export class DictionaryBuilder implements ColumnBuilder {
  private readonly validity: Validity;
  private readonly keys: Int32Array;

  constructor(
    private readonly type: Dictionary<Utf8, Int32>,
    /** The same Vector for every batch: the IPC writer writes a dictionary again only when it changes. */
    private readonly dictionary: Vector<Utf8>,
    readonly rows: number,
  ) {
    this.validity = new Validity(rows);
    this.keys = new Int32Array(rows);
  }

  set(row: number, key: number): void {
    this.keys[row] = key;
  }

  setNull(row: number): void {
    this.validity.setNull(row);
  }

  finish(): Data {
    return makeData({ type: this.type, length: this.validity.rows, ...this.validity.props(), data: this.keys, dictionary: this.dictionary });
  }
}
