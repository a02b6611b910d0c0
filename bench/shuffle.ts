/**
 * npm run bench:shuffle — the exact shuffle served in rounds, next to the chunked shuffle, in one run:
 * records/s of an epoch (batch 256, 8 features + label parsed) on the 100 MB CSV of `npm run make-data`
 * with a decoded-chunk cache of 1/12 of the data, (a) the rows fitting the memory budget (one pass) and
 * (b) a budget of 1/8 of the rows (8 passes). The configurations are interleaved, `SEEKDATA_BENCH_REPS`
 * times (default 3; medians), and the CPU time of the process (all threads) is measured next to the wall
 * time: the machine is shared, so read the ratios and the records per CPU second.
 */
import { statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { closeSharedPool, openIndexed, ShuffledBatchDataset, type IndexedFile } from '../src/index.js';
import { benchData, fmt, machine, median, saveResult, table, warm } from './common.js';

const BATCH = 256;
const REPS = Number(process.env.SEEKDATA_BENCH_REPS ?? 3);
const features = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'];
// A parsed row: 8 features and 1 label (4 bytes each) and 13 bytes of round bookkeeping.
const ROW_BYTES = 4 * 9 + 13;

interface Config {
  name: string;
  shuffle: 'exact' | 'chunked';
  memory?: number;
}

interface Epoch {
  rps: number;
  wallS: number;
  cpuS: number;
  passes: number;
}

async function epoch(file: IndexedFile, config: Config, seed: number): Promise<Epoch> {
  const ds = new ShuffledBatchDataset(file, {
    features,
    labels: 'label',
    batchSize: BATCH,
    shuffle: config.shuffle,
    seed,
    ...(config.memory === undefined ? {} : { shuffleMemoryBytes: config.memory }),
  });
  let records = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  for await (const b of ds) records += b.size;
  const wallS = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { rps: records / wallS, wallS, cpuS: (used.user + used.system) / 1e6, passes: config.shuffle === 'exact' ? ds.passesMade : 1 };
}

async function main(): Promise<void> {
  const data = benchData();
  const size = statSync(data.csv).size;
  const cacheBytes = Math.floor(size / 12);
  const load = loadavg()[0];
  console.log(`seekdata shuffle benchmark: ${(size / 1e6).toFixed(1)} MB CSV, cache ${(cacheBytes / 1e6).toFixed(1)} MB (1/12), ${REPS} interleaved repetitions, ${machine()}, load average ${load.toFixed(1)}`);
  const rows: Array<Array<string | number>> = [];
  const result: Record<string, unknown> = { cacheBytes, batch: BATCH, reps: REPS, loadStart: load };
  for (const [format, path] of [
    ['bzip2', data.bz2],
    ['xz', data.xz],
  ] as const) {
    const file = await openIndexed(path, { records: 'csv', timeColumn: 'time', cacheBytes });
    await warm(file.reader);
    const n = file.records.count;
    const configs: Config[] = [
      { name: 'chunked', shuffle: 'chunked' },
      { name: 'exact, rows fit the budget', shuffle: 'exact' },
      { name: 'exact, budget 1/8 of the rows', shuffle: 'exact', memory: Math.ceil(n / 8) * ROW_BYTES },
    ];
    // Untimed: the first epoch over a loaded index checks each chunk's stored tail once (per process).
    await epoch(file, { name: 'warm-up', shuffle: 'chunked' }, 99);
    const runs = new Map<string, Epoch[]>(configs.map((c) => [c.name, []]));
    for (let rep = 0; rep < REPS; rep++) {
      for (const config of configs) {
        const e = await epoch(file, config, rep + 1);
        runs.get(config.name)?.push(e);
        console.log(`  ${format} rep ${rep}: ${config.name}: ${fmt(e.rps / 1000, 1)}k rec/s, ${fmt(e.wallS, 2)} s wall, ${fmt(e.cpuS, 2)} s CPU, ${e.passes} passes (load ${loadavg()[0].toFixed(1)})`);
      }
    }
    const summary = (name: string): { rps: number; cpuRps: number; passes: number; wallS: number; cpuS: number } => {
      const list = runs.get(name) ?? [];
      const wallS = median(list.map((e) => e.wallS));
      const cpuS = median(list.map((e) => e.cpuS));
      return { rps: n / wallS, cpuRps: n / cpuS, passes: list[0]?.passes ?? 0, wallS, cpuS };
    };
    const chunked = summary(configs[0].name);
    const fit = summary(configs[1].name);
    const eighth = summary(configs[2].name);
    result[format] = { records: n, chunked, exactFit: fit, exactEighth: eighth, fitVsChunked: fit.rps / chunked.rps, eighthVsChunked: eighth.rps / chunked.rps };
    const row = (label: string, s: typeof chunked): void => {
      rows.push([format, label, s.passes, `${fmt(s.rps / 1000, 0)}k rec/s`, `${fmt(s.rps / chunked.rps, 2)}×`, `${fmt(s.cpuRps / 1000, 0)}k rec/CPU s`, `${fmt(s.cpuRps / chunked.cpuRps, 2)}×`]);
    };
    row('chunked shuffle (K = 8)', chunked);
    row(`exact shuffle, rows fit the budget (default 256 MiB)`, fit);
    row(`exact shuffle, budget 1/8 of the rows (${fmt((Math.ceil(n / 8) * ROW_BYTES) / 2 ** 20, 1)} MiB)`, eighth);
    await file.close();
  }
  await closeSharedPool();
  result.loadEnd = loadavg()[0];
  console.log(table(['format', 'epoch', 'passes', 'wall', 'vs chunked', 'CPU', 'vs chunked (CPU)'], rows));
  console.log(`load average: ${(result.loadStart as number).toFixed(1)} at the start, ${(result.loadEnd as number).toFixed(1)} at the end`);
  saveResult('shuffle', result);
}

await main();
