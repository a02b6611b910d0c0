/**
 * Batches as dicts of named columns, next to the row-major matrix: `{ xs: { price: …, volume: … }, ys: … }`
 * for models with one input per column (tf.data.csv's element shape) or with named inputs of several
 * columns each (multi-input functional models, whose `fitDataset` maps dict keys to input names).
 */
import { invalidOption } from '../errors.js';

/**
 * How one side (xs or ys) of a batch is given: `'matrix'` (one array of all columns, as the batch holds
 * it), `'columns'` (one array per column, by name), or a dict name → column names (one array per name
 * holding those columns, in that order).
 */
export type Layout = 'matrix' | 'columns' | Record<string, string[]>;

export interface NamedPart<T> {
  /** Per name: its values, with the batch's leading axes and the name's columns last. */
  values: Record<string, T>;
  shapes: Record<string, number[]>;
}

/** Checks a layout option against the column names (every named column must exist). */
export function checkLayout(option: string, layout: unknown, names: string[] | undefined): Layout {
  if (layout === undefined || layout === 'matrix') return 'matrix';
  if (names === undefined) throw invalidOption(option, "'matrix' for a dataset without column names (featureNames / labelNames)", layout);
  if (layout === 'columns') return 'columns';
  if (typeof layout !== 'object' || layout === null || Array.isArray(layout)) throw invalidOption(option, "'matrix', 'columns' or an object of input name → column names", layout);
  for (const [name, columns] of Object.entries(layout)) {
    if (!Array.isArray(columns) || columns.length === 0) throw invalidOption(`${option}.${name}`, 'a non-empty list of column names', columns);
    for (const c of columns) if (!names.includes(c)) throw invalidOption(`${option}.${name}`, `column names among ${names.join(', ')}`, c);
  }
  return layout as Record<string, string[]>;
}

/**
 * Splits a row-major array of `shape` (its last axis the columns) into named parts. `names` name the
 * columns; one name over a wider last axis (a one-hot label) owns all of it.
 */
export function namedParts<T extends Float32Array | Int32Array>(values: T, shape: number[], names: string[], layout: Exclude<Layout, 'matrix'>): NamedPart<T> {
  const width = shape[shape.length - 1] ?? 1;
  const rows = width === 0 ? 0 : values.length / width;
  const lead = shape.slice(0, -1);
  // Column ranges of each name: one each, or (one name, a wider axis) all of them.
  const span = names.length === 1 && width > 1 ? width : 1;
  if (span === 1 && names.length !== width) throw invalidOption('names', `${width} column names (the batch's last axis)`, names);
  const groups: Record<string, string[]> = layout === 'columns' ? Object.fromEntries(names.map((n) => [n, [n]])) : layout;
  const out: NamedPart<T> = { values: {}, shapes: {} };
  for (const [name, columns] of Object.entries(groups)) {
    const starts = columns.map((c) => names.indexOf(c) * span);
    const k = columns.length * span;
    const part = new (values.constructor as new (length: number) => T)(rows * k);
    for (let r = 0; r < rows; r++) {
      let o = r * k;
      for (const start of starts) for (let j = 0; j < span; j++) part[o++] = values[r * width + start + j];
    }
    out.values[name] = part;
    out.shapes[name] = [...lead, k];
  }
  return out;
}

/** A batch as a dict of columns: `{ xs: { name: Float32Array }, ys: { name: Float32Array | Int32Array } }`. */
export function batchColumns(
  batch: { xs: Float32Array; xsShape: number[]; ys: Float32Array | Int32Array | undefined; ysShape: number[] },
  featureNames: string[],
  labelNames: string[] = [],
): { xs: Record<string, Float32Array>; ys: Record<string, Float32Array | Int32Array> } {
  const xs = namedParts(batch.xs, batch.xsShape, featureNames, 'columns').values;
  const ys = batch.ys === undefined || labelNames.length === 0 ? {} : namedParts(batch.ys, batch.ysShape, labelNames, 'columns').values;
  return { xs, ys };
}

/** One row's values by name, as `filter` and weight functions get them. */
export interface RowValues {
  /** Features by name. */
  xs: Record<string, number>;
  /** Labels by name (a one-hot label: its class id). */
  ys: Record<string, number>;
  /** The record's number. */
  record: number;
}

/** Row k of a batch (features row-major of width featureNames.length) as named values. */
export function rowValues(batch: { xs: Float32Array; ys: Float32Array | Int32Array | undefined; records: Float64Array; size: number }, k: number, featureNames: string[], labelNames: string[]): RowValues {
  const F = featureNames.length;
  const xs: Record<string, number> = {};
  for (let j = 0; j < F; j++) xs[featureNames[j]] = batch.xs[k * F + j];
  const ys: Record<string, number> = {};
  const labels = batch.ys;
  if (labels !== undefined && labelNames.length > 0 && batch.size > 0) {
    const width = labels.length / batch.size;
    if (labelNames.length === 1 && width > 1) {
      // One-hot: the class id.
      let best = 0;
      for (let j = 1; j < width; j++) if (labels[k * width + j] > labels[k * width + best]) best = j;
      ys[labelNames[0]] = best;
    } else {
      for (let j = 0; j < labelNames.length; j++) ys[labelNames[j]] = labels[k * width + j];
    }
  }
  return { xs, ys, record: batch.records[k] };
}
