/**
 * npx tsx bench/index-write.ts [times] — the index file's write alone (writeIndexFile: temporary file, the
 * payloads and header, fsync, rename) for an index of the bench file's size (1.12 M records: offsets
 * 4 B + time 8 B each, 13.5 MB), `times` times (default 20) beside the bench data, with a plain copy of
 * the same bytes into fresh memory as the baseline of each round. Prints the distribution of both: on a
 * virtual machine the write into the page cache sometimes takes 10-30× its usual time (the kernel's copy
 * into new page-cache pages), which is what makes the index build's wall time move most between runs.
 */
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeIndexFile, type SectionValue } from '../src/index/index-file.js';
import { benchData, fmt, machine, table } from './common.js';

const times = Number(process.argv[2] ?? 20);
const RECORDS = 1_123_499;
const offsets = new Uint32Array(RECORDS).map((_, k) => (k * 89) % 1_000_000);
const values = new Float64Array(RECORDS).map((_, k) => 1.7e12 + k * 750);
const sections = new Map<string, SectionValue>([
  ['meta', { json: { bench: true } }],
  ['records.offsets', offsets],
  ['time.values', values],
]);
const path = join(dirname(benchData().csv), `index-write-bench-${process.pid}.sdx`);

const write: number[] = [];
const copy: number[] = [];
for (let k = 0; k < times; k++) {
  rmSync(path, { force: true });
  let t = performance.now();
  const fresh = new Uint8Array(offsets.byteLength + values.byteLength);
  fresh.set(new Uint8Array(offsets.buffer), 0);
  fresh.set(new Uint8Array(values.buffer), offsets.byteLength);
  copy.push(performance.now() - t);
  t = performance.now();
  await writeIndexFile(path, sections);
  write.push(performance.now() - t);
}
rmSync(path, { force: true });

const quantile = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const row = (name: string, xs: number[]): string[] => [name, `${fmt(quantile(xs, 0), 1)} ms`, `${fmt(quantile(xs, 0.5), 1)} ms`, `${fmt(quantile(xs, 0.9), 1)} ms`, `${fmt(Math.max(...xs), 1)} ms`];
console.log(`index file write, ${fmt((offsets.byteLength + values.byteLength) / 1e6, 1)} MB, ${times} times, ${machine()}`);
console.log(table(['step', 'min', 'median', 'p90', 'max'], [row('copy of the payloads into fresh memory (baseline)', copy), row('writeIndexFile (temp file, writes, fsync, rename)', write)]));
