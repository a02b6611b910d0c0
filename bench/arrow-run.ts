/**
 * One Arrow export in a process of its own, for bench/arrow.ts: prints wall time, CPU time (all threads:
 * main and workers) and peak RSS as JSON.
 *
 *   tsx bench/arrow-run.ts legacy|table|stream|decode FILE OUT.arrow [FRACTION] [BATCH_ROWS]
 *
 * `decode` only decodes the bytes of the same records (`reader.stream`), for the memory of decoding itself.
 *
 * FRACTION (default 1): export the first FRACTION of the records, in time order.
 */
import { writeFileSync } from 'node:fs';
import { tableToIPC } from 'apache-arrow';
import { closeSharedPool, exportTimeRangeToArrow, openIndexed, timeRangeToArrow, writeArrowFile } from '../src/index.js';
import { legacyRecordsToArrow } from './arrow-legacy.js';

const [mode, path, out, fractionArg, batchRowsArg] = process.argv.slice(2);
const file = await openIndexed(path, { records: 'csv', timeColumn: 'time' });
const limit = Math.round(file.records.count * Number(fractionArg ?? 1));
const baseline = process.memoryUsage().rss;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let rows = 0;
let bytes = 0;
const options = { limit, ...(batchRowsArg === undefined ? {} : { batchRows: Number(batchRowsArg) }) };
if (mode === 'legacy') {
  const table = await legacyRecordsToArrow(file, file.range(-Infinity, Infinity, limit));
  const ipc = tableToIPC(table, 'file');
  writeFileSync(out, ipc);
  rows = table.numRows;
  bytes = ipc.length;
} else if (mode === 'table') {
  const table = await timeRangeToArrow(file, -Infinity, Infinity, options);
  bytes = await writeArrowFile(table, out);
  rows = table.numRows;
} else if (mode === 'stream') {
  const result = await exportTimeRangeToArrow(file, -Infinity, Infinity, out, options);
  rows = result.rows;
  bytes = result.bytes;
} else if (mode === 'decode') {
  const end = limit < file.records.count ? file.records.start(limit) : file.reader.size;
  for await (const piece of file.reader.stream(file.records.start(0), end)) bytes += piece.length;
  rows = limit;
} else throw new Error(`unknown mode ${mode}`);
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
await file.close();
await closeSharedPool();
console.log(JSON.stringify({ mode, rows, bytes, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, peakRssMB: (process.resourceUsage().maxRSS * 1024) / 1e6, baselineRssMB: baseline / 1e6 }));
