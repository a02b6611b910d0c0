/**
 * npm run bench:datasets — records/s of shuffled batches (exact, chunked; batch 256) with a decoded-chunk
 * cache under a tenth of the data, next to sequential reads of the same file in the same run; epochs on a
 * freshly built index and on the same index loaded from disk (each in a process of its own, with its peak
 * RSS and the bytes posted to the workers: a loaded index is what every real run uses); and end-to-end
 * tfjs training through fitDataset next to model.fit on the same rows from memory.
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { closeSharedPool, openIndexed, ShuffledBatchDataset, toTfDataset, type IndexedFile } from '../src/index.js';
import { sharedPool } from '../src/workers/pool.js';
import { benchData, fmt, machine, saveResult, table, timeMs, warm } from './common.js';

const BATCH = 256;
const EXACT_SECONDS = Number(process.env.SEEKDATA_BENCH_EXACT_SECONDS ?? 8);
const FIT_BATCHES = Number(process.env.SEEKDATA_BENCH_FIT_BATCHES ?? 2000);
const features = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'];

async function rawSequential(file: IndexedFile): Promise<number> {
  const ms = await timeMs(async () => {
    for await (const part of file.reader.stream()) void part;
  });
  return file.records.count / (ms / 1000);
}

async function batchesPerSecond(file: IndexedFile, shuffle: 'exact' | 'chunked' | false, seconds = Infinity): Promise<number> {
  const ds = new ShuffledBatchDataset(file, { features, labels: 'label', batchSize: BATCH, shuffle, seed: 1 });
  let records = 0;
  const started = performance.now();
  for await (const b of ds) {
    records += b.size;
    if ((performance.now() - started) / 1000 > seconds) break;
  }
  return records / ((performance.now() - started) / 1000);
}

function model(): tf.Sequential {
  const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [features.length], units: 32, activation: 'relu' }), tf.layers.dense({ units: 3, activation: 'softmax' })] });
  m.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy' });
  return m;
}

async function fitComparison(file: IndexedFile): Promise<{ fitDatasetRps: number; fitMemoryRps: number; fitDatasetMemoryRps: number }> {
  const ds = new ShuffledBatchDataset(file, { features, labels: 'label', batchSize: BATCH, shuffle: 'chunked', seed: 2, repeat: true, labelType: 'float32' });
  // The rows for the in-memory baseline: the same number of batches, read once up front.
  const xs: number[] = [];
  const ys: number[] = [];
  let n = 0;
  for await (const b of new ShuffledBatchDataset(file, { features, labels: 'label', batchSize: BATCH, shuffle: 'chunked', seed: 2, labelType: 'float32' })) {
    xs.push(...b.xs);
    ys.push(...(b.ys ?? []));
    if (++n === FIT_BATCHES) break;
  }
  const records = n * BATCH;
  const m1 = model();
  await m1.fitDataset(toTfDataset(ds, tf), { epochs: 1, batchesPerEpoch: 5, verbose: 0 });
  const streamed = await timeMs(() => m1.fitDataset(toTfDataset(ds, tf), { epochs: 1, batchesPerEpoch: FIT_BATCHES, verbose: 0 }));
  // fitDataset over the same batches held in memory: what tfjs's dataset path costs by itself.
  const m3 = model();
  const inMemory = async function* (): AsyncGenerator<never> {
    for (let b = 0; b < n; b++) {
      yield {
        xs: tf.tensor2d(xs.slice(b * BATCH * features.length, (b + 1) * BATCH * features.length), [BATCH, features.length]),
        ys: tf.tensor2d(ys.slice(b * BATCH, (b + 1) * BATCH), [BATCH, 1]),
      } as never;
    }
  };
  await m3.fitDataset(tf.data.generator(inMemory), { epochs: 1, batchesPerEpoch: 5, verbose: 0 });
  const memoryDataset = await timeMs(() => m3.fitDataset(tf.data.generator(inMemory), { epochs: 1, batchesPerEpoch: FIT_BATCHES, verbose: 0 }));
  m3.dispose();
  const m2 = model();
  const x = tf.tensor2d(xs, [records, features.length]);
  const y = tf.tensor2d(ys, [records, 1]);
  await m2.fit(x.slice(0, BATCH * 5), y.slice(0, BATCH * 5), { batchSize: BATCH, epochs: 1, verbose: 0, shuffle: false });
  const memory = await timeMs(() => m2.fit(x, y, { batchSize: BATCH, epochs: 1, verbose: 0, shuffle: false }));
  tf.dispose([x, y]);
  m1.dispose();
  m2.dispose();
  return { fitDatasetRps: records / (streamed / 1000), fitMemoryRps: records / (memory / 1000), fitDatasetMemoryRps: records / (memoryDataset / 1000) };
}

interface EpochRun {
  status: string;
  chunkedRps: number;
  sequentialRps: number;
  peakRssMB: number;
  /** Bytes posted to the workers per job, and what those jobs' arrays needed. */
  postedPerJob: number;
  ownPerJob: number;
}

/** Child mode (`--epochs PATH fresh|loaded CACHEBYTES`): one chunked and one file-order epoch; prints an EpochRun. */
async function epochsChild(path: string, how: string, cacheBytes: number): Promise<void> {
  const file = await openIndexed(path, { records: 'csv', timeColumn: 'time', cacheBytes, rebuild: how === 'fresh' });
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  await warm(file.reader);
  const pool = sharedPool();
  const before = { ...pool.stats };
  const chunkedRps = await batchesPerSecond(file, 'chunked');
  const sequentialRps = await batchesPerSecond(file, false);
  clearInterval(timer);
  const jobs = Math.max(1, pool.stats.jobs - before.jobs);
  const run: EpochRun = {
    status: file.report.status,
    chunkedRps,
    sequentialRps,
    peakRssMB: Math.max(peak, process.memoryUsage().rss) / 1e6,
    postedPerJob: (pool.stats.postedBytes - before.postedBytes) / jobs,
    ownPerJob: (pool.stats.ownBytes - before.ownBytes) / jobs,
  };
  await file.close();
  await closeSharedPool();
  console.log(JSON.stringify(run));
}

function epochsIn(path: string, how: 'fresh' | 'loaded', cacheBytes: number): EpochRun {
  const child = spawnSync(process.execPath, ['--import', 'tsx', 'bench/datasets.ts', '--epochs', path, how, String(cacheBytes)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (child.status !== 0) throw new Error(`epochs on a ${how} index of ${path} failed`);
  return JSON.parse(child.stdout.trim().split('\n').pop() ?? '') as EpochRun;
}

async function main(): Promise<void> {
  const data = benchData();
  const size = statSync(data.csv).size;
  const cacheBytes = Math.floor(size / 12);
  console.log(`seekdata datasets benchmark: ${(size / 1e6).toFixed(1)} MB CSV, cache ${(cacheBytes / 1e6).toFixed(1)} MB, ${machine()}`);
  const rows: Array<Array<string | number>> = [];
  const result: Record<string, unknown> = { cacheBytes, batch: BATCH };
  for (const [format, path] of [
    ['bzip2', data.bz2],
    ['xz', data.xz],
  ] as const) {
    const file = await openIndexed(path, { records: 'csv', timeColumn: 'time', cacheBytes });
    await warm(file.reader);
    const raw = await rawSequential(file);
    const sequential = await batchesPerSecond(file, false);
    const chunked = await batchesPerSecond(file, 'chunked');
    const exact = await batchesPerSecond(file, 'exact', EXACT_SECONDS);
    // Fresh first: its child rebuilds and saves the index the loaded run then loads.
    const fresh = epochsIn(path, 'fresh', cacheBytes);
    const loaded = epochsIn(path, 'loaded', cacheBytes);
    const r = { rawRps: raw, sequentialRps: sequential, chunkedRps: chunked, exactRps: exact, chunkedVsSequential: chunked / sequential, chunkedVsRaw: chunked / raw, fresh, loaded };
    result[format] = r;
    rows.push([format, 'sequential read of the records (decode only)', `${fmt(raw / 1000, 0)}k rec/s`, '']);
    rows.push([format, 'batches in file order (shuffle: false), parsed', `${fmt(sequential / 1000, 0)}k rec/s`, '1.00×']);
    rows.push([format, `chunked shuffle (K = 8), parsed`, `${fmt(chunked / 1000, 0)}k rec/s`, `${fmt(chunked / sequential, 2)}× (${fmt(chunked / raw, 2)}× the raw read)`]);
    rows.push([format, `exact shuffle, cache ${(cacheBytes / 1e6).toFixed(0)} MB (${EXACT_SECONDS} s sample)`, `${fmt(exact, 0)} rec/s`, `${fmt(exact / sequential, 4)}×`]);
    for (const [label, e] of [
      ['freshly built', fresh],
      ['loaded from disk', loaded],
    ] as const) {
      const posted = `${fmt(e.postedPerJob / 1e3, 1)} kB posted per worker job (${fmt(e.ownPerJob / 1e3, 1)} kB needed)`;
      rows.push([format, `chunked epoch, index ${label} (own process; peak RSS ${fmt(e.peakRssMB, 0)} MB; ${posted})`, `${fmt(e.chunkedRps / 1000, 0)}k rec/s`, `${fmt(e.chunkedRps / fresh.chunkedRps, 2)}× fresh`]);
      rows.push([format, `file-order epoch, index ${label} (same process)`, `${fmt(e.sequentialRps / 1000, 0)}k rec/s`, `${fmt(e.sequentialRps / fresh.sequentialRps, 2)}× fresh`]);
    }
    if (format === 'xz') {
      const fit = await fitComparison(file);
      result.fit = fit;
      rows.push([format, `model.fitDataset on chunked batches (${FIT_BATCHES} batches)`, `${fmt(fit.fitDatasetRps / 1000, 1)}k rec/s`, `${fmt(fit.fitDatasetRps / fit.fitMemoryRps, 2)}×`]);
      rows.push([format, 'model.fit on the same rows in memory', `${fmt(fit.fitMemoryRps / 1000, 1)}k rec/s`, '1.00×']);
      rows.push([format, 'model.fitDataset on the same batches in memory (tfjs dataset overhead)', `${fmt(fit.fitDatasetMemoryRps / 1000, 1)}k rec/s`, `${fmt(fit.fitDatasetMemoryRps / fit.fitMemoryRps, 2)}× (seekdata: ${fmt(fit.fitDatasetRps / fit.fitDatasetMemoryRps, 2)}× of this)`]);
    }
    await file.close();
  }
  await closeSharedPool();
  console.log(table(['format', 'measure', 'value', 'ratio'], rows));
  saveResult('datasets', result);
}

const args = process.argv.slice(2);
if (args[0] === '--epochs') await epochsChild(args[1], args[2], Number(args[3]));
else await main();
