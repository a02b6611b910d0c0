/**
 * `npm start`: the main job on the bundled sample data.
 *   1. builds (or reuses) the indexes of data/weather.csv.bz2 and data/seattle-weather-hourly-normals.csv.xz,
 *   2. trains a small tfjs classifier with shuffled batches from the .bz2 through model.fitDataset,
 *   3. answers a time-range query and builds a sliding-window batch from the .xz,
 *   4. says where the indexes were saved (run it twice: the second run loads them).
 */
import { progressBar } from '../src/cli/progress.js';
import { closeSharedPool, loadTf, openIndexed, ShuffledBatchDataset, TimeRangeDataset, toTfDataset, type IndexedFile } from '../src/index.js';

export interface QuickstartResult {
  indexes: Array<{ file: string; status: string; path: string | undefined; seconds: number; records: number }>;
  losses: number[];
  recordsPerSecond: number;
  rangeRecords: string[];
  windowShape: number[];
}

async function open(path: string, timeColumn: string, log: (line: string) => void): Promise<IndexedFile> {
  const bar = progressBar(`indexing ${path}`, true);
  const file = await openIndexed(path, { records: 'csv', timeColumn, onProgress: (p) => bar.update(p.bytesDone, p.bytesTotal) });
  bar.done();
  const r = file.report;
  log(`${path}: ${r.records} records, index ${r.status === 'loaded' ? 'loaded (reused)' : r.status} in ${(r.seconds * 1000).toFixed(0)} ms`);
  return file;
}

export async function quickstart(log: (line: string) => void = console.log): Promise<QuickstartResult> {
  const tf = (await loadTf()) as typeof import('@tensorflow/tfjs');
  const weather = await open('data/weather.csv.bz2', 'date', log);
  const hourly = await open('data/seattle-weather-hourly-normals.csv.xz', 'date', log);
  const result: QuickstartResult = {
    indexes: [weather, hourly].map((f) => ({ file: f.name, status: f.report.status, path: f.report.indexPath, seconds: f.report.seconds, records: f.records.count })),
    losses: [],
    recordsPerSecond: 0,
    rangeRecords: [],
    windowShape: [],
  };

  log('\nTraining a weather-type classifier on shuffled batches from the .bz2 (model.fitDataset):');
  const dataset = new ShuffledBatchDataset(weather, {
    features: ['precipitation', 'temp_max', 'temp_min', 'wind', 'location'],
    labels: 'weather',
    oneHot: true,
    standardize: true,
    batchSize: 64,
    seed: 1,
  });
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [dataset.featureNames.length], units: 32, activation: 'relu' }),
      tf.layers.dense({ units: dataset.spec.oneHot, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  let started = performance.now();
  const epochs = 6;
  await model.fitDataset(toTfDataset(dataset, tf), {
    epochs,
    verbose: 0,
    callbacks: {
      onEpochBegin: () => {
        started = performance.now();
      },
      onEpochEnd: (epoch, logs) => {
        const seconds = (performance.now() - started) / 1000;
        result.recordsPerSecond = weather.records.count / seconds;
        result.losses.push(logs?.loss ?? NaN);
        log(`  epoch ${epoch + 1}/${epochs}: loss ${(logs?.loss ?? NaN).toFixed(4)}, accuracy ${(logs?.acc ?? NaN).toFixed(3)}, ${result.recordsPerSecond.toFixed(0)} records/s`);
      },
    },
  });
  model.dispose();

  const from = Date.UTC(2010, 6, 4, 9);
  const to = Date.UTC(2010, 6, 4, 12);
  log(`\nTime range [${new Date(from).toISOString()}, ${new Date(to).toISOString()}) from the .xz (decodes only the block holding it):`);
  const numbers = hourly.range(from, to);
  const decoder = new TextDecoder();
  result.rangeRecords = (await hourly.records.getMany(numbers)).map((r) => decoder.decode(r));
  for (const line of result.rangeRecords) log(`  ${line}`);

  const windows = new TimeRangeDataset(hourly, {
    from: Date.UTC(2010, 0, 1),
    to: Date.UTC(2010, 1, 1),
    features: ['pressure', 'temperature', 'wind'],
    labels: 'temperature',
    labelType: 'float32',
    sequenceLength: 24,
    sequenceStride: 6,
    targetOffset: 1,
    batchSize: 16,
  });
  for await (const batch of windows) {
    result.windowShape = batch.xsShape;
    log(`\nA sliding-window batch for a sequence model (24 h of pressure, temperature, wind → next hour's temperature): xs [${batch.xsShape.join(', ')}], ys [${batch.ysShape.join(', ')}]`);
    break;
  }

  log('\nIndexes saved (run `npm start` again to see them reused):');
  for (const i of result.indexes) log(`  ${i.path ?? '(not saved)'}`);
  await weather.close();
  await hourly.close();
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await quickstart();
  await closeSharedPool();
}
