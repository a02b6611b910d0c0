/**
 * npx tsx bench/pass-tail.ts [bzip2|xz] [runs] — the index pass's serial tail: for each run, a plain parallel
 * decode of the bench file and a full index build (records + timestamps + statistics, index file written to the
 * temporary directory), one JSON line each: `tail` is the time from the build's last progress call (the pass
 * has ended) to `openIndexed`'s return (joining the offsets and times, writing and syncing the index file);
 * `ratio` is build / decode. For before/after comparisons run it in two checkouts in turn (as bench/ab.sh does).
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeSharedPool, openIndexed, openReader } from '../src/index.js';
import { benchData } from './common.js';

const file = benchData()[process.argv[2] === 'xz' ? 'xz' : 'bz2'];
const runs = Number(process.argv[3] ?? 3);
const index = join(tmpdir(), `seekdata-pass-tail-${process.pid}.sdx`);

async function decode(): Promise<number> {
  const t0 = performance.now();
  const reader = await openReader(file, { cacheBytes: 1 });
  for await (const part of reader.stream()) void part;
  await reader.close();
  return performance.now() - t0;
}

async function build(): Promise<{ total: number; tail: number }> {
  rmSync(index, { force: true });
  const t0 = performance.now();
  let last = 0;
  const f = await openIndexed(file, { records: 'csv', timeColumn: 'time', index, onProgress: () => (last = performance.now()) });
  const end = performance.now();
  await f.close();
  return { total: end - t0, tail: end - last };
}

// One of each to warm up (the pool's threads, the modules).
await decode();
await build();
for (let i = 0; i < runs; i++) {
  const d = await decode();
  const b = await build();
  console.log(JSON.stringify({ decodeMs: Math.round(d), buildMs: Math.round(b.total), tail: Math.round(b.tail), ratio: +(b.total / d).toFixed(3) }));
}
rmSync(index, { force: true });
await closeSharedPool();
