/**
 * The column statistics of a collection from those of its files, without reading any data: counts add up,
 * min and max are taken over the files, and the mean and standard deviation are merged exactly with Chan
 * et al.'s pairwise formula (./records/stats.ts `mergeStats`) from each file's count, mean and M2 (its
 * population variance times its count). Category vocabularies are merged by value (counts added, sorted by
 * value as in one file); a column whose merged categories pass 1,000 distinct values, or that some file
 * has text in without categories, has none. Columns are matched by name, in order of first appearance.
 */
import { finalizeStats, mergeStats, newStats, STAT_SLOTS, type ColumnStats } from './records/stats.js';
import { MAX_CATEGORIES } from './records/vocab.js';

/** One file's finalized statistics of a column, back in the packed form `mergeStats` takes (one column). */
function packed(s: ColumnStats): Float64Array {
  const out = newStats(1);
  // Slots (see stats.ts): COUNT, MISSING, TEXT, MIN, MAX, MEAN, M2, SHIFT, FRACTIONAL. The mean is kept as
  // SHIFT + MEAN with MEAN 0, as toMoments leaves a chunk's moments.
  out[0] = s.count;
  out[1] = s.missing;
  out[2] = s.nonNumeric;
  if (s.count > 0) {
    out[3] = s.min ?? 0;
    out[4] = s.max ?? 0;
    out[5] = 0;
    out[6] = (s.std ?? 0) ** 2 * s.count;
    out[7] = s.mean ?? 0;
    out[8] = s.integer ? 0 : 1;
  }
  return out;
}

export function mergeColumnStats(files: ReadonlyArray<ReadonlyArray<ColumnStats>>): ColumnStats[] {
  const names: string[] = [];
  const at = new Map<string, number>();
  for (const stats of files) {
    for (const s of stats) {
      if (!at.has(s.name)) {
        at.set(s.name, names.length);
        names.push(s.name);
      }
    }
  }
  let merged = newStats(names.length);
  const vocab: Array<Map<string, number> | null> = names.map(() => new Map());
  for (const stats of files) {
    const one = newStats(names.length);
    for (const s of stats) {
      const c = at.get(s.name) ?? 0;
      one.set(packed(s), c * STAT_SLOTS);
      const into = vocab[c];
      if (into === null) continue;
      if (s.categories === null) {
        // Text without categories (too many, or JSON arrays): the merged column has none either.
        if (s.nonNumeric > 0) vocab[c] = null;
        continue;
      }
      for (const { value, count } of s.categories) into.set(value, (into.get(value) ?? 0) + count);
      if (into.size > MAX_CATEGORIES) vocab[c] = null;
    }
    merged = mergeStats(merged, one);
  }
  const lists = vocab.map((map): Array<[string, number]> | null => {
    if (map === null || map.size === 0) return null;
    // Sorted by value as one file's are (code unit order, as Array.prototype.sort compares strings).
    return [...map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  });
  return finalizeStats(merged, names, lists);
}
