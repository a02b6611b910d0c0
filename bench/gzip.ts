/**
 * npm run bench:gzip — the gzip format on the ~100 MB synthetic CSV, every ratio from one run:
 * index pass of a single-member gzip next to `gzip -dc`; BGZF discovery; one 1 MiB span decode; a random
 * `read(offset, 100)` (read the unit's bytes, decode it; and the same reads through `openReader`, which
 * decodes a verified prefix of the span) next to that and to indexed_gzip (Python, same
 * offsets, 1 MiB spacing, buffer_size 64 KiB: its default of 4 x spacing decodes 4 MiB ahead of every
 * seek); decode of all units at parallelism 1 and 2 (Piscina threads) next to
 * `gzip -dc` and `pigz -dc`; the size of the index. Wall time and CPU time (this process's threads, or
 * the command's) are both reported: on a shared machine the CPU ratios are the stable ones, while a
 * parallel speed-up only shows in wall time. Writes bench/results/gzip.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import {
  decodeGzipUnit,
  describeGzip,
  discoverBgzf,
  GzipTableBuilder,
  gzipUnitTask,
  scanGzip,
  unitAt,
  unitByteRange,
  type GzipDecodeTask,
  type GzipUnitTable,
} from '../src/readers/gzip/index.js';
import { openReader } from '../src/index.js';
import { FileSource } from '../src/sources/file-source.js';
import { DATA_DIR, fmt, machine, median, prng, saveResult, table } from './common.js';
import { writeSyntheticCsv } from './make-data.js';

const ROUNDS = Number(process.env.SEEKDATA_BENCH_ROUNDS ?? 3);
const READS = Number(process.env.SEEKDATA_BENCH_READS ?? 200);
const SPACING = 1 << 20;

interface Timing {
  wall: number;
  cpu: number;
}

async function data(): Promise<{ csv: string; gz: string; bgz: string }> {
  const csv = join(DATA_DIR, 'synth.csv');
  if (!existsSync(csv)) await writeSyntheticCsv({ mb: Number(process.env.SEEKDATA_BENCH_MB ?? 100), out: DATA_DIR, name: 'synth', seed: 1 });
  const make = (out: string, command: string): void => {
    if (!existsSync(out) && spawnSync('sh', ['-c', `${command} < ${csv} > ${out}`]).status !== 0) throw new Error(`${command} failed`);
  };
  make(`${csv}.gz`, 'gzip -6 -c');
  make(`${csv}.bgz`, 'bgzip -c');
  return { csv, gz: `${csv}.gz`, bgz: `${csv}.bgz` };
}

/** Wall and CPU time (user + system of the children, from the shell's `times`) of a command, in ms. */
function command(cmd: string): Timing {
  const t = performance.now();
  const r = spawnSync('sh', ['-c', `${cmd} > /dev/null; times`]);
  const wall = performance.now() - t;
  if (r.status !== 0) throw new Error(`${cmd} failed`);
  const children = r.stdout.toString().trim().split('\n')[1] ?? '';
  const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((s, m) => s + Number(m[1]) * 60 + Number(m[2]), 0);
  return { wall, cpu: seconds * 1000 };
}

/** Wall and CPU time (all threads of this process) of `fn`, in ms. */
async function measure<T>(fn: () => Promise<T> | T): Promise<Timing & { value: T }> {
  const c = process.cpuUsage();
  const t = performance.now();
  const value = await fn();
  const wall = performance.now() - t;
  const cpu = process.cpuUsage(c);
  return { wall, cpu: (cpu.user + cpu.system) / 1000, value };
}

async function indexPass(file: string): Promise<GzipUnitTable> {
  const source = await FileSource.open(file);
  const builder = new GzipTableBuilder();
  const scan = scanGzip(source, { spacing: SPACING });
  let r = await scan.next();
  for (; r.done !== true; r = await scan.next()) builder.add(r.value);
  await source.close();
  return builder.build(r.value.bgzf);
}

/** The sequential pass alone: units consumed, windows not compressed, no table. */
async function scanOnly(file: string): Promise<void> {
  const source = await FileSource.open(file);
  for await (const unit of scanGzip(source, { spacing: SPACING })) void unit;
  await source.close();
}

/**
 * Per random offset, interleaved so that machine load hits both alike: one span decode (the unit holding
 * the offset, from bytes already in memory) and a random read(offset, 100) with an empty cache (read the
 * unit's bytes from the file, decode, slice). Medians of both, and of the file read alone.
 */
async function randomRead(file: string, t: GzipUnitTable, offsets: number[]): Promise<{ spanMs: number; ms: number; readMs: number }> {
  const bytes = readFileSync(file);
  const source = await FileSource.open(file);
  const spans: number[] = [];
  const times: number[] = [];
  const reads: number[] = [];
  for (const x of offsets) {
    const u = unitAt(t, x);
    const range = unitByteRange(t, u);
    const inMemory = gzipUnitTask(t, u, bytes.subarray(range.offset, range.offset + range.length), file);
    let s = performance.now();
    decodeGzipUnit(inMemory);
    spans.push(performance.now() - s);
    s = performance.now();
    const i = unitAt(t, x);
    const { offset, length } = unitByteRange(t, i);
    const data = await source.read(offset, length);
    reads.push(performance.now() - s);
    const out = decodeGzipUnit(gzipUnitTask(t, i, data, file));
    if (out.subarray(x - t.dStart[i], x - t.dStart[i] + 100).length === 0) throw new Error('empty read');
    times.push(performance.now() - s);
  }
  await source.close();
  return { spanMs: median(spans), ms: median(times), readMs: median(reads) };
}

/**
 * The same reads as a user makes them: `openReader(file, { cacheBytes: 1 })` (the index file beside the data,
 * an empty cache for every read, every check; a read that ends early in its span decodes and verifies only the
 * prefix through its last 64 KiB sub-span). The median, and how many reads a verified prefix served.
 */
async function readerReads(file: string, offsets: number[]): Promise<{ ms: number; prefixReads: number }> {
  const reader = await openReader(file, { cacheBytes: 1 });
  try {
    const before = reader.stats.prefixReads;
    const times: number[] = [];
    for (const x of offsets) {
      const s = performance.now();
      const out = await reader.read(x, 100);
      times.push(performance.now() - s);
      if (out.length === 0) throw new Error('empty read');
    }
    return { ms: median(times), prefixReads: reader.stats.prefixReads - before };
  } finally {
    await reader.close();
  }
}

async function bgzfTable(file: string): Promise<GzipUnitTable | undefined> {
  const source = await FileSource.open(file);
  try {
    return await discoverBgzf(source, { unitBytes: SPACING });
  } finally {
    await source.close();
  }
}

function startPool(n: number): Piscina {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return new Piscina({ filename: new URL('./gzip-worker.ts', import.meta.url).href, execArgv: ['--import', tsx], minThreads: n, maxThreads: n });
}

/** Decodes every unit: in this thread without a pool, else on the pool (2 tasks in flight per thread). */
async function decodeAll(file: string, t: GzipUnitTable, pool: Piscina | undefined): Promise<void> {
  const source = await FileSource.open(file);
  let total = 0;
  const task = async (i: number): Promise<GzipDecodeTask> => {
    const { offset, length } = unitByteRange(t, i);
    return gzipUnitTask(t, i, await source.read(offset, length), file);
  };
  if (pool === undefined) {
    for (let i = 0; i < t.count; i++) total += decodeGzipUnit(await task(i)).length;
  } else {
    let next = 0;
    const lane = async (): Promise<void> => {
      for (let i = next++; i < t.count; i = next++) {
        const job = await task(i);
        const out = (await pool.run(job, { transferList: [job.data.buffer as ArrayBuffer] })) as Uint8Array;
        total += out.length;
      }
    };
    await Promise.all(Array.from({ length: pool.options.maxThreads * 2 }, lane));
  }
  await source.close();
  if (total !== t.dStart[t.count]) throw new Error(`decoded ${total} bytes, expected ${t.dStart[t.count]}`);
}

function indexedGzip(file: string, offsets: number[]): { buildMs: number; readMs: number } | undefined {
  const script = `
import sys, json, time, statistics, indexed_gzip
offsets = json.load(sys.stdin)
t = time.perf_counter(); f = indexed_gzip.IndexedGzipFile(sys.argv[1], spacing=${SPACING}, buffer_size=65536); f.build_full_index(); build = time.perf_counter() - t
times = []
for o in offsets:
    t = time.perf_counter(); f.seek(o); f.read(100); times.append(time.perf_counter() - t)
print(json.dumps({"buildMs": build * 1000, "readMs": statistics.median(times) * 1000}))`;
  const r = spawnSync('/usr/bin/python3', ['-c', script, file], { input: JSON.stringify(offsets) });
  if (r.status !== 0) {
    console.log(`indexed_gzip not measured: ${r.stderr.toString().trim().split('\n').pop() ?? ''}`);
    return undefined;
  }
  return JSON.parse(r.stdout.toString()) as { buildMs: number; readMs: number };
}

async function main(): Promise<void> {
  const { csv, gz, bgz } = await data();
  const size = statSync(csv).size;
  const load = loadavg();
  console.log(`seekdata gzip benchmark: ${(size / 1e6).toFixed(1)} MB CSV, ${machine()}, load average ${load.map((l) => l.toFixed(1)).join(' ')}`);
  const rand = prng(2024);
  const offsets = Array.from({ length: READS }, () => Math.floor(rand() * (size - 100)));
  const pool = startPool(2);
  const warmUp: GzipDecodeTask = { data: new Uint8Array(0), shift: 0, bitLength: 0, window: new Uint8Array(0), windowPacked: false, kind: 1, dLength: 0, crc: 0, file: 'warm-up', offset: 0 };
  await Promise.all(Array.from({ length: 4 }, () => pool.run(warmUp)));
  const runs: Record<string, Timing[]> = {};
  const note = (k: string, v: Timing): void => void (runs[k] ??= []).push({ wall: v.wall, cpu: v.cpu });
  let gzTable = await indexPass(gz);
  const first = await bgzfTable(bgz);
  if (first === undefined) throw new Error('bgzip output not found as BGZF');
  let bgzTable: GzipUnitTable = first;
  const reads: Array<{ spanMs: number; ms: number; readMs: number }> = [];
  const userReads: Array<{ ms: number; prefixReads: number }> = [];
  // The reader's index file (checkpoints and sub-span CRC-32s), built once before the rounds.
  await (await openReader(gz)).close();
  for (let round = 0; round < ROUNDS; round++) {
    note('gzip -dc', command(`gzip -dc ${gz}`));
    note('pigz -dc', command(`pigz -dc ${gz}`));
    note('scan only', await measure(() => scanOnly(gz)));
    const pass = await measure(() => indexPass(gz));
    note('index pass', pass);
    gzTable = pass.value;
    const walk = await measure(() => bgzfTable(bgz));
    note('BGZF discovery', walk);
    bgzTable = walk.value ?? bgzTable;
    const bgzf = bgzTable;
    note('P=1 spans', await measure(() => decodeAll(gz, gzTable, undefined)));
    note('P=2 spans', await measure(() => decodeAll(gz, gzTable, pool)));
    note('P=1 BGZF', await measure(() => decodeAll(bgz, bgzf, undefined)));
    note('P=2 BGZF', await measure(() => decodeAll(bgz, bgzf, pool)));
    note('gzip -dc bgz', command(`gzip -dc ${bgz}`));
    note('pigz -dc bgz', command(`pigz -dc ${bgz}`));
    reads.push(await randomRead(gz, gzTable, offsets));
    userReads.push(await readerReads(gz, offsets));
  }
  await pool.destroy();
  const ig = indexedGzip(gz, offsets);
  const w = (k: string): number => Math.min(...runs[k].map((r) => r.wall));
  const c = (k: string): number => Math.min(...runs[k].map((r) => r.cpu));
  const both = (k: string, ref: string): string => `wall ${fmt(w(k) / w(ref), 2)}x, CPU ${fmt(c(k) / c(ref), 2)}x ${ref}`;
  const speed = (k: string, ref: string): string => `${fmt(w(ref) / w(k), 2)}x ${ref} speed`;
  // The round with the lowest random-read median, and the span decodes measured beside it.
  const [{ spanMs: span, ms: read, readMs: readIo }] = [...reads].sort((a, b) => a.ms - b.ms);
  const [user] = [...userReads].sort((a, b) => a.ms - b.ms);
  const rows: Array<[string, string, string, string]> = [];
  const row = (what: string, k: string, ratio = ''): void => void rows.push([what, fmt(w(k)), fmt(c(k)), ratio]);
  row('gzip -dc (gzip -6 file)', 'gzip -dc');
  row('pigz -dc (gzip -6 file)', 'pigz -dc');
  row('index pass, 1 MiB spacing: scan only', 'scan only', both('scan only', 'gzip -dc'));
  row('index pass + table (windows deflated inline)', 'index pass', `${both('index pass', 'gzip -dc')} (target <= 2)`);
  row('decode all units, P=1 (spans)', 'P=1 spans', speed('P=1 spans', 'gzip -dc'));
  row('decode all units, P=2 (spans)', 'P=2 spans', `${speed('P=2 spans', 'gzip -dc')} (>= 1.5), ${speed('P=2 spans', 'pigz -dc')} (>= 1.0)`);
  row('gzip -dc (bgzip file)', 'gzip -dc bgz');
  row('pigz -dc (bgzip file)', 'pigz -dc bgz');
  row('BGZF discovery (headers only)', 'BGZF discovery');
  row('decode all units, P=1 (BGZF runs)', 'P=1 BGZF', speed('P=1 BGZF', 'gzip -dc bgz'));
  row('decode all units, P=2 (BGZF runs)', 'P=2 BGZF', `${speed('P=2 BGZF', 'gzip -dc bgz')}, ${speed('P=2 BGZF', 'pigz -dc bgz')}`);
  rows.push(['one 1 MiB span decode (median)', fmt(span, 2), '', '']);
  rows.push(['random read(offset, 100), whole span, empty cache (median)', fmt(read, 2), '', `${fmt(read / span, 2)}x one span decode (target <= 1.2); file read ${fmt(readIo, 2)} ms of it`]);
  rows.push([
    'random read(offset, 100) through openReader, empty cache (median)',
    fmt(user.ms, 2),
    '',
    `${fmt(user.ms / span, 2)}x one span decode; ${user.prefixReads} of ${offsets.length} by a verified span prefix`,
  ]);
  if (ig !== undefined) {
    rows.push(['indexed_gzip: build index, 1 MiB spacing', fmt(ig.buildMs), '', `${fmt(ig.buildMs / w('gzip -dc'), 2)}x gzip -dc wall`]);
    rows.push([
      'indexed_gzip: seek + read(100) (median; no CRC check)',
      fmt(ig.readMs, 2),
      '',
      `seekdata's reads take ${fmt(user.ms / ig.readMs, 2)}x its time through openReader, ${fmt(read / ig.readMs, 2)}x decoding whole spans`,
    ]);
  }
  console.log(table([`what (best of ${ROUNDS})`, 'wall ms', 'CPU ms', 'ratio'], rows));
  const d = describeGzip(gzTable);
  const indexBytes = gzTable.windows.length + gzTable.count * 8 * 7;
  console.log(`index: ${d.units} units, ${d.checkpoints} checkpoints, windows ${gzTable.windows.length} B + columns ${gzTable.count * 56} B = ${fmt((100 * indexBytes) / size, 2)}% of the decompressed size (target <= 1.5%)`);
  console.log(`BGZF: ${describeGzip(bgzTable).units} units of ${describeGzip(bgzTable).members} blocks. ${d.randomRead}`);
  saveResult('gzip', { sizeBytes: size, loadavg: load, runs, randomRead: reads, readerReads: userReads, indexedGzip: ig, indexBytes, units: d.units, checkpoints: d.checkpoints });
}

await main();
