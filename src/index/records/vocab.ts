/**
 * Category vocabularies collected during the indexing pass: the distinct non-numeric values of each
 * column with their counts, up to a limit (a column with more distinct values is not categorical and
 * its vocabulary is dropped). Short values are counted under a numeric key packed from their bytes, so
 * no string is made for a value already seen.
 */
import { text } from './numbers.js';

export const MAX_CATEGORIES = 1000;

export class VocabCollector {
  /** Per column: packed key or string → [value, count]; undefined once the column overflowed. */
  private readonly columns: Array<Map<number | string, [string, number]> | undefined> = [];

  add(column: number, bytes: Uint8Array, start: number, end: number): void {
    const map = this.mapOf(column);
    if (map === undefined) return;
    const n = end - start;
    let key: number | string;
    if (n <= 6) {
      key = n * 2 ** 48;
      for (let i = start, f = 1; i < end; i++, f *= 256) key += bytes[i] * f;
    } else key = text(bytes, start, end);
    if (!bump(map, key)) this.insert(column, map, key, typeof key === 'string' ? key : text(bytes, start, end));
  }

  /** Counts a value given as a string (JSON values). */
  addString(column: number, value: string): void {
    const map = this.mapOf(column);
    if (map !== undefined && !bump(map, value)) this.insert(column, map, value, value);
  }

  private mapOf(column: number): Map<number | string, [string, number]> | undefined {
    while (this.columns.length <= column) this.columns.push(new Map());
    return this.columns[column];
  }

  private insert(column: number, map: Map<number | string, [string, number]>, key: number | string, value: string): void {
    if (map.size >= MAX_CATEGORIES) this.columns[column] = undefined;
    else map.set(key, [value, 1]);
  }

  /** Plain form for transfer: per column, the values and counts, or null when it overflowed. */
  export(): Array<Array<[string, number]> | null> {
    return this.columns.map((m) => (m === undefined ? null : [...m.values()]));
  }
}

/** Counts one more of a value already seen; false when the key is new. */
function bump(map: Map<number | string, [string, number]>, key: number | string): boolean {
  const entry = map.get(key);
  if (entry === undefined) return false;
  entry[1]++;
  return true;
}

/** Merges exported vocabularies (by column position) into `into`. */
export function mergeVocab(into: Array<Map<string, number> | null>, part: Array<Array<[string, number]> | null>): void {
  part.forEach((values, c) => {
    while (into.length <= c) into.push(new Map());
    const target = into[c];
    if (target === null) return;
    if (values === null) {
      into[c] = null;
      return;
    }
    for (const [value, count] of values) target.set(value, (target.get(value) ?? 0) + count);
    if (target.size > MAX_CATEGORIES) into[c] = null;
  });
}

/** A column's categories, sorted (stable ids), with their counts; null when it has too many. */
export function finalizeVocab(map: Map<string, number> | null | undefined): Array<[string, number]> | null {
  if (map === null || map === undefined || map.size === 0) return null;
  return [...map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}
