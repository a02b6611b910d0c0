/**
 * npx tsx bench/map-timeout.ts [rounds] — what `map.timeoutMs` costs: records/s of a chunked-shuffle epoch
 * of the bench file (batch 256) with a `map` module, with and without a time limit, interleaved over
 * `rounds` rounds (default 3; medians), next to the same epoch with no map. A job of a timed map runs alone
 * on its worker thread (it gives up the second job a thread otherwise takes), which is what this measures.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeSharedPool, openIndexed, ShuffledBatchDataset, type IndexedFile } from '../src/index.js';
import type { MapOptions } from '../src/datasets/map-spec.js';
import { benchData, fmt, machine, median, table } from './common.js';

const rounds = Number(process.argv[2] ?? 3);
const features = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'];
const dir = mkdtempSync(join(tmpdir(), 'seekdata-map-bench-'));
// A batched map that does a little arithmetic per row (the common case: cheap user code).
const module = join(dir, 'scale.mjs');
writeFileSync(
  module,
  `export default function ({ xs, size }) {
  const out = {};
  for (const [name, column] of Object.entries(xs)) {
    const values = new Float32Array(size);
    for (let k = 0; k < size; k++) values[k] = column[k] * 2;
    out[name] = values;
  }
  return { xs: out };
}
`,
);

async function epoch(file: IndexedFile, map: MapOptions | undefined): Promise<number> {
  const ds = new ShuffledBatchDataset(file, { features, labels: 'label', batchSize: 256, shuffle: 'chunked', seed: 1, ...(map === undefined ? {} : { map }) });
  let records = 0;
  const started = performance.now();
  for await (const batch of ds) records += batch.size;
  return records / ((performance.now() - started) / 1000);
}

const file = await openIndexed(benchData().xz, { records: 'csv', timeColumn: 'time' });
const variants: Record<string, MapOptions | undefined> = {
  'no map': undefined,
  'batched map': { module, batched: true },
  'batched map, timeoutMs: 10000': { module, batched: true, timeoutMs: 10_000 },
};
const results: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
await epoch(file, variants['batched map']);
const names = Object.keys(variants);
for (let r = 0; r < rounds; r++) {
  for (let k = 0; k < names.length; k++) {
    const name = names[(k + r) % names.length];
    results[name].push(await epoch(file, variants[name]));
  }
}
await file.close();
await closeSharedPool();
rmSync(dir, { recursive: true, force: true });
const base = median(results['batched map']);
console.log(`map.timeoutMs cost: chunked-shuffle epochs of ${file.records.count} records (xz), ${rounds} interleaved rounds, medians; ${machine()}`);
console.log(table(['epoch', 'records/s', 'vs the untimed map'], names.map((name) => [name, `${fmt(median(results[name]) / 1000, 1)}k`, `${fmt(median(results[name]) / base, 2)}×`])));
