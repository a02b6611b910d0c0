/**
 * The `stats` command's table, for people: numeric columns with their count, missing, min, max, mean and
 * std; text columns with their values, missing, distinct values and top categories (value and count).
 * Every number goes through one Intl.NumberFormat (en-US: grouped thousands, up to 6 significant digits,
 * no trailing zeros), so a column reads the same from row to row. `--json` has the raw statistics.
 */
import type { ColumnStats } from '../index/records/stats.js';

const counts = new Intl.NumberFormat('en-US');
const values = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 6 });
/** Top categories shown per text column. */
const TOP = 5;
/** A category value longer than this is cut (with …). */
const MAX_VALUE = 24;

function num(v: number | null): string {
  return v === null ? '-' : values.format(v);
}

/** A category value as it can be shown on one line: quoted when it has spaces, quotes or control characters. */
function category(value: string): string {
  const cut = [...value].length > MAX_VALUE ? `${[...value].slice(0, MAX_VALUE - 1).join('')}…` : value;
  return cut === '' || /[\s"',\p{Cc}]/u.test(cut) ? JSON.stringify(cut) : cut;
}

/** The most frequent categories, the most frequent first (ties by value), as `value (count)`. */
function topCategories(s: ColumnStats): string {
  if (s.categories === null) return s.nonNumeric > 0 ? '(more than 1,000 distinct values: not counted)' : '';
  const top = [...s.categories].sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0)).slice(0, TOP);
  const rest = s.categories.length - top.length;
  return top.map((c) => `${category(c.value)} (${counts.format(c.count)})`).join(', ') + (rest > 0 ? `, … ${counts.format(rest)} more` : '');
}

/** Rows aligned in columns: the first column (names) and the last of text tables left, numbers right. */
function align(rows: string[][], leftColumns: ReadonlySet<number>): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => [...r[c]].length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => {
          const pad = ' '.repeat(widths[c] - [...cell].length);
          return leftColumns.has(c) ? (c === r.length - 1 ? cell : cell + pad) : pad + cell;
        })
        .join('  '),
    )
    .join('\n');
}

/** The time index's column and span, shown in place of the time column's categories. */
export interface TimeSpan {
  /** A CSV column's name or position, a JSONL field path. */
  column: string | number | undefined;
  first: number | undefined;
  last: number | undefined;
}

const iso = (ms: number | undefined): string => (ms === undefined ? '-' : new Date(ms).toISOString());

/** The stats table of a file: a numeric section and a text section (each only when it has columns). */
export function statsTable(name: string, records: number, stats: ColumnStats[], time?: TimeSpan): string {
  const sections = [`${name}: ${counts.format(records)} records`];
  const numeric = stats.filter((s) => s.numeric);
  const text = stats.filter((s) => !s.numeric);
  if (numeric.length > 0) {
    const rows = [['numeric column', 'count', 'missing', 'non-numeric', 'min', 'max', 'mean', 'std']];
    for (const s of numeric) rows.push([s.name, counts.format(s.count), counts.format(s.missing), counts.format(s.nonNumeric), num(s.min), num(s.max), num(s.mean), num(s.std)]);
    sections.push(align(rows, new Set([0])));
  }
  if (text.length > 0) {
    const rows = [['text column', 'values', 'missing', 'distinct', 'top values (count)']];
    for (const s of text) {
      const present = s.count + s.nonNumeric;
      const distinct = s.categories === null ? (s.nonNumeric > 0 ? '>1,000' : '0') : counts.format(s.categories.length);
      const top =
        present === 0
          ? '(all missing)'
          : time !== undefined && (s.name === time.column || stats.indexOf(s) === time.column) && s.categories === null
            ? `time column: ${iso(time.first)} .. ${iso(time.last)}`
            : s.count > 0 ? `${topCategories(s)}; ${counts.format(s.count)} numeric` : topCategories(s);
      rows.push([s.name, counts.format(present), counts.format(s.missing), distinct, top]);
    }
    sections.push(align(rows, new Set([0, 4])));
  }
  return sections.join('\n\n') + '\n';
}
