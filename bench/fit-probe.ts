/**
 * npx tsx bench/fit-probe.ts — where the main thread's time goes during `model.fitDataset` on seekdata's
 * batches, measured directly (not sampled): how long each `next()` of the dataset kept training waiting,
 * the main thread's GC pauses (perf_hooks 'gc' entries), and the CPU time of every thread of the process
 * (Linux /proc/self/task: the main thread, the pool's workers, V8's helper threads) with their nice
 * values, against `model.fit` on the same rows in memory, the configurations interleaved for ROUNDS rounds
 * of SLICE batches.
 *
 *   npx tsx bench/fit-probe.ts [--format xz|bzip2] [--iterate: the dataset's main-thread CPU alone, no training]
 *   env: SEEKDATA_BENCH_FIT_SLICE (250), SEEKDATA_BENCH_FIT_ROUNDS (6), SEEKDATA_BENCH_FIT_BATCH (256),
 *        SEEKDATA_BENCH_FIT_VARIANTS (JSON list of toTfDataset options to run besides its defaults, each a
 *        configuration of its own; default '[{"workerPriority":10}]'), SEEKDATA_BENCH_FIT_PROFILE (1: profile
 *        two more slices of the default configuration, summarised as bench/fit-profile.ts does),
 *        SEEKDATA_BENCH_FIT_DATASET (JSON of ShuffledBatchOptions merged into the dataset's), SEEKDATA_BENCH_DATA
 */
import * as tf from '@tensorflow/tfjs';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { closeSharedPool, openIndexed, ShuffledBatchDataset, toTfDataset, type Batch, type ShuffledBatchOptions, type TfDatasetOptions } from '../src/index.js';
import { fitBenchData, fmt, median } from './common.js';
import { formatSummary, summariseProfile, type CpuProfile } from './fit-profile.js';

const SLICE = Number(process.env.SEEKDATA_BENCH_FIT_SLICE ?? 250);
const ROUNDS = Number(process.env.SEEKDATA_BENCH_FIT_ROUNDS ?? 6);
const BATCH = Number(process.env.SEEKDATA_BENCH_FIT_BATCH ?? 256);
const features = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'];
// SEEKDATA_BENCH_FIT_DATASET: JSON of ShuffledBatchOptions merged into the dataset's (e.g. '{"eventLoopTurnMs":1e9}').
const datasetOptions: ShuffledBatchOptions = {
  features,
  labels: 'label',
  oneHot: true,
  labelType: 'float32',
  standardize: true,
  batchSize: BATCH,
  shuffle: 'chunked',
  seed: 7,
  ...(JSON.parse(process.env.SEEKDATA_BENCH_FIT_DATASET ?? '{}') as ShuffledBatchOptions),
};

/** CPU ticks (user + system) and nice of every thread of this process. */
function threads(): Map<number, { ticks: number; nice: number }> {
  const out = new Map<number, { ticks: number; nice: number }>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const f = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
      out.set(Number(tid), { ticks: Number(f[11]) + Number(f[12]), nice: Number(f[16]) });
    } catch {
      // The thread ended.
    }
  }
  return out;
}

function classifier(classes: number): tf.Sequential {
  const model = tf.sequential({
    layers: [tf.layers.dense({ inputShape: [features.length], units: 16, activation: 'relu' }), tf.layers.dense({ units: classes, activation: 'softmax' })],
  });
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

/** The dataset with its iterators timed: how long each next() took (the consumer waiting on it). */
function timed(ds: ShuffledBatchDataset, waits: number[]): ShuffledBatchDataset {
  return new Proxy(ds, {
    get(target, key) {
      if (key === Symbol.asyncIterator) {
        return () => {
          const it = target[Symbol.asyncIterator]();
          return {
            async next(): Promise<IteratorResult<Batch>> {
              const t0 = performance.now();
              const r = await it.next();
              waits.push(performance.now() - t0);
              return r;
            },
            return: (v?: unknown) => it.return(v as never),
          };
        };
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** CPU time of the calling thread in ms (/proc ticks of 10 ms). */
function threadCpuMs(): number {
  const f = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

/**
 * `--iterate`: the main thread's CPU per record of iterating chunked batches alone (no training): batch
 * assembly, messaging and GC of the dataset, 5 runs of 600k records on one file (its tails checked in the
 * first run only, so that one is left out).
 */
async function iterate(file: Awaited<ReturnType<typeof openIndexed>>): Promise<void> {
  const perRecord: number[] = [];
  for (let run = 0; run < 6; run++) {
    const ds = new ShuffledBatchDataset(file, { ...datasetOptions, seed: 7 + run });
    let n = 0;
    const cpu0 = threadCpuMs();
    for await (const b of ds) {
      n += b.size;
      if (n >= 600_000) break;
    }
    const us = (1000 * (threadCpuMs() - cpu0)) / n;
    if (run > 0) perRecord.push(us);
    console.log(`run ${run}: ${n} records, main-thread CPU ${fmt(us, 3)} µs/record${run === 0 ? ' (tails checked: left out)' : ''}, load ${fmt(loadavg()[0], 1)}`);
  }
  console.log(`main-thread CPU per record iterating chunked batches: median ${fmt(median(perRecord), 3)} µs, mean ${fmt(perRecord.reduce((a, b) => a + b, 0) / perRecord.length, 3)} µs`);
  await file.close();
  await closeSharedPool();
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const { path, indexOptions } = await fitBenchData(args);
  if (args.includes('--iterate')) {
    await iterate(await openIndexed(path, indexOptions));
    return;
  }
  const rowsFile = await openIndexed(path, indexOptions);
  const xs: Float32Array[] = [];
  const ys: Float32Array[] = [];
  const first = new ShuffledBatchDataset(rowsFile, datasetOptions);
  for await (const b of first) {
    if (b.size !== BATCH || !(b.ys instanceof Float32Array)) break;
    xs.push(b.xs);
    ys.push(b.ys);
    if (xs.length === SLICE) break;
  }
  const classes = first.spec.oneHot;
  const x = tf.tensor2d(Float32Array.from(xs.flatMap((a) => [...a])), [SLICE * BATCH, features.length]);
  const y = tf.tensor2d(Float32Array.from(ys.flatMap((a) => [...a])), [SLICE * BATCH, classes]);

  // The seekdata configurations: toTfDataset's defaults, and each variant of SEEKDATA_BENCH_FIT_VARIANTS
  // (JSON list of TfDatasetOptions, e.g. '[{"workerPriority":10}]'; a `dataset` key holds ShuffledBatchOptions
  // for that configuration's dataset, e.g. '[{"dataset":{"eventLoopTurnMs":1e9}}]'), each on a file of its own.
  type Variant = TfDatasetOptions & { dataset?: ShuffledBatchOptions };
  const variants: Variant[] = [{}, ...(JSON.parse(process.env.SEEKDATA_BENCH_FIT_VARIANTS ?? '[{"workerPriority":10}]') as Variant[])];
  const waits: number[] = [];
  interface Config {
    name: string;
    slice: () => Promise<unknown>;
    wall: number;
    gcMs: number;
    gcN: number;
    /** GC pause ms by kind (perf_hooks NODE_PERFORMANCE_GC_*: 1 minor, 2 major, 4 incremental, 8 weak callbacks). */
    gcKinds: Map<number, number>;
    waits: number[];
    cpu: Map<number, number>;
    nices: Map<number, number>;
    walls: number[];
    /** The seekdata dataset, and the ms its batches waited for chunk rows in the measured slices. */
    dataset?: ShuffledBatchDataset;
    chunkWaitMs: number;
  }
  const configs: Config[] = [];
  const blank = { wall: 0, gcMs: 0, gcN: 0 };
  for (const variant of variants) {
    const { dataset: own, ...v } = variant;
    const f = await openIndexed(path, indexOptions);
    const dataset = new ShuffledBatchDataset(f, { ...datasetOptions, ...own, repeat: true });
    const ds = toTfDataset(timed(dataset, waits), tf, v);
    const model = classifier(classes);
    await model.fitDataset(ds, { epochs: 1, batchesPerEpoch: 40, verbose: 0 });
    configs.push({ name: `fitDataset ${JSON.stringify(variant)}`, slice: () => model.fitDataset(ds, { epochs: 1, batchesPerEpoch: SLICE, verbose: 0 }), dataset, chunkWaitMs: 0, ...blank, gcKinds: new Map(), waits: [], cpu: new Map(), nices: new Map(), walls: [] });
  }
  const fitModel = classifier(classes);
  await fitModel.fit(x, y, { batchSize: BATCH, epochs: 1, shuffle: false, verbose: 0 });
  const fit: Config = { name: 'model.fit', slice: () => fitModel.fit(x, y, { batchSize: BATCH, epochs: 1, shuffle: false, verbose: 0 }), chunkWaitMs: 0, ...blank, gcKinds: new Map(), waits: [], cpu: new Map(), nices: new Map(), walls: [] };
  configs.push(fit);

  const gc: Array<{ kind: number; ms: number }> = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gc.push({ kind: (e as { detail?: { kind?: number } }).detail?.kind ?? 0, ms: e.duration });
  });
  obs.observe({ entryTypes: ['gc'] });
  const main = process.pid;
  for (let round = 0; round < ROUNDS; round++) {
    const line: string[] = [];
    for (let k = 0; k < configs.length; k++) {
      const c = configs[(k + round) % configs.length];
      gc.length = 0;
      waits.length = 0;
      const before = threads();
      const waited0 = c.dataset?.chunkWaitMs ?? 0;
      const t0 = performance.now();
      await c.slice();
      const wall = performance.now() - t0;
      c.chunkWaitMs += (c.dataset?.chunkWaitMs ?? 0) - waited0;
      const after = threads();
      c.wall += wall;
      c.walls.push(wall);
      c.gcMs += gc.reduce((n, g) => n + g.ms, 0);
      c.gcN += gc.length;
      for (const g of gc) c.gcKinds.set(g.kind, (c.gcKinds.get(g.kind) ?? 0) + g.ms);
      c.waits.push(...waits);
      for (const [tid, a] of after) c.cpu.set(tid, (c.cpu.get(tid) ?? 0) + a.ticks - (before.get(tid)?.ticks ?? 0));
      c.nices = new Map([...after].map(([tid, a]) => [tid, a.nice]));
    }
    for (const c of configs) line.push(`${c.name} ${fmt(fit.walls[round] / c.walls[round], 3)}`);
    console.log(`round ${round + 1} (load ${fmt(loadavg()[0], 1)}): ${line.join(', ')}`);
  }
  obs.disconnect();
  const recs = ROUNDS * SLICE * BATCH;
  for (const c of configs) {
    const busy = [...c.cpu].filter(([, ticks]) => ticks > 0).sort((a, b) => b[1] - a[1]);
    const sorted = [...c.waits].sort((a, b) => a - b);
    const ratio = median(fit.walls.map((w, r) => w / c.walls[r]));
    console.log(
      `\n${c.name}: vs model.fit median ${fmt(ratio, 3)}, total ${fmt(fit.wall / c.wall, 3)}; wall ${fmt((1000 * c.wall) / recs, 2)} µs/rec; main-thread GC ${fmt((1000 * c.gcMs) / recs, 2)} µs/rec (${c.gcN} pauses; ms by kind ${[...c.gcKinds].map(([k, ms]) => `${k}: ${fmt(ms, 0)}`).join(', ')})` +
        (c === fit
          ? ''
          : `; next() waits ${fmt((1000 * c.waits.reduce((n, w) => n + w, 0)) / recs, 2)} µs/rec (median ${fmt(median(sorted), 3)} ms, over 1 ms: ${sorted.filter((w) => w > 1).length}, max ${fmt(sorted.at(-1) ?? NaN, 1)} ms), of which waiting for chunk rows ${fmt((1000 * c.chunkWaitMs) / recs, 2)} µs/rec`),
    );
    console.log(`  CPU µs/rec by thread (nice): ${busy.map(([tid, ticks]) => `${tid === main ? 'main' : tid} ${fmt((ticks * 10000) / recs, 2)}(n${c.nices.get(tid) ?? '?'})`).join(', ')}`);
  }
  if (process.env.SEEKDATA_BENCH_FIT_PROFILE === '1') {
    // One more slice of the default configuration under the inspector's sampling profiler.
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
    await configs[0].slice();
    await configs[0].slice();
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    writeFileSync('/tmp/fit-probe.cpuprofile', JSON.stringify(profile));
    console.log(formatSummary(summariseProfile(profile as CpuProfile), 40));
  }
  tf.dispose([x, y]);
  await rowsFile.close();
  await closeSharedPool();
}

await main();
