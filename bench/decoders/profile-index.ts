/**
 * The indexing pass (chunk map + records + timestamps + statistics of every column) in one thread
 * (parallelism 1), so that one --cpu-prof profile shows every hot loop of it side by side: the bzip2
 * magic search, the block decoders, the CSV analysis. Summarise with profile-summary.ts.
 *
 *   node --cpu-prof --cpu-prof-dir DIR --import tsx bench/decoders/profile-index.ts FILE [MB]
 */
import { openIndexed } from '../../src/index.js';

const [file] = process.argv.slice(2);
if (file === undefined) throw new Error('usage: profile-index.ts FILE');
const c0 = process.cpuUsage();
const t0 = performance.now();
const f = await openIndexed(file, { records: 'csv', timeColumn: 'time', index: false, parallelism: 1 });
const cpu = process.cpuUsage(c0);
process.stderr.write(`${f.records.count} records; ${(performance.now() - t0).toFixed(0)} ms wall, ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU\n`);
await f.close();
