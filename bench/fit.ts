/**
 * npm run bench:fit — end-to-end tfjs training throughput (pure-JS @tensorflow/tfjs backend): the README's
 * classifier (dense 16 relu → dense softmax, adam, categorical cross-entropy, accuracy) trained with
 * `model.fitDataset` on seekdata's chunked batches of the ~100 MB synthetic CSV, against `model.fit` on the
 * same rows held in memory and `model.fitDataset` on the same batches held in memory (what tfjs's dataset
 * path costs by itself). seekdata runs on the index loaded from disk (what every real run uses) and on an
 * index freshly built in memory.
 *
 * The machine is shared (other developers' jobs: load average 7-20 on 2 cores) and its load swings within
 * a minute, so the configurations are interleaved finely: training is cut into slices of SLICE batches
 * (`batchesPerEpoch`), one slice of each configuration per round, in a rotated order, and the ratios are
 * taken within each round (median over rounds; also the ratio of the total times). seekdata's slices
 * continue one `repeat` dataset through one tf.data.Dataset (each fitDataset call takes the previous
 * call's iteration over, as training with `batchesPerEpoch` does), so its epochs run whole, epoch starts
 * included: the first (cold) one, and the later ones whose first chunks were loaded ahead. Each
 * configuration trains EPOCHS epochs of the file in all. Wall time, the main thread's CPU time (Linux:
 * /proc/thread-self) and the process's CPU time (main thread + workers + V8 helper threads) are reported
 * with the load average.
 *
 *   npm run bench:fit [-- --format xz|bzip2] [--profile]
 *   env: SEEKDATA_BENCH_FIT_EPOCHS (2), SEEKDATA_BENCH_FIT_SLICE (250 batches), SEEKDATA_BENCH_FIT_BATCH (256),
 *        SEEKDATA_BENCH_FIT_FRESH (1: include the freshly built index), SEEKDATA_BENCH_FIT_UNPACED (0: 1 adds
 *        the loaded index without the training pace), SEEKDATA_BENCH_FIT_PRIORITY (N: adds the loaded index
 *        with toTfDataset's workerPriority N), SEEKDATA_BENCH_DATA / _MB (the data).
 *
 * `--profile` also records the main thread during one more seekdata epoch (inspector Profiler, as
 * `node --cpu-prof` would) and prints where its time went (bench/fit-profile.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { closeSharedPool, openIndexed, ShuffledBatchDataset, toTfDataset, type IndexedFile, type ShuffledBatchOptions, type TfDatasetOptions } from '../src/index.js';
import { DATA_DIR, fitBenchData, fmt, machine, median, saveResult, table } from './common.js';
import { formatSummary, summariseProfile, type CpuProfile, type ProfileSummary } from './fit-profile.js';

const EPOCHS = Number(process.env.SEEKDATA_BENCH_FIT_EPOCHS ?? 2);
const SLICE = Number(process.env.SEEKDATA_BENCH_FIT_SLICE ?? 250);
const BATCH = Number(process.env.SEEKDATA_BENCH_FIT_BATCH ?? 256);
const WITH_FRESH = (process.env.SEEKDATA_BENCH_FIT_FRESH ?? '1') !== '0';
const WITH_UNPACED = (process.env.SEEKDATA_BENCH_FIT_UNPACED ?? '0') !== '0';
const PRIORITY = process.env.SEEKDATA_BENCH_FIT_PRIORITY === undefined ? undefined : Number(process.env.SEEKDATA_BENCH_FIT_PRIORITY);
const features = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'];
const datasetOptions: ShuffledBatchOptions = { features, labels: 'label', oneHot: true, labelType: 'float32', standardize: true, batchSize: BATCH, shuffle: 'chunked', seed: 7 };

/** Clock ticks per second of /proc's CPU times. */
const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU time of the calling thread in ms (Linux), or NaN where /proc is not there. */
function threadCpuMs(): number {
  try {
    const fields = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS;
  } catch {
    return NaN;
  }
}

function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** The README's classifier. */
function classifier(classes: number): tf.Sequential {
  const model = tf.sequential({
    layers: [tf.layers.dense({ inputShape: [features.length], units: 16, activation: 'relu' }), tf.layers.dense({ units: classes, activation: 'softmax' })],
  });
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

interface Rows {
  xs: Float32Array[];
  ys: Float32Array[];
  records: number;
  classes: number;
}

/** One epoch of batches, held in memory (the baselines' rows). */
async function epochInMemory(file: IndexedFile): Promise<Rows> {
  const ds = new ShuffledBatchDataset(file, datasetOptions);
  const rows: Rows = { xs: [], ys: [], records: 0, classes: ds.spec.oneHot };
  for await (const b of ds) {
    if (!(b.ys instanceof Float32Array)) throw new Error('expected one-hot float32 labels');
    // Whole batches only, so that every slice has the same rows in every configuration.
    if (b.size !== BATCH) break;
    rows.xs.push(b.xs);
    rows.ys.push(b.ys);
    rows.records += b.size;
  }
  return rows;
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

interface Measure {
  wallMs: number;
  mainCpuMs: number;
  processCpuMs: number;
  load: number;
}

async function measure(run: () => Promise<unknown>): Promise<Measure> {
  const load = loadavg()[0];
  const main0 = threadCpuMs();
  const proc0 = processCpuMs();
  const t0 = performance.now();
  await run();
  const wallMs = performance.now() - t0;
  return { wallMs, mainCpuMs: threadCpuMs() - main0, processCpuMs: processCpuMs() - proc0, load: (load + loadavg()[0]) / 2 };
}

const FIT = 'model.fit, same rows in memory';

interface Config {
  name: string;
  model: tf.Sequential;
  /** Trains slice `k` (SLICE batches). */
  slice: (model: tf.Sequential, k: number) => Promise<unknown>;
}

async function profileEpoch(file: IndexedFile, model: tf.Sequential, batches: number): Promise<ProfileSummary> {
  const data = toTfDataset(new ShuffledBatchDataset(file, { ...datasetOptions, repeat: true }), tf);
  await model.fitDataset(data, { epochs: 1, batchesPerEpoch: 20, verbose: 0 });
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  await model.fitDataset(data, { epochs: 1, batchesPerEpoch: batches, verbose: 0 });
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  const dir = join(DATA_DIR, 'profiles');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `fit-main-${Date.now()}.cpuprofile`);
  writeFileSync(path, JSON.stringify(profile));
  console.log(`\nmain-thread profile of ${batches} seekdata batches (an epoch, across its end): ${path}`);
  return summariseProfile(profile as CpuProfile);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  // The loaded index: built and saved once (a .sdx of the bench's own beside the data), then loaded as in every real run.
  const { format, path, indexOptions } = await fitBenchData(args);
  const files: IndexedFile[] = [];
  const open = async (fresh: boolean): Promise<IndexedFile> => {
    const file = await openIndexed(path, fresh ? { ...indexOptions, index: false } : indexOptions);
    // Built in memory and not saved: 'none' (no index file).
    if (file.report.status !== (fresh ? 'none' : 'loaded')) throw new Error(`${path}: index ${file.report.status}, expected ${fresh ? 'none (built, not saved)' : 'loaded'}`);
    files.push(file);
    return file;
  };
  // The baselines' rows come from a file of their own: the measured loaded index starts unused (its chunk
  // tails not yet checked against the data, as in a new process).
  const rows = await epochInMemory(await open(false));
  const batchesPerEpoch = rows.xs.length;
  const slicesPerEpoch = Math.max(1, Math.floor(batchesPerEpoch / SLICE));
  const rounds = Math.ceil((EPOCHS * batchesPerEpoch) / SLICE);
  const sliceRecords = SLICE * BATCH;
  // model.fit's slices as tensors made before the clock starts (slicing is not part of fit).
  const x = tf.tensor2d(concat(rows.xs), [rows.records, features.length]);
  const y = tf.tensor2d(concat(rows.ys), [rows.records, rows.classes]);
  const fitSlices = Array.from({ length: slicesPerEpoch }, (_, k) => [x.slice(k * sliceRecords, sliceRecords), y.slice(k * sliceRecords, sliceRecords)]);
  console.log(
    `seekdata tfjs training benchmark: ${path}, ${rows.records} rows (${batchesPerEpoch} batches of ${BATCH}), ${EPOCHS} epochs per configuration in ${rounds} rounds of one ${SLICE}-batch slice each; tfjs backend ${tf.getBackend()}; ${machine()}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
  );

  const seekdataConfig = (name: string, file: IndexedFile, options: TfDatasetOptions = {}): Config => {
    const data = toTfDataset(new ShuffledBatchDataset(file, { ...datasetOptions, repeat: true }), tf, options);
    return { name, model: classifier(rows.classes), slice: (m) => m.fitDataset(data, { epochs: 1, batchesPerEpoch: SLICE, verbose: 0 }) };
  };
  const configs: Config[] = [seekdataConfig('seekdata, index loaded from disk', await open(false))];
  if (WITH_FRESH) configs.push(seekdataConfig('seekdata, index freshly built', await open(true)));
  if (PRIORITY !== undefined) configs.push(seekdataConfig(`seekdata, index loaded, workerPriority ${PRIORITY}`, await open(false), { workerPriority: PRIORITY }));
  if (WITH_UNPACED) configs.push(seekdataConfig('seekdata, index loaded, not paced (workerJobs 2, no preload)', await open(false), { workerJobs: 2, preloadNextEpoch: false }));
  configs.push({ name: FIT, model: classifier(rows.classes), slice: (m, k) => m.fit(fitSlices[k % slicesPerEpoch][0], fitSlices[k % slicesPerEpoch][1], { batchSize: BATCH, epochs: 1, shuffle: false, verbose: 0 }) });
  configs.push({
    name: 'model.fitDataset, same batches in memory',
    model: classifier(rows.classes),
    slice: (m, k) => {
      const first = (k % slicesPerEpoch) * SLICE;
      const batches = function* (): Generator<never> {
        // Zero-copy: tf.tensor keeps the Float32Array; tfjs disposes the tensors after the batch.
        for (let b = first; b < first + SLICE; b++) yield { xs: tf.tensor2d(rows.xs[b], [BATCH, features.length]), ys: tf.tensor2d(rows.ys[b], [BATCH, rows.classes]) } as never;
      };
      return m.fitDataset(tf.data.generator(batches), { epochs: 1, batchesPerEpoch: SLICE, verbose: 0 });
    },
  });

  // Warm-up (JIT, worker threads, tfjs kernels) on models and datasets of its own.
  const warm = classifier(rows.classes);
  await warm.fitDataset(toTfDataset(new ShuffledBatchDataset(files[0], datasetOptions), tf), { epochs: 1, batchesPerEpoch: 40, verbose: 0 });
  for (const c of configs) if (!c.name.startsWith('seekdata')) await c.slice(warm, 0);
  warm.dispose();
  // One batch on each measured model, the same for all: adam makes its slot variables on a model's first
  // step, which would otherwise be counted below as tensors left behind.
  const [x1, y1] = [x.slice(0, BATCH), y.slice(0, BATCH)];
  for (const c of configs) await c.model.fit(x1, y1, { batchSize: BATCH, epochs: 1, verbose: 0 });
  tf.dispose([x1, y1]);
  const tensorsBefore = tf.memory().numTensors;

  const results = new Map<string, Measure[]>(configs.map((c) => [c.name, []]));
  const started = performance.now();
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < configs.length; k++) {
      const c = configs[(k + round) % configs.length];
      results.get(c.name)?.push(await measure(() => c.slice(c.model, round)));
    }
    if (round % 5 === 4 || round === rounds - 1) {
      const line = configs.map((c) => `${c.name.split(',')[0]}${c.name.includes('fresh') ? ' (fresh)' : c.name.includes('not paced') ? ' (unpaced)' : c.name.includes('workerPriority') ? ' (niced)' : ''} ${fmt(sliceRecords / (results.get(c.name)?.at(-1)?.wallMs ?? NaN), 1)}k`);
      console.log(`round ${round + 1}/${rounds} (${fmt((performance.now() - started) / 1000, 0)} s, load ${fmt(loadavg()[0], 1)}): ${line.join(', ')} rec/s`);
    }
  }
  const leaked = tf.memory().numTensors - tensorsBefore;

  const fitRuns = results.get(FIT) ?? [];
  const sum = (ms: Measure[], key: keyof Measure): number => ms.reduce((n, m) => n + m[key], 0);
  const out: Array<Array<string | number>> = [];
  const summary: Record<string, unknown> = { rows: rows.records, batch: BATCH, epochs: EPOCHS, slice: SLICE, rounds, format, leakedTensors: leaked, loadAverage: loadavg() };
  for (const c of configs) {
    const runs = results.get(c.name) ?? [];
    const records = runs.length * sliceRecords;
    const wallRatio = median(runs.map((m, r) => fitRuns[r].wallMs / m.wallMs));
    const totalRatio = sum(fitRuns, 'wallMs') / sum(runs, 'wallMs');
    const cpuRatio = sum(fitRuns, 'mainCpuMs') / sum(runs, 'mainCpuMs');
    const rps = records / (sum(runs, 'wallMs') / 1000);
    const mainUs = (1000 * sum(runs, 'mainCpuMs')) / records;
    const procUs = (1000 * sum(runs, 'processCpuMs')) / records;
    const load = median(runs.map((m) => m.load));
    const vsFit = c.name === FIT ? '1.00×' : `${fmt(wallRatio, 2)}× (total ${fmt(totalRatio, 2)}×; main-thread CPU ${fmt(cpuRatio, 2)}×)`;
    out.push([format, c.name, `${fmt(rps / 1000, 1)}k rec/s`, vsFit, `${fmt(mainUs, 2)} / ${fmt(procUs, 2)} µs`, fmt(load, 1)]);
    summary[c.name] = { recordsPerSecond: rps, wallRatioVsFit: wallRatio, totalRatioVsFit: totalRatio, mainCpuRatioVsFit: cpuRatio, mainCpuUsPerRecord: mainUs, processCpuUsPerRecord: procUs, load, slices: runs };
  }
  if (args.includes('--profile')) {
    const s = await profileEpoch(files[0], configs[0].model, batchesPerEpoch);
    console.log(formatSummary(s));
    summary.profile = { totalMs: s.totalMs, byCategory: s.byCategory, topFrames: s.topFrames.slice(0, 12) };
  }
  tf.dispose([x, y, ...fitSlices.flat()]);
  for (const c of configs) c.model.dispose();
  for (const f of files) await f.close();
  await closeSharedPool();
  console.log(`\ntensors left after the rounds: ${leaked} (0 expected); load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(
    table(
      ['format', `training (${EPOCHS} epochs of ${rows.records} rows, batch ${BATCH}; ${rounds} rounds of ${SLICE}-batch slices)`, 'throughput', 'vs model.fit: median of rounds (total; main-thread CPU)', 'CPU per record: main thread / process', 'load'],
      out,
    ),
  );
  saveResult('fit', summary);
}

await main();
