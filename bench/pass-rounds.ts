/**
 * npx tsx bench/pass-rounds.ts [rounds] — one process: the plain parallel decode and the index build
 * (records + timestamps + statistics of every column) of the bench file, alternating over `rounds` rounds
 * (default 6) after one of each to warm up; prints one JSON line of medians (wall ms, process CPU ms, the
 * build / decode ratio of each round's pair). SEEKDATA_BENCH_FORMATS=xz (default) or bzip2 picks the file.
 *
 * For before/after comparisons of a change: bench/ab.sh runs this in two checkouts in turn, so both see the
 * same machine (the machines are shared and noisy: compare runs made side by side, never a number from
 * another hour).
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeSharedPool, openIndexed, openReader } from '../src/index.js';
import { benchData, median } from './common.js';

const rounds = Number(process.argv[2] ?? 6);
const format = (process.env.SEEKDATA_BENCH_FORMATS ?? 'xz').split(',')[0] === 'bzip2' ? 'bz2' : 'xz';
const file = benchData()[format];
const index = join(tmpdir(), `seekdata-pass-rounds-${process.pid}.sdx`);

async function decode(): Promise<void> {
  const reader = await openReader(file, { cacheBytes: 1 });
  for await (const part of reader.stream()) void part;
  await reader.close();
}

async function build(): Promise<void> {
  rmSync(index, { force: true });
  const f = await openIndexed(file, { records: 'csv', timeColumn: 'time', index });
  await f.close();
}

const runs = { decode: { wall: [] as number[], cpu: [] as number[] }, build: { wall: [] as number[], cpu: [] as number[] } };
await decode();
await build();
for (let i = 0; i < rounds; i++) {
  const order: Array<['decode' | 'build', () => Promise<void>]> = [
    ['decode', decode],
    ['build', build],
  ];
  if (i % 2 === 1) order.reverse();
  for (const [name, run] of order) {
    const cpu = process.cpuUsage();
    const started = performance.now();
    await run();
    runs[name].wall.push(performance.now() - started);
    const used = process.cpuUsage(cpu);
    runs[name].cpu.push((used.user + used.system) / 1000);
  }
}
rmSync(index, { force: true });
const round = (x: number): number => Math.round(x * 1000) / 1000;
console.log(
  JSON.stringify({
    format,
    rounds,
    decodeMs: round(median(runs.decode.wall)),
    buildMs: round(median(runs.build.wall)),
    ratio: round(median(runs.build.wall.map((w, k) => w / runs.decode.wall[k]))),
    decodeCpuMs: round(median(runs.decode.cpu)),
    buildCpuMs: round(median(runs.build.cpu)),
  }),
);
await closeSharedPool();
