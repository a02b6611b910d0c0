/**
 * A sequence (windowed) regression from a .csv.xz time series: predict the temperature one hour ahead
 * from the previous 24 hours of pressure, temperature and wind, with sliding windows from a
 * TimeRangeDataset fed to `model.fitDataset`.
 *
 *   npx tsx examples/forecast-temperature.ts [data/seattle-weather-hourly-normals.csv.xz] [epochs]
 */
import { closeSharedPool, loadTf, openIndexed, TimeRangeDataset, toTfDataset } from '../src/index.js';

export async function forecastTemperature(path = 'data/seattle-weather-hourly-normals.csv.xz', epochs = 6, log: (line: string) => void = console.log): Promise<number[]> {
  const tf = (await loadTf()) as typeof import('@tensorflow/tfjs');
  const file = await openIndexed(path, { records: 'csv', timeColumn: 'date' });
  const { first, last } = file.time?.summary ?? {};
  const hours = 24;
  const windows = new TimeRangeDataset(file, {
    from: first ?? 0,
    to: (last ?? 0) + 1,
    features: ['pressure', 'temperature', 'wind'],
    labels: 'temperature',
    labelType: 'float32',
    standardize: true,
    sequenceLength: hours,
    sequenceStride: 3,
    targetOffset: 1,
    maxGapMs: 2 * 3_600_000,
    shuffleBuffer: 1000,
    seed: 1,
    batchSize: 64,
  });
  log(`${path}: ${file.records.count} hourly records, windows of ${hours} h predicting the next hour's temperature`);
  const model = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [hours, 3] }),
      tf.layers.dense({ units: 32, activation: 'relu' }),
      tf.layers.dense({ units: 1 }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
  const losses: number[] = [];
  await model.fitDataset(toTfDataset(windows, tf), {
    epochs,
    verbose: 0,
    callbacks: {
      onEpochEnd: (epoch, logs) => {
        losses.push(logs?.loss ?? NaN);
        log(`epoch ${epoch + 1}: mean squared error ${(logs?.loss ?? NaN).toFixed(3)} °C²`);
      },
    },
  });
  model.dispose();
  await file.close();
  return losses;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await forecastTemperature(process.argv[2], process.argv[3] === undefined ? undefined : Number(process.argv[3]));
  await closeSharedPool();
}
