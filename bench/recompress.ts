/**
 * `npm run bench:recompress`: what `seekdata recompress` buys on an ordinary single-member `.gz`
 * (`gzip -6`) and a single-frame `.zst` (`zstd -3`) of the ~100 MB synthetic CSV. For each, before and
 * after recompressing with 1 MiB units (gzip -> BGZF, zstd -> seekable format), at parallelism 2:
 * - the time of recompress itself;
 * - a first random read on a fresh file (no index file): open + read(offset, 100), median of a few offsets,
 *   a fresh reader each time;
 * - a random read(offset, 100) through a saved index with an empty cache (cacheBytes 1), median; and the
 *   size of that index file.
 * Offsets are the same for every file (seeded). Results: a table on stdout and bench/results/recompress.json.
 *
 *   npm run bench:recompress            (SEEKDATA_BENCH_MB=20 for a quicker run)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { closeSharedPool, openReader, recompress } from '../src/index.js';
import { DATA_DIR, fmt, machine, median, prng, saveResult, table } from './common.js';
import { writeSyntheticCsv } from './make-data.js';

const MB = Number(process.env.SEEKDATA_BENCH_MB ?? 100);
const FRESH_READS = Number(process.env.SEEKDATA_BENCH_FRESH ?? 3);
const INDEXED_READS = 21;
const P = 2;

function sh(cmd: string): void {
  const r = spawnSync('sh', ['-c', cmd], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} failed`);
}

async function ms(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** Open without an index file and read 100 bytes: what a first random read costs. */
async function freshRead(file: string, offset: number): Promise<number> {
  return ms(async () => {
    const reader = await openReader(file, { index: false, parallelism: P, cacheBytes: 1 });
    await reader.read(offset, 100);
    await reader.close();
  });
}

/** Median read(offset, 100) through a saved index, with an empty cache; and the index file's size. */
async function indexedReads(file: string, offsets: number[]): Promise<{ ms: number; indexBytes: number }> {
  rmSync(`${file}.sdx`, { force: true });
  await (await openReader(file, { parallelism: P })).close();
  const indexBytes = statSync(`${file}.sdx`).size;
  const reader = await openReader(file, { parallelism: P, cacheBytes: 1 });
  const times: number[] = [];
  try {
    await reader.read(0, 1); // starts the worker threads
    for (const offset of offsets) times.push(await ms(() => reader.read(offset, 100)));
  } finally {
    await reader.close();
  }
  return { ms: median(times), indexBytes };
}

async function main(): Promise<void> {
  const name = `recompress-${MB}mb`;
  const csv = join(DATA_DIR, `${name}.csv`);
  if (!existsSync(csv)) await writeSyntheticCsv({ mb: MB, out: DATA_DIR, name, seed: 7 });
  const size = statSync(csv).size;
  const gz = `${csv}.gz`;
  const zst = `${csv}.zst`;
  if (!existsSync(gz)) sh(`gzip -6 -c ${csv} > ${gz}`);
  if (!existsSync(zst)) sh(`zstd -q -3 -c ${csv} > ${zst}`);
  const rand = prng(11);
  const offsets = Array.from({ length: INDEXED_READS }, () => Math.floor(rand() * (size - 100)));
  const load = [loadavg()[0]];
  const rows: Array<Array<string | number>> = [];
  const result: Record<string, unknown> = { sizeBytes: size, parallelism: P };
  for (const [label, before, after] of [
    ['gzip', gz, `${csv}.seekable.gz`],
    ['zstd', zst, `${csv}.seekable.zst`],
  ] as const) {
    const recompressMs = await ms(() => recompress(before, after, { parallelism: P, overwrite: true }));
    const row: Record<string, number> = { recompressMs, beforeBytes: statSync(before).size, afterBytes: statSync(after).size };
    for (const [when, file] of [
      ['before', before],
      ['after', after],
    ] as const) {
      const fresh: number[] = [];
      for (const offset of offsets.slice(0, FRESH_READS)) fresh.push(await freshRead(file, offset));
      row[`${when}FreshReadMs`] = median(fresh);
      const indexed = await indexedReads(file, offsets);
      row[`${when}IndexedReadMs`] = indexed.ms;
      row[`${when}IndexBytes`] = indexed.indexBytes;
    }
    result[label] = row;
    const kind = label === 'gzip' ? ['gzip -6 (one member)', 'BGZF, 1 MiB units'] : ['zstd -3 (one frame)', 'seekable, 1 MiB frames'];
    rows.push([`${label}: recompress ${kind[0]} -> ${kind[1]}`, `${fmt(recompressMs / 1000, 2)} s`, `${fmt(row.beforeBytes / 1e6)} MB -> ${fmt(row.afterBytes / 1e6)} MB`]);
    rows.push([`${label}: first random read, no index file (open + read 100 B; median of ${FRESH_READS})`, `${fmt(row.beforeFreshReadMs, 1)} ms -> ${fmt(row.afterFreshReadMs, 1)} ms`, `before/after ${fmt(row.beforeFreshReadMs / row.afterFreshReadMs, 1)}x`]);
    rows.push([`${label}: random read with the index, empty cache (median of ${INDEXED_READS})`, `${fmt(row.beforeIndexedReadMs, 2)} ms -> ${fmt(row.afterIndexedReadMs, 2)} ms`, `before/after ${fmt(row.beforeIndexedReadMs / row.afterIndexedReadMs, 1)}x`]);
    rows.push([`${label}: index file (chunk map)`, `${fmt(row.beforeIndexBytes / 1e3)} kB -> ${fmt(row.afterIndexBytes / 1e3)} kB`, '']);
  }
  load.push(loadavg()[0]);
  await closeSharedPool();
  console.log(`recompress on ${fmt(size / 1e6)} MB of CSV, parallelism ${P}; ${machine()}; load average ${load.map((l) => fmt(l, 2)).join(' -> ')}`);
  console.log(table(['what', 'before -> after', ''], rows));
  saveResult('recompress', { ...result, loadavg: load });
}

await main();
