/**
 * Train a tfjs classifier with `model.fitDataset` on shuffled batches read straight out of a .csv.bz2:
 * predict the weather type (sun, rain, fog, drizzle, snow) of a day from its measurements and city.
 *
 *   npx tsx examples/classify-weather.ts [data/weather.csv.bz2] [epochs]
 */
import { closeSharedPool, loadTf, openIndexed, ShuffledBatchDataset, toTfDataset } from '../src/index.js';

export async function classifyWeather(path = 'data/weather.csv.bz2', epochs = 8, log: (line: string) => void = console.log): Promise<number[]> {
  // @tensorflow/tfjs-node when installed (fast), else @tensorflow/tfjs.
  const tf = (await loadTf()) as typeof import('@tensorflow/tfjs');
  const file = await openIndexed(path, { records: 'csv', timeColumn: 'date' });
  const dataset = new ShuffledBatchDataset(file, {
    features: ['precipitation', 'temp_max', 'temp_min', 'wind', 'location'],
    labels: 'weather',
    oneHot: true,
    standardize: true,
    batchSize: 64,
    seed: 42,
  });
  const classes = dataset.spec.oneHot;
  log(`${path}: ${file.records.count} records; features ${dataset.featureNames.join(', ')}; ${classes} classes`);
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [dataset.featureNames.length], units: 32, activation: 'relu' }),
      tf.layers.dense({ units: classes, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const losses: number[] = [];
  await model.fitDataset(toTfDataset(dataset, tf), {
    epochs,
    verbose: 0,
    callbacks: {
      onEpochEnd: (epoch, logs) => {
        losses.push(logs?.loss ?? NaN);
        log(`epoch ${epoch + 1}: loss ${(logs?.loss ?? NaN).toFixed(4)}, accuracy ${(logs?.acc ?? NaN).toFixed(3)}`);
      },
    },
  });
  model.dispose();
  await file.close();
  return losses;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await classifyWeather(process.argv[2], process.argv[3] === undefined ? undefined : Number(process.argv[3]));
  await closeSharedPool();
}
