/**
 * A CSV fixture for dataset tests, with its truth: timestamped rows with numeric, integer and
 * categorical fields and a learnable label, some malformed and some missing values.
 */
import type { IndexedFile } from '../../src/index.js';
import { prng } from './fixtures.js';

export interface TruthRow {
  record: number;
  time: number;
  a: number | null;
  b: number;
  cat: string;
  label: number;
  /** Whether the row is malformed (text in a numeric field). */
  bad: boolean;
}

export const CATS = ['x', 'y', 'z'];

export function datasetFixture(n: number, seed = 1): { csv: Buffer; rows: TruthRow[] } {
  const rand = prng(seed);
  const rows: TruthRow[] = [];
  const lines = ['time,a,b,cat,label,note'];
  let t = Date.UTC(2024, 4, 1);
  for (let i = 0; i < n; i++) {
    // One-second steps with an occasional gap of ten minutes.
    t += i % 997 === 500 ? 600_000 : 1000;
    const a = i % 101 === 7 ? null : Math.round((rand() * 20 - 10) * 1000) / 1000;
    const b = Math.floor(rand() * 50);
    const cat = CATS[Math.floor(rand() * 3)];
    const score = (a ?? 0) + b / 10 - 2.5;
    const label = score < -3 ? 0 : score < 3 ? 1 : 2;
    const bad = i % 499 === 3;
    rows.push({ record: i, time: t, a, b, cat, label, bad });
    const note = i % 7 === 0 ? '"quoted, with comma"' : `n${i}`;
    lines.push(`${new Date(t).toISOString()},${bad ? 'oops' : a === null ? '' : a},${b},${cat},${label},${note}`);
  }
  return { csv: Buffer.from(lines.join('\n') + '\n'), rows };
}

/** How many chunks after the first begin exactly at a record (where a loaded index's start checks read the byte before). */
export function chunksBeginningAtRecords(file: IndexedFile): number {
  const layout = file.reader.layout;
  let n = 0;
  for (let c = 1; c < layout.count; c++) {
    const { first, end } = file.records.recordsOf(c);
    if (first < end && file.records.span(first).start === layout.start[c]) n++;
  }
  return n;
}
