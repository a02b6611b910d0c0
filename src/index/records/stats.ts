/**
 * Column statistics in one pass, merged across chunks: count, missing, non-numeric, min, max, mean and
 * standard deviation. Welford's update within a chunk and Chan et al.'s pairwise merge across chunks,
 * both on values shifted by the first value seen, so a large mean does not swallow a small spread
 * (1e10 + 1e-4 noise keeps its digits).
 */

/** Slots per column in a packed Float64Array of partial statistics. */
export const STAT_SLOTS = 9;
const COUNT = 0;
const MISSING = 1;
const TEXT = 2;
const MIN = 3;
const MAX = 4;
const MEAN = 5;
const M2 = 6;
/** Value the mean and M2 are taken relative to (the first value seen). */
const SHIFT = 7;
/** Numeric values with a fractional part (0 means an integer column). */
const FRACTIONAL = 8;

export function newStats(columns: number): Float64Array {
  const s = new Float64Array(columns * STAT_SLOTS);
  for (let c = 0; c < columns; c++) {
    s[c * STAT_SLOTS + MIN] = Infinity;
    s[c * STAT_SLOTS + MAX] = -Infinity;
  }
  return s;
}

/**
 * Adds a value to a chunk's accumulator. Within a chunk the MEAN and M2 slots hold the sum and the sum of
 * squares of the shifted values (no division per value: this runs for every field of every record);
 * `toMoments` turns them into mean and M2 before chunks are merged.
 */
export function addValue(s: Float64Array, column: number, value: number): void {
  const o = column * STAT_SLOTS;
  if (++s[o + COUNT] === 1) s[o + SHIFT] = value;
  if (value < s[o + MIN]) s[o + MIN] = value;
  if (value > s[o + MAX]) s[o + MAX] = value;
  const x = value - s[o + SHIFT];
  s[o + MEAN] += x;
  s[o + M2] += x * x;
  if (Math.trunc(value) !== value) s[o + FRACTIONAL]++;
}

/**
 * `addValue` for values[from, to) in order, skipping NaN (no value): the same operations in the same order,
 * so the same doubles, with the column's slots held in locals for the run instead of read and written
 * back per value (the fast path gathers a column's values per block of records, then adds them here).
 */
export function addValues(s: Float64Array, column: number, values: Float64Array, from: number, to: number): void {
  const o = column * STAT_SLOTS;
  let count = s[o + COUNT];
  let shift = s[o + SHIFT];
  let min = s[o + MIN];
  let max = s[o + MAX];
  let sum = s[o + MEAN];
  let squares = s[o + M2];
  let fractional = s[o + FRACTIONAL];
  for (let k = from; k < to; k++) {
    const value = values[k];
    if (value !== value) continue;
    if (++count === 1) shift = value;
    if (value < min) min = value;
    if (value > max) max = value;
    const x = value - shift;
    sum += x;
    squares += x * x;
    if (Math.trunc(value) !== value) fractional++;
  }
  s[o + COUNT] = count;
  s[o + SHIFT] = shift;
  s[o + MIN] = min;
  s[o + MAX] = max;
  s[o + MEAN] = sum;
  s[o + M2] = squares;
  s[o + FRACTIONAL] = fractional;
}

/** Converts a chunk accumulator (sums) into mean / M2 form, in place. */
export function toMoments(s: Float64Array): Float64Array {
  for (let o = 0; o < s.length; o += STAT_SLOTS) {
    const n = s[o + COUNT];
    if (n === 0) continue;
    const mean = s[o + MEAN] / n;
    s[o + M2] = Math.max(0, s[o + M2] - s[o + MEAN] * mean);
    s[o + MEAN] = mean;
  }
  return s;
}

export function addMissing(s: Float64Array, column: number): void {
  s[column * STAT_SLOTS + MISSING]++;
}

export function addText(s: Float64Array, column: number, count = 1): void {
  s[column * STAT_SLOTS + TEXT] += count;
}

/** Merges partial statistics `b` into `a` column by column (a and b may have different widths). */
export function mergeStats(a: Float64Array, b: Float64Array): Float64Array {
  const columns = Math.max(a.length, b.length) / STAT_SLOTS;
  const out = a.length >= b.length ? a : (() => {
    const grown = newStats(columns);
    grown.set(a);
    return grown;
  })();
  for (let c = 0; c < b.length / STAT_SLOTS; c++) {
    const o = c * STAT_SLOTS;
    const na = out[o + COUNT];
    const nb = b[o + COUNT];
    out[o + MISSING] += b[o + MISSING];
    out[o + TEXT] += b[o + TEXT];
    out[o + FRACTIONAL] += b[o + FRACTIONAL];
    if (nb === 0) continue;
    if (na === 0) {
      for (const k of [COUNT, MIN, MAX, MEAN, M2, SHIFT]) out[o + k] = b[o + k];
      continue;
    }
    const n = na + nb;
    const delta = b[o + SHIFT] - out[o + SHIFT] + (b[o + MEAN] - out[o + MEAN]);
    out[o + MEAN] += (delta * nb) / n;
    out[o + M2] += b[o + M2] + (delta * delta * na * nb) / n;
    out[o + COUNT] = n;
    out[o + MIN] = Math.min(out[o + MIN], b[o + MIN]);
    out[o + MAX] = Math.max(out[o + MAX], b[o + MAX]);
  }
  return out;
}

/**
 * A column is numeric when at least half of its present values are numbers (its text values are then
 * malformed fields), so a few typos never turn a numeric column into categories.
 */
export function isNumericColumn(count: number, nonNumeric: number): boolean {
  return count > 0 && nonNumeric <= count;
}

export interface ColumnStats {
  name: string;
  /** Numeric values seen. */
  count: number;
  /** Empty or NA-like values. */
  missing: number;
  /** Values that are present but not numbers. */
  nonNumeric: number;
  /**
   * True when at least half of the present values are numbers; the stray text (counted in `nonNumeric`)
   * makes those records malformed in datasets (skipped and counted, or per `onMalformed`).
   */
  numeric: boolean;
  /** True when every numeric value is an integer. */
  integer: boolean;
  min: number | null;
  max: number | null;
  mean: number | null;
  /** Population standard deviation (as StandardScaler uses). */
  std: number | null;
  /**
   * The distinct non-numeric values with their counts, sorted by value (their positions are the
   * category ids datasets use), or null when the column has none or more than 1,000.
   */
  categories: Array<{ value: string; count: number }> | null;
}

export function finalizeStats(s: Float64Array, names: string[], vocab?: Array<Array<[string, number]> | null>): ColumnStats[] {
  const out: ColumnStats[] = [];
  for (let c = 0; c < names.length; c++) {
    const o = c * STAT_SLOTS;
    const count = o < s.length ? s[o + COUNT] : 0;
    const has = count > 0;
    out.push({
      name: names[c],
      count,
      missing: o < s.length ? s[o + MISSING] : 0,
      nonNumeric: o < s.length ? s[o + TEXT] : 0,
      numeric: isNumericColumn(count, o < s.length ? s[o + TEXT] : 0),
      integer: has && s[o + FRACTIONAL] === 0,
      min: has ? s[o + MIN] : null,
      max: has ? s[o + MAX] : null,
      mean: has ? s[o + SHIFT] + s[o + MEAN] : null,
      std: has ? Math.sqrt(Math.max(0, s[o + M2] / count)) : null,
      categories: vocab?.[c]?.map(([value, n]) => ({ value, count: n })) ?? null,
    });
  }
  return out;
}
