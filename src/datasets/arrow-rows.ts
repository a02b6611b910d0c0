/**
 * Records to one Arrow record batch, by the plan of arrow-columns.ts. CSV values follow the one
 * definition of a field's value (index/records/csv.ts) — numbers and missing tokens as the index reads
 * them — and are copied into the builders as bytes (no string per text value); JSONL values are JSON's
 * (null or an absent field is missing; strings and booleans are text).
 */
import { makeData, RecordBatch, Struct } from 'apache-arrow';
import { SeekdataError } from '../errors.js';
import { decodeFieldBytes, splitFields } from '../index/records/csv.js';
import { isMissing, parseNumber } from '../index/records/numbers.js';
import { DictionaryBuilder, Int64Builder, NumberBuilder, Utf8Builder, type ColumnBuilder } from './arrow-builders.js';
import { valueKey, type ArrowPlan, type ColumnPlan } from './arrow-columns.js';
import { parseDecimal, scale } from './arrow-time.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Counts kept across the batches of one export. */
export interface ConvertCounts {
  /** Present values of numeric columns that are not numbers (written as null). */
  textInNumeric: number;
  /** The first of them: record, column and value. */
  firstTextInNumeric: { record: number; column: string; value: string } | undefined;
}

function builderFor(column: ColumnPlan, rows: number): ColumnBuilder {
  switch (column.kind) {
    case 'int32':
    case 'float64':
      return new NumberBuilder(column.type as ConstructorParameters<typeof NumberBuilder>[0], rows);
    case 'int64':
    case 'time':
      return new Int64Builder(column.type as ConstructorParameters<typeof Int64Builder>[0], rows);
    case 'utf8':
      return new Utf8Builder(column.type as ConstructorParameters<typeof Utf8Builder>[0], rows);
    case 'dictionary':
      if (column.categories === undefined) throw new Error('dictionary column without categories');
      return new DictionaryBuilder(column.type as ConstructorParameters<typeof DictionaryBuilder>[0], column.categories.vector, rows);
  }
}

/** Converts the records of one batch (their contents, and their numbers for messages). */
export class BatchConverter {
  private bounds = new Int32Array(64);
  private flags = new Uint8Array(32);
  private readonly maxField: number;

  constructor(
    private readonly plan: ArrowPlan,
    private readonly delimiter: number,
    private readonly quoting: 'rfc4180' | 'none',
    readonly counts: ConvertCounts = { textInNumeric: 0, firstTextInNumeric: undefined },
  ) {
    this.maxField = Math.max(...plan.columns.map((c) => c.position)) + 1;
    if (this.flags.length < this.maxField) {
      this.bounds = new Int32Array(2 * this.maxField);
      this.flags = new Uint8Array(this.maxField);
    }
  }

  convert(contents: Uint8Array[], records: ArrayLike<number>): RecordBatch {
    const rows = contents.length;
    const builders = this.plan.columns.map((c) => builderFor(c, rows));
    for (let row = 0; row < rows; row++) {
      if (this.plan.recordKind === 'csv') this.csvRow(contents[row], records[row], builders, row);
      else this.jsonRow(contents[row], records[row], builders, row);
    }
    const children = builders.map((b) => b.finish());
    return new RecordBatch(this.plan.schema, makeData({ type: new Struct(this.plan.schema.fields), length: rows, nullCount: 0, children }));
  }

  private csvRow(bytes: Uint8Array, record: number, builders: ColumnBuilder[], row: number): void {
    const n = splitFields(bytes, 0, bytes.length, this.delimiter, this.bounds, this.flags, this.maxField, this.quoting);
    const columns = this.plan.columns;
    for (let c = 0; c < columns.length; c++) {
      const p = columns[c].position;
      if (p >= n) {
        builders[c].setNull(row);
        continue;
      }
      let source = bytes;
      let a = this.bounds[2 * p];
      let b = this.bounds[2 * p + 1];
      if (this.flags[p] === 1) {
        source = decodeFieldBytes(bytes, a, b);
        a = 0;
        b = source.length;
      }
      this.value(columns[c], builders[c], row, record, source, a, b);
    }
  }

  /** Sets a CSV value (exactly bytes[a, b)). */
  private value(column: ColumnPlan, builder: ColumnBuilder, row: number, record: number, bytes: Uint8Array, a: number, b: number): void {
    if (isMissing(bytes, a, b)) {
      builder.setNull(row);
      return;
    }
    switch (column.kind) {
      case 'utf8':
        (builder as Utf8Builder).set(row, bytes, a, b);
        return;
      case 'dictionary': {
        const id = column.categories?.byKey.get(valueKey(bytes, a, b));
        if (id === undefined) throw this.notCategory(column, record, decoder.decode(bytes.subarray(a, b)));
        (builder as DictionaryBuilder).set(row, id);
        return;
      }
      case 'time': {
        const v = this.plan.time?.fromBytes(bytes, a, b, record) ?? null;
        if (v === null) builder.setNull(row);
        else (builder as Int64Builder).set(row, v);
        return;
      }
      case 'int64': {
        const d = parseDecimal(bytes, a, b);
        if (d === undefined) this.textInNumeric(column, builder, row, record, decoder.decode(bytes.subarray(a, b)));
        else (builder as Int64Builder).set(row, this.integer(column, record, scale(d, 0), decoder.decode(bytes.subarray(a, b))));
        return;
      }
      default: {
        const v = parseNumber(bytes, a, b);
        if (Number.isNaN(v)) this.textInNumeric(column, builder, row, record, decoder.decode(bytes.subarray(a, b)));
        else this.number(column, builder as NumberBuilder, row, record, v);
      }
    }
  }

  private number(column: ColumnPlan, builder: NumberBuilder, row: number, record: number, v: number): void {
    if (column.kind === 'int32' && !(Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31)) throw this.notInType(column, record, String(v));
    builder.set(row, v);
  }

  /** An Int64 value: whole and in range (undefined: it had a fraction). */
  private integer(column: ColumnPlan, record: number, v: bigint | undefined, text: string): bigint {
    if (v === undefined || v < -(2n ** 63n) || v >= 2n ** 63n) throw this.notInType(column, record, text);
    return v;
  }

  private textInNumeric(column: ColumnPlan, builder: ColumnBuilder, row: number, record: number, value: string): void {
    builder.setNull(row);
    this.counts.textInNumeric++;
    this.counts.firstTextInNumeric ??= { record, column: column.name, value: value.slice(0, 100) };
  }

  private notCategory(column: ColumnPlan, record: number, value: string): SeekdataError {
    return new SeekdataError(
      'CORRUPT_INDEX',
      `${this.plan.fileName}: record ${record}: value ${JSON.stringify(value.slice(0, 100))} of column ${column.name} is not among the categories the index holds for it (rebuild the index)`,
      { file: this.plan.fileName, record },
    );
  }

  private notInType(column: ColumnPlan, record: number, value: string): SeekdataError {
    return new SeekdataError(
      'CORRUPT_INDEX',
      `${this.plan.fileName}: record ${record}: value ${value} of column ${column.name} does not fit ${String(column.type)}, the type its index statistics give (rebuild the index)`,
      { file: this.plan.fileName, record },
    );
  }

  private jsonRow(bytes: Uint8Array, record: number, builders: ColumnBuilder[], row: number): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(decoder.decode(bytes));
    } catch {
      parsed = undefined;
    }
    const columns = this.plan.columns;
    for (let c = 0; c < columns.length; c++) {
      const column = columns[c];
      let v: unknown = parsed;
      for (const key of column.path) v = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>)[key] : undefined;
      this.jsonValue(column, builders[c], row, record, v);
    }
  }

  private jsonValue(column: ColumnPlan, builder: ColumnBuilder, row: number, record: number, v: unknown): void {
    if (v === undefined || v === null) {
      builder.setNull(row);
      return;
    }
    switch (column.kind) {
      case 'utf8': {
        const bytes = encoder.encode(typeof v === 'string' ? v : JSON.stringify(v));
        (builder as Utf8Builder).set(row, bytes, 0, bytes.length);
        return;
      }
      case 'dictionary': {
        const id = typeof v === 'string' || typeof v === 'boolean' ? column.categories?.byString.get(String(v)) : undefined;
        if (id === undefined) throw this.notCategory(column, record, typeof v === 'string' ? v : JSON.stringify(v));
        (builder as DictionaryBuilder).set(row, id);
        return;
      }
      case 'time': {
        const t = this.plan.time?.fromJson(v, record) ?? null;
        if (t === null) builder.setNull(row);
        else (builder as Int64Builder).set(row, t);
        return;
      }
      default:
        if (typeof v !== 'number') this.textInNumeric(column, builder, row, record, JSON.stringify(v));
        else if (column.kind === 'int64') (builder as Int64Builder).set(row, this.integer(column, record, Number.isInteger(v) ? BigInt(v) : undefined, String(v)));
        else this.number(column, builder as NumberBuilder, row, record, v);
    }
  }
}
