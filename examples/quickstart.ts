/**
 * `npm start`: the main job on the bundled sample data. Opens the compressed files, builds (or reuses)
 * their indexes, and reads from the middle of each without decompressing from the start.
 */
import { closeSharedPool, openReader } from '../src/index.js';

const files = ['data/weather.csv.bz2', 'data/seattle-weather-hourly-normals.csv.xz'];

for (const file of files) {
  const started = performance.now();
  const reader = await openReader(file);
  const info = reader.info();
  const ms = (performance.now() - started).toFixed(1);
  console.log(`${file}: ${info.format}, ${info.units} units, ${info.size} bytes decompressed; index ${info.index.status} in ${ms} ms (${info.index.path ?? 'not saved'})`);
  const middle = Math.floor(reader.size / 2);
  const bytes = await reader.read(middle, 120);
  console.log(`  bytes ${middle}..${middle + 120}: ${JSON.stringify(new TextDecoder().decode(bytes))}`);
  await reader.close();
}
await closeSharedPool();
