/**
 * Train / validation splits as record subsets (subset.ts): by a fraction of the records, chosen by a keyed
 * permutation of the seed (PyTorch's `random_split`, HF's `train_test_split(test_size, seed)`: the same seed
 * gives the same split, the sides are disjoint and together hold every record), or by time (records before
 * `at` train, from `at` on validation, as a forecasting model is validated on its future). Also
 * `recordRange`, the records [from, to) (tf.data's `take` / `skip` right after reading the file).
 */
import { SeekdataError, invalidOption } from '../errors.js';
import type { Indexed } from '../index/indexed.js';
import { timeBound } from '../index/records/time-bound.js';
import { checkKnownKeys } from '../options.js';
import { SPLIT_OPTION_KEYS } from '../option-keys.js';
import { FeistelPermutation, hashInts } from './permutation.js';
import { RecordSubset } from './subset.js';

export interface SplitOptions {
  /**
   * Share of the records in the validation side, in (0, 1): round(fraction × records) records chosen by a
   * keyed permutation of `seed`, the others train. Not with `at`.
   */
  validation?: number;
  /** Seed of a fraction split. Default 0. */
  seed?: number;
  /**
   * Split by time (needs a time index): records before `at` train, from `at` on validation; records without
   * a parsable time are in neither (`unplaced`). Epoch ms, a Date, or an ISO-8601 / epoch text as `from` takes.
   */
  at?: number | Date | string;
}

export interface Split {
  train: RecordSubset;
  validation: RecordSubset;
  /** Records in neither side (a time split: records whose time is unparsable). */
  unplaced: number;
}

/** Splits the records of `file` (or of `within`, a subset of them) into train and validation sides. */
export function splitRecords(file: Indexed, options: SplitOptions, within?: RecordSubset): Split {
  checkKnownKeys(options, SPLIT_OPTION_KEYS, 'splitRecords');
  const from = within ?? RecordSubset.all(file.records.count);
  if (from.total !== file.records.count) throw new SeekdataError('INVALID_OPTION', `the subset to split is of a file of ${from.total} records, not of ${file.name}`, { file: file.name });
  const n = from.count;
  if (options.at !== undefined) {
    if (options.validation !== undefined) throw invalidOption('validation', 'unset when splitting by time (at)', options.validation);
    if (options.seed !== undefined) throw invalidOption('seed', 'unset when splitting by time (at): a time split is not random', options.seed);
    const time = file.time;
    if (time === undefined) throw new SeekdataError('INVALID_OPTION', `${file.name}: a split by time needs a time index (open it with timeColumn)`, { file: file.name, option: 'at' });
    const at = timeBound('at', options.at);
    // 0: train, 1: validation, 2: no time.
    const side = new Uint8Array(n);
    const counts = [0, 0, 0];
    for (let p = 0; p < n; p++) {
      const t = time.timeOf(from.at(p));
      side[p] = Number.isNaN(t) ? 2 : t < at ? 0 : 1;
      counts[side[p]]++;
    }
    const when = new Date(at).toISOString();
    const [train, validation] = fill(from, side, counts);
    return {
      train: RecordSubset.of(file.records.count, train, `records before ${when}`),
      validation: RecordSubset.of(file.records.count, validation, `records from ${when}`),
      unplaced: counts[2],
    };
  }
  const fraction = options.validation;
  if (typeof fraction !== 'number' || !(fraction > 0 && fraction < 1)) throw invalidOption('validation', 'a fraction in (0, 1) (or split by time with at)', fraction);
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw invalidOption('seed', 'an integer', seed);
  const held = Math.round(fraction * n);
  if (held === 0 || held === n) {
    throw new SeekdataError('INVALID_OPTION', `options.validation ${fraction} of ${n} records leaves the ${held === 0 ? 'validation' : 'train'} side empty`, { file: file.name, option: 'validation' });
  }
  // Position p is in the validation side when its place in the seed's permutation is among the first `held`.
  const permutation = new FeistelPermutation(n, hashInts(seed, 0x5b117));
  const side = new Uint8Array(n);
  for (let p = 0; p < n; p++) side[p] = permutation.inverse(p) < held ? 1 : 0;
  const [train, validation] = fill(from, side, [n - held, held]);
  const percent = `${+(fraction * 100).toFixed(4)}%`;
  return {
    train: RecordSubset.of(file.records.count, train, `train side of a ${percent} split, seed ${seed}`),
    validation: RecordSubset.of(file.records.count, validation, `validation side of a ${percent} split, seed ${seed}`),
    unplaced: 0,
  };
}

/** The records of each side (0: train, 1: validation), ascending. */
function fill(from: RecordSubset, side: Uint8Array, counts: number[]): [Float64Array, Float64Array] {
  const out: [Float64Array, Float64Array] = [new Float64Array(counts[0]), new Float64Array(counts[1])];
  const at = [0, 0];
  for (let p = 0; p < side.length; p++) {
    const s = side[p];
    if (s < 2) out[s][at[s]++] = from.at(p);
  }
  return out;
}

/** The records [from, to) of `file` (to: default its end). */
export function recordRange(file: Indexed, from: number, to = file.records.count): RecordSubset {
  return RecordSubset.range(file.records.count, from, to);
}
