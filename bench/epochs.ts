/**
 * `npx tsx bench/epochs.ts [bz2|xz] [loaded|fresh] [epochs]` — consecutive chunked-shuffle epochs in one process
 * over the bench file, with its index loaded from disk (default) or freshly built, and the bench's 8.3 MB cache:
 * records per second, pool jobs, chunk decodes and the process's CPU time per epoch. A first epoch on a loaded
 * index checks each chunk's stored tail against the data once (README, The index file), which later epochs do
 * not: the difference between epoch 0 and the next ones is that check and the warm-up. A diagnosis, no target.
 */
import { loadavg } from 'node:os';
import { closeSharedPool, openIndexed, ShuffledBatchDataset } from '../src/index.js';
import { sharedPool } from '../src/workers/pool.js';
import { benchData, fmt, machine, table } from './common.js';

const format = process.argv[2] ?? 'bz2';
const how = process.argv[3] ?? 'loaded';
const epochs = Number(process.argv[4] ?? 3);
const data = benchData();
const path = format === 'xz' ? data.xz : data.bz2;
const features = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'];

// A loaded index must exist first: built (and closed) in this process only when there is none.
if (how === 'loaded') await (await openIndexed(path, { records: 'csv', timeColumn: 'time' })).close();
await closeSharedPool();
const file = await openIndexed(path, { records: 'csv', timeColumn: 'time', cacheBytes: 8_300_000, rebuild: how === 'fresh' });
const rows: Array<Array<string | number>> = [];
let jobs = sharedPool().stats.jobs;
let decodes = file.reader.stats.decodes;
for (let e = 0; e < epochs; e++) {
  const dataset = new ShuffledBatchDataset(file, { features, labels: 'label', batchSize: 256, shuffle: 'chunked', seed: 1 + e });
  let records = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  for await (const batch of dataset) records += batch.size;
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  rows.push([e, `${fmt(records / seconds / 1000, 0)}k rec/s`, sharedPool().stats.jobs - jobs, file.reader.stats.decodes - decodes, `${fmt((used.user + used.system) / 1e6, 2)} s`]);
  jobs = sharedPool().stats.jobs;
  decodes = file.reader.stats.decodes;
}
await file.close();
await closeSharedPool();
console.log(`seekdata epochs: ${format}, index ${how === 'fresh' ? 'freshly built' : 'loaded from disk'}, ${file.reader.layout.count} chunks, ${machine()}; load average ${loadavg()[0].toFixed(1)}`);
console.log(table(['epoch', 'throughput', 'pool jobs', 'chunk decodes', 'process CPU'], rows));
