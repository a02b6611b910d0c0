/**
 * npm run bench:arrow — `export --arrow` of a ~50 MB CSV (.xz, 1 MiB blocks; its index built first),
 * whole and a tenth of it: the streaming export (record batches written as produced), the same batches
 * collected into a Table and written, and the old all-in-memory export, each in a process of its own,
 * in one run, with the reader's default cache. Prints wall time, CPU time (main thread + workers: the
 * machine may be loaded, CPU time is the steadier figure) and peak RSS (the process's high-water mark).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { closeSharedPool, openIndexed } from '../src/index.js';
import { DATA_DIR, fmt, machine, saveResult, table } from './common.js';
import { writeSyntheticCsv } from './make-data.js';

const MB = Number(process.env.SEEKDATA_BENCH_ARROW_MB ?? 50);
const RUNS = Number(process.env.SEEKDATA_BENCH_RUNS ?? 1);

async function data(): Promise<string> {
  const csv = join(DATA_DIR, `arrow${MB}.csv`);
  if (!existsSync(`${csv}.xz`)) {
    await writeSyntheticCsv({ mb: MB, out: DATA_DIR, name: `arrow${MB}`, seed: 7 });
    const xz = spawnSync('sh', ['-c', `xz -k -f -c -T2 --block-size=1MiB "${csv}" > "${csv}.xz"`], { stdio: 'inherit' });
    if (xz.status !== 0) throw new Error('xz failed');
  }
  const file = await openIndexed(`${csv}.xz`, { records: 'csv', timeColumn: 'time' });
  await file.close();
  await closeSharedPool();
  return `${csv}.xz`;
}

interface Run {
  mode: string;
  rows: number;
  bytes: number;
  wallMs: number;
  cpuMs: number;
  peakRssMB: number;
  baselineRssMB: number;
}

function run(mode: string, path: string, fraction: number): Run {
  const out = join(DATA_DIR, `export-${mode}.arrow`);
  const child = spawnSync(process.execPath, ['--import', 'tsx', 'bench/arrow-run.ts', mode, path, out, String(fraction)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (child.status !== 0) throw new Error(`${mode} run failed`);
  return JSON.parse(child.stdout.trim().split('\n').pop() ?? '') as Run;
}

const path = await data();
console.log(`${path}: ${(statSync(path).size / 1e6).toFixed(1)} MB compressed, ${(statSync(path.replace(/\.xz$/, '')).size / 1e6).toFixed(1)} MB CSV; ${machine()}`);
const modes: Array<[string, number, string]> = [
  ['stream', 1, 'exportTimeRangeToArrow (batches written as produced)'],
  ['stream', 0.1, 'exportTimeRangeToArrow, a tenth of the range'],
  ['decode', 1, 'decoding alone (reader.stream of the same bytes)'],
  ['decode', 0.1, 'decoding alone, a tenth of the range'],
  ['table', 1, 'timeRangeToArrow + writeArrowFile (same batches, whole Table in memory)'],
  ['legacy', 1, 'old export (JS arrays + vectorFromArray + tableToIPC)'],
  ['legacy', 0.1, 'old export, a tenth of the range'],
];
const results: Record<string, Run> = {};
for (const [mode, fraction] of modes) {
  // Best of RUNS by CPU time.
  const key = `${mode}@${fraction}`;
  for (let r = 0; r < RUNS; r++) {
    const result = run(mode, path, fraction);
    if (results[key] === undefined || result.cpuMs < results[key].cpuMs) results[key] = result;
  }
}
const base = results['legacy@1'];
console.log(
  table(
    ['export', 'rows', 'wall s', 'CPU s', 'peak RSS MB', 'RSS over open MB', 'CPU vs old (whole range)'],
    modes.map(([mode, fraction, label]) => {
      const r = results[`${mode}@${fraction}`];
      return [label, r.rows, fmt(r.wallMs / 1000, 2), fmt(r.cpuMs / 1000, 2), fmt(r.peakRssMB, 0), fmt(r.peakRssMB - r.baselineRssMB, 0), fraction === 1 ? `${fmt(r.cpuMs / base.cpuMs, 2)}x` : ''];
    }),
  ),
);
saveResult('arrow', { file: path, results });
