/**
 * Where a parallelism-2 sequential decode spends its time (issue 12 §2, parallel efficiency): what
 * `seekdata cat -p 2 FILE > /dev/null` does (open, stream every chunk, write it to stdout), with a pool
 * whose workers run under --cpu-prof too, so the main thread's and each worker's profile can be read
 * side by side (profile-summary.ts). Also prints per-job timings seen from the main thread: how long each
 * job waited, ran, and how long the main thread took between results.
 *
 *   node --cpu-prof --cpu-prof-dir DIR --import tsx bench/decoders/profile-p2.ts FILE DIR [lookahead]
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { openReader } from '../../src/index.js';
import { WorkerPool } from '../../src/workers/pool.js';
import { writeOut } from '../../src/cli/context.js';

const [file, dir] = process.argv.slice(2);
if (file === undefined || dir === undefined) throw new Error('usage: profile-p2.ts FILE PROFILE_DIR');
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const pool = new WorkerPool({ size: 2, execArgv: ['--import', tsx, '--cpu-prof', '--cpu-prof-dir', dir] });
// Warm the workers (thread start and module loading are not what we look at).
const warm = await openReader(file, { parallelism: 2, cacheBytes: 1, pool });
await Promise.all([0, 1, 2, 3].map((c) => warm.chunk(c)));
await warm.close();

const c0 = process.cpuUsage();
const t0 = performance.now();
const reader = await openReader(file, { parallelism: 2, cacheBytes: 1, pool });
let bytes = 0;
let waited = 0;
let last = performance.now();
for await (const part of reader.stream()) {
  const now = performance.now();
  waited += now - last;
  bytes += part.length;
  await writeOut(process.stdout, part);
  last = performance.now();
}
await reader.close();
const wall = performance.now() - t0;
const cpu = process.cpuUsage(c0);
process.stderr.write(
  `${bytes} bytes in ${wall.toFixed(0)} ms wall; process CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms (all threads); ` +
    `main thread waiting for the next chunk ${waited.toFixed(0)} ms, writing/other ${(wall - waited).toFixed(0)} ms\n`,
);
await pool.close();
