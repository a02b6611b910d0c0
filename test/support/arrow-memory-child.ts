/**
 * Child process of test/arrow-memory.test.ts: exports the first LIMIT records (in time order) of an
 * indexed CSV and prints the RSS growth over the export as JSON. `stream` writes batches as they are
 * produced (exportTimeRangeToArrow); `table` collects them into an in-memory Table first (the control:
 * its memory grows with the range). Sampled after each batch, after a garbage collection.
 *
 *   node --expose-gc --import tsx test/support/arrow-memory-child.ts stream|table DATA.csv OUT.arrow LIMIT BATCH_ROWS
 */
import { closeSharedPool, exportTimeRangeToArrow, openIndexed, timeRangeToArrow, writeArrowFile } from '../../src/index.js';

const [mode, path, out, limitArg, batchRowsArg] = process.argv.slice(2);
const limit = Number(limitArg);
const batchRows = Number(batchRowsArg);
const gc = (globalThis as { gc?: () => void }).gc;
// A small chunk cache, so the cache's budget is not mistaken for the export's memory.
const file = await openIndexed(path, { records: 'csv', timeColumn: 't', cacheBytes: 1 << 20, parallelism: 1 });
let peak = 0;
let peakLive = 0;
/** Collects garbage first (V8 would let up to ~64 MB of dead buffers wait): what is measured is what the export keeps. */
const sample = (): void => {
  gc?.();
  const m = process.memoryUsage();
  peak = Math.max(peak, m.rss);
  peakLive = Math.max(peakLive, m.heapUsed + m.external);
};
// Warm up (modules, JIT), then measure from a collected heap.
await exportTimeRangeToArrow(file, -Infinity, Infinity, out, { limit: Math.min(limit, 2 * batchRows), batchRows });
gc?.();
const start = process.memoryUsage();
const baseline = start.rss;
const baselineLive = start.heapUsed + start.external;
const options = { limit, batchRows, onProgress: sample };
if (mode === 'stream') await exportTimeRangeToArrow(file, -Infinity, Infinity, out, options);
else {
  const table = await timeRangeToArrow(file, -Infinity, Infinity, options);
  sample();
  await writeArrowFile(table, out);
}
sample();
await file.close();
await closeSharedPool();
console.log(JSON.stringify({ mode, limit, baselineMB: baseline / 1e6, growthMB: (peak - baseline) / 1e6, liveGrowthMB: (peakLive - baselineLive) / 1e6 }));
