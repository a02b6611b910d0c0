/** Small validators for option objects; each names the field it rejects. */
import { SeekdataError, invalidOption } from './errors.js';

export function checkPositiveInt(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw invalidOption(name, 'a positive integer', value);
  }
  return value;
}

export function checkNonNegativeInt(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalidOption(name, 'a non-negative integer', value);
  }
  return value;
}

export function checkOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalidOption(name, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, value);
  }
  return value as T;
}

export function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalidOption(name, 'a boolean', value);
  return value;
}

export function checkFunction<T>(name: string, value: unknown): T {
  if (typeof value !== 'function') throw invalidOption(name, 'a function', value);
  return value as T;
}

export function checkString(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw invalidOption(name, 'a non-empty string', value);
  return value;
}

/**
 * Rejects keys an options object does not know, naming the closest known one: without it a typo
 * (`batch_size`, `timecolumn`) is silently ignored and the default used instead. `known` is one of the
 * key lists of option-keys.ts, each checked against its options interface by the compiler; `why` explains
 * keys that belong to a neighbouring API and what to use here instead.
 */
export function checkKnownKeys(options: unknown, known: Readonly<Record<string, true>>, where: string, why: Readonly<Record<string, string>> = {}, prefix = ''): void {
  if (typeof options !== 'object' || options === null) return;
  for (const key of Object.keys(options)) {
    if (Object.hasOwn(known, key)) continue;
    // A key another API takes (`rank` of ShuffledBatchDataset given to TimeRangeDataset): say why not here.
    if (Object.hasOwn(why, key)) throw new SeekdataError('INVALID_OPTION', `options.${prefix}${key} is not an option of ${where}: ${why[key]}`, { option: prefix + key });
    const names = Object.keys(known);
    const guess = closestName(key, names);
    const hint = guess === undefined ? ` (options of ${where}: ${names.join(', ')})` : `; did you mean ${guess}?`;
    throw new SeekdataError('INVALID_OPTION', `options.${prefix}${key} is not an option of ${where}${hint}`, { option: prefix + key });
  }
}

/** A key list for `checkKnownKeys` from names (option lists kept as arrays or sets). */
export function keyRecord(keys: Iterable<string>): Readonly<Record<string, true>> {
  return Object.fromEntries([...keys].map((key) => [key, true] as const));
}

/**
 * The known name nearest to `key` (case, `_` and `-` ignored; at most a third of its letters differ),
 * for "did you mean" hints: option keys here, the CLI's commands, flags and flag values.
 */
export function closestName(key: string, names: readonly string[]): string | undefined {
  const norm = (s: string): string => s.toLowerCase().replace(/[_-]/g, '');
  const k = norm(key);
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(k.length / 3)) + 1;
  for (const name of names) {
    const d = editDistance(k, norm(name));
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance with adjacent transpositions counted as one edit. */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2][j - 2] + 1);
      rows[i][j] = d;
    }
  }
  return rows[a.length][b.length];
}
