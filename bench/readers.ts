/**
 * npm run bench:readers — sequential decode throughput and random-read latency of seekdata's readers,
 * next to baselines measured in the same run: the bzip2 / xz commands, and the naive way to reach an
 * offset (decode from the start); gzip and zstd next to gzip / pigz / zstd (readers-formats.ts). Prints a
 * markdown table and writes bench/results/readers.json.
 */
import { statSync } from 'node:fs';
import { closeSharedPool, openReader } from '../src/index.js';
import { decodeBzip2Block } from '../src/readers/bzip2/block.js';
import { decodeWithSeekBzip } from './seek-bzip-block.js';
import { benchFormats } from './readers-formats.js';
import { benchData, fmt, machine, median, prng, saveResult, table, timeCommand, timeMs, warm } from './common.js';

const RANDOM_READS = Number(process.env.SEEKDATA_BENCH_READS ?? 200);
const NAIVE_READS = 7;

async function sequentialMs(file: string, parallelism: number): Promise<number> {
  const reader = await openReader(file, { parallelism, cacheBytes: 1 });
  // Warm the worker pool so thread start-up is not counted.
  await warm(reader);
  const ms = await timeMs(async () => {
    for await (const part of reader.stream()) void part;
  });
  await reader.close();
  return ms;
}

async function randomReads(file: string, offsets: number[], parallelism: number, verify: 'full' | 'lazy' = 'full'): Promise<number[]> {
  // A one-byte cache budget keeps nothing: every read starts from an empty cache.
  const reader = await openReader(file, { parallelism, cacheBytes: 1, verify });
  await warm(reader);
  const times: number[] = [];
  for (const offset of offsets) times.push(await timeMs(() => reader.read(offset, 100)));
  await reader.close();
  return times;
}

/** Median time of one bzip2 block decode in this thread, over the first blocks, with a given decoder. */
async function bzip2BlockMs(file: string, decode: typeof decodeBzip2Block): Promise<number> {
  const reader = await openReader(file, { parallelism: 1 });
  const { units } = reader;
  const { readFileSync } = await import('node:fs');
  const data = readFileSync(file);
  const times: number[] = [];
  for (let u = 0; u < Math.min(units.count, 15); u++) {
    const first = Math.floor(units.cStart[u] / 8);
    const slice = data.subarray(first, Math.ceil(units.cEnd[u] / 8));
    times.push(await timeMs(() => decode({ data: slice, bitOffset: units.cStart[u] - first * 8, level: 9, base: first, atEnd: true, file })));
  }
  await reader.close();
  return median(times);
}

async function main(): Promise<void> {
  const data = benchData();
  const size = statSync(data.csv).size;
  const mb = size / 1e6;
  const rand = prng(2024);
  const offsets = Array.from({ length: RANDOM_READS }, () => Math.floor(rand() * (size - 100)));
  const naiveOffsets = offsets.slice(0, NAIVE_READS);
  console.log(`seekdata readers benchmark: ${mb.toFixed(1)} MB CSV, ${machine()}`);
  // Build the indexes first (not timed here: see bench:index).
  for (const file of [data.bz2, data.xz]) await (await openReader(file)).close();

  const rows: Array<Array<string | number>> = [];
  const result: Record<string, unknown> = { sizeMB: mb, randomReads: RANDOM_READS };
  for (const [format, file, tool] of [
    ['bzip2', data.bz2, 'bzip2'],
    ['xz', data.xz, 'xz'],
  ] as const) {
    const cliMs = timeCommand(`${tool} -dc ${file} > /dev/null`);
    const p1 = await sequentialMs(file, 1);
    const p2 = await sequentialMs(file, 2);
    const random = await randomReads(file, offsets, 2);
    const randomInline = await randomReads(file, offsets.slice(0, 50), 1);
    // xz only: the unverified prefix path (verify: 'lazy'), for comparison; bzip2 always verifies.
    const randomLazy = format === 'xz' ? await randomReads(file, offsets, 2, 'lazy') : undefined;
    const naive = naiveOffsets.map((o) => timeCommand(`${tool} -dc ${file} | head -c ${o + 100} > /dev/null`));
    const blockMs = format === 'bzip2' ? await bzip2BlockMs(file, decodeBzip2Block) : undefined;
    const seekBzipMs = format === 'bzip2' ? await bzip2BlockMs(file, decodeWithSeekBzip) : undefined;
    const r = {
      cliMBs: mb / (cliMs / 1000),
      p1MBs: mb / (p1 / 1000),
      p2MBs: mb / (p2 / 1000),
      randomMedianMs: median(random),
      randomInlineMedianMs: median(randomInline),
      randomLazyMedianMs: randomLazy === undefined ? undefined : median(randomLazy),
      randomP90Ms: [...random].sort((a, b) => a - b)[Math.floor(random.length * 0.9)],
      naiveMedianMs: median(naive),
      blockDecodeMs: blockMs,
      seekBzipBlockMs: seekBzipMs,
    };
    result[format] = r;
    rows.push([format, 'sequential decode, `' + tool + ' -dc`', `${fmt(r.cliMBs)} MB/s`, '1.00×']);
    rows.push([format, 'sequential decode, seekdata parallelism 1', `${fmt(r.p1MBs)} MB/s`, `${fmt(r.p1MBs / r.cliMBs, 2)}×`]);
    rows.push([format, 'sequential decode, seekdata parallelism 2', `${fmt(r.p2MBs)} MB/s`, `${fmt(r.p2MBs / r.cliMBs, 2)}×`]);
    rows.push([format, `random read(offset, 100), naive: \`${tool} -dc | head\` (median of ${NAIVE_READS})`, `${fmt(r.naiveMedianMs)} ms`, '1×']);
    rows.push([format, `random read(offset, 100), seekdata, verified (default), empty cache (median of ${RANDOM_READS})`, `${fmt(r.randomMedianMs, 2)} ms`, `${fmt(r.naiveMedianMs / r.randomMedianMs, 0)}× faster`]);
    rows.push([format, 'same, parallelism 1 (decode in the calling thread)', `${fmt(r.randomInlineMedianMs, 2)} ms`, `${fmt(r.naiveMedianMs / r.randomInlineMedianMs, 0)}× faster`]);
    if (r.randomLazyMedianMs !== undefined) {
      rows.push([format, "same, verify: 'lazy' (block prefix only, NOT checked)", `${fmt(r.randomLazyMedianMs, 2)} ms`, `${fmt(r.naiveMedianMs / r.randomLazyMedianMs, 0)}× faster`]);
    }
    if (blockMs !== undefined && seekBzipMs !== undefined) {
      rows.push([format, 'one 900 kB block decode, seek-bzip (pure JS baseline)', `${fmt(seekBzipMs, 2)} ms`, '1.00×']);
      rows.push([format, "one 900 kB block decode, seekdata's decoder", `${fmt(blockMs, 2)} ms`, `${fmt(seekBzipMs / blockMs, 2)}× faster; random read = ${fmt(r.randomMedianMs / blockMs, 2)}× a block decode`]);
    }
  }
  // gzip and zstd (readers-formats.ts): wall and CPU time, the load average.
  const formats = await benchFormats(data.csv, offsets);
  rows.push(...formats.rows);
  result.formats = formats.result;
  await closeSharedPool();
  console.log(table(['format', 'measure', 'value', 'ratio'], rows));
  saveResult('readers', result);
}

await main();
