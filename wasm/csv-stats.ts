// The CSV scanner's statistics (part of wasm/csv-scan.ts's module): a block's values added to the chunk's
// statistics, src/index/records/stats.ts addValues done here with the same doubles. The scanner passes the
// addresses: the statistics (STAT_SLOTS doubles a column) and the block's values (column c's at
// values + c * block * 8).

// stats.ts's slots of a column (STAT_SLOTS = 9 doubles: 72 bytes), as byte offsets.
export const STAT_BYTES: usize = 72;
const COUNT: usize = 0;
export const TEXT: usize = 16;
const MIN: usize = 24;
const MAX: usize = 32;
const MEAN: usize = 40;
const M2: usize = 48;
const SHIFT: usize = 56;
const FRACTIONAL: usize = 64;

/** A column's shift (statistics at o, values from `column` on, `records` of them): its first value when it had none before. */
@inline function shiftOf(o: usize, column: usize, records: i32): f64 {
  if (load<f64>(o + COUNT) != 0) return load<f64>(o + SHIFT);
  const end = column + (<usize>records << 3);
  let k = column;
  while (k < end && load<f64>(k) != load<f64>(k)) k += 8;
  return k < end ? load<f64>(k) : load<f64>(o + SHIFT);
}

/**
 * stats.ts addValues for a column's values of the block's first `records` records (from `column` on; its
 * statistics at o): in order, NaN (no value) skipped; the same operations in the same order on the sums, min
 * and max, so the same doubles. The count and the fractional count are integers (exact in a double): counted
 * in i32 and added at the end, the shift taken from the first value when the column had none.
 */
function addColumn(o: usize, column: usize, records: i32): void {
  const shift = shiftOf(o, column, records);
  let min = load<f64>(o + MIN);
  let max = load<f64>(o + MAX);
  let sum = load<f64>(o + MEAN);
  let squares = load<f64>(o + M2);
  let added: i32 = 0;
  let fractional: i32 = 0;
  const end = column + (<usize>records << 3);
  for (let k = column; k < end; k += 8) {
    const value = load<f64>(k);
    if (value != value) continue;
    added++;
    min = select<f64>(value, min, value < min);
    max = select<f64>(value, max, value > max);
    const x = value - shift;
    sum += x;
    squares += x * x;
    fractional += <i32>(trunc<f64>(value) != value);
  }
  store<f64>(o + COUNT, load<f64>(o + COUNT) + <f64>added);
  store<f64>(o + SHIFT, shift);
  store<f64>(o + MIN, min);
  store<f64>(o + MAX, max);
  store<f64>(o + MEAN, sum);
  store<f64>(o + M2, squares);
  store<f64>(o + FRACTIONAL, load<f64>(o + FRACTIONAL) + <f64>fractional);
}

/** The doubles at o (column c's slot) and p (column d's) as the two lanes of a vector. */
@inline function lanes(o: usize, p: usize): v128 {
  return f64x2.replace_lane(f64x2.splat(load<f64>(o)), 1, load<f64>(p));
}

/**
 * `addColumn` for two columns at once (statistics at oc and od, values from kc and kd), one in each lane of 2-double vectors: each lane does its column's
 * operations in its order (pmin and pmax are the same selects; a NaN's lane keeps its sums, bitselect), so
 * the same doubles as two `addColumn`s.
 */
function addPair(oc: usize, kc: usize, od: usize, kd: usize, records: i32): void {
  const shifts = f64x2.replace_lane(f64x2.splat(shiftOf(oc, kc, records)), 1, shiftOf(od, kd, records));
  let min = lanes(oc + MIN, od + MIN);
  let max = lanes(oc + MAX, od + MAX);
  let sum = lanes(oc + MEAN, od + MEAN);
  let squares = lanes(oc + M2, od + M2);
  let added = i64x2.splat(0);
  let fractional = i64x2.splat(0);
  const n = <usize>records << 3;
  for (let k: usize = 0; k < n; k += 8) {
    const value = lanes(kc + k, kd + k);
    // All ones in a lane with a value (-1 as an integer), zeros in a NaN's.
    const held = f64x2.eq(value, value);
    added = i64x2.sub(added, held);
    min = f64x2.pmin(min, value);
    max = f64x2.pmax(max, value);
    const x = f64x2.sub(value, shifts);
    sum = v128.bitselect(f64x2.add(sum, x), sum, held);
    squares = v128.bitselect(f64x2.add(squares, f64x2.mul(x, x)), squares, held);
    fractional = i64x2.sub(fractional, v128.and(f64x2.ne(f64x2.trunc(value), value), held));
  }
  store<f64>(oc + COUNT, load<f64>(oc + COUNT) + <f64>i64x2.extract_lane(added, 0));
  store<f64>(od + COUNT, load<f64>(od + COUNT) + <f64>i64x2.extract_lane(added, 1));
  store<f64>(oc + SHIFT, f64x2.extract_lane(shifts, 0));
  store<f64>(od + SHIFT, f64x2.extract_lane(shifts, 1));
  store<f64>(oc + MIN, f64x2.extract_lane(min, 0));
  store<f64>(od + MIN, f64x2.extract_lane(min, 1));
  store<f64>(oc + MAX, f64x2.extract_lane(max, 0));
  store<f64>(od + MAX, f64x2.extract_lane(max, 1));
  store<f64>(oc + MEAN, f64x2.extract_lane(sum, 0));
  store<f64>(od + MEAN, f64x2.extract_lane(sum, 1));
  store<f64>(oc + M2, f64x2.extract_lane(squares, 0));
  store<f64>(od + M2, f64x2.extract_lane(squares, 1));
  store<f64>(oc + FRACTIONAL, load<f64>(oc + FRACTIONAL) + <f64>i64x2.extract_lane(fractional, 0));
  store<f64>(od + FRACTIONAL, load<f64>(od + FRACTIONAL) + <f64>i64x2.extract_lane(fractional, 1));
}

/**
 * Adds the block's values of its first `records` records to the statistics, for each column whose statistics
 * are kept (`counted`, 1 a column of `want`), two columns at a time.
 */
export function addColumns(stats: usize, values: usize, block: i32, counted: usize, want: i32, records: i32): void {
  let waiting: i32 = -1;
  for (let c: i32 = 0; c < want; c++) {
    if (load<u8>(counted + <usize>c) != 1) continue;
    if (waiting < 0) {
      waiting = c;
      continue;
    }
    addPair(stats + <usize>waiting * STAT_BYTES, values + (<usize>(waiting * block) << 3), stats + <usize>c * STAT_BYTES, values + (<usize>(c * block) << 3), records);
    waiting = -1;
  }
  if (waiting >= 0) addColumn(stats + <usize>waiting * STAT_BYTES, values + (<usize>(waiting * block) << 3), records);
}
