/**
 * npm run bench:readers — sequential decode throughput and random-read latency of seekdata's readers,
 * next to baselines measured in the same run: the native tools (`bzip2 -dc`, `lbzip2 -dc -n 2`,
 * `xz -dc`), one block decode in this thread, and the naive way to reach an offset (decode from the
 * start). The decodes and their native baselines are interleaved over SEEKDATA_BENCH_ROUNDS rounds
 * (default 5; medians). Ends with issue 12's targets as ratios of this run. Prints a markdown table and
 * writes bench/results/readers.json. gzip and zstd run next to gzip / pigz / zstd (readers-formats.ts).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { closeSharedPool, openIndexed, openReader } from '../src/index.js';
import { decodeBzip2Block, type Bzip2BlockTask } from '../src/readers/bzip2/block.js';
import { bzip2Format } from '../src/readers/bzip2/format.js';
import { decodeBzip2BlockWasm, loadBzip2Wasm } from '../src/readers/bzip2/wasm.js';
import type { FormatModule } from '../src/readers/format.js';
import { decodeXzBlock, type XzBlockTask } from '../src/readers/xz/block.js';
import { xzFormat } from '../src/readers/xz/format.js';
import { unitSubCrcs } from '../src/readers/sub-crcs.js';
import { floorIndex } from '../src/readers/units.js';
import { MemorySource } from '../src/sources/source.js';
import { prepareDecoders } from '../src/workers/registry.js';
import { decodeWithSeekBzip } from './seek-bzip-block.js';
import { benchFormats } from './readers-formats.js';
import { benchData, fmt, machine, median, pairedRatio, prng, saveResult, stealMeter, stealNote, table, timeCommand, timeMs, warm } from './common.js';

const RANDOM_READS = Number(process.env.SEEKDATA_BENCH_READS ?? 200);
const ROUNDS = Number(process.env.SEEKDATA_BENCH_ROUNDS ?? 5);
const NAIVE_READS = 7;
const BLOCKS = 15;

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

async function randomReads(file: string, offsets: number[], parallelism: number, verify: 'full' | 'lazy' = 'full', prefixReads = true): Promise<number[]> {
  // A one-byte cache budget keeps nothing: every read starts from an empty cache.
  const reader = await openReader(file, { parallelism, cacheBytes: 1, verify, prefixReads });
  await warm(reader);
  const times: number[] = [];
  for (const offset of offsets) times.push(await timeMs(() => reader.read(offset, 100)));
  await reader.close();
  return times;
}

/**
 * Verified random reads at parallelism 2 (empty cache), each paired with a decode of the same block in this
 * thread right before or after it (the order alternating): the reads' times and the block decodes' times.
 */
async function randomReadsPaired<T>(file: string, offsets: number[], format: Pick<FormatModule, 'task'>, decode: (task: T) => unknown): Promise<{ reads: number[]; blocks: number[] }> {
  const reader = await openReader(file, { parallelism: 2, cacheBytes: 1 });
  await warm(reader);
  const source = new MemorySource(readFileSync(file), file);
  const reads: number[] = [];
  const blocks: number[] = [];
  for (let k = 0; k < offsets.length; k++) {
    const u = floorIndex(reader.units.dStart, reader.units.count, offsets[k]);
    const { input } = await format.task(source, reader.units, u);
    if (input.kind !== 'decode') throw new Error('not a decode task');
    const read = (): Promise<number> => timeMs(() => reader.read(offsets[k], 100));
    const block = (): Promise<number> => timeMs(() => decode(input.task as T));
    if (k % 2 === 0) {
      reads.push(await read());
      blocks.push(await block());
    } else {
      blocks.push(await block());
      reads.push(await read());
    }
  }
  await reader.close();
  return { reads, blocks };
}

/**
 * Median time of one whole-block decode in this thread over the first blocks, by each decoder given
 * (interleaved block by block): the tasks are the ones the reader builds from its chunk map.
 */
async function blockMs<T>(file: string, format: Pick<FormatModule, 'task'>, decoders: Record<string, (task: T) => unknown>): Promise<Record<string, number>> {
  const reader = await openReader(file, { parallelism: 1 });
  const source = new MemorySource(readFileSync(file), file);
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(decoders).map((k) => [k, []]));
  for (let u = 0; u < Math.min(reader.units.count, BLOCKS); u++) {
    const { input } = await format.task(source, reader.units, u);
    if (input.kind !== 'decode') throw new Error('not a decode task');
    for (const [name, decode] of Object.entries(decoders)) times[name].push(await timeMs(() => decode(input.task as T)));
  }
  await reader.close();
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

/**
 * python-xz's technique in Python, on the same offsets: a read decodes its block from the start through the
 * bytes asked for, unchecked (the block wrapped in a stream header, fed 8 KiB at a time to Python's
 * LZMADecompressor, as python-xz's BlockRead does). python-xz itself cannot be installed here (no PyPI); its
 * own bookkeeping would only add to these times. Each read's bytes are compared with the CSV's.
 */
function pythonXzTechnique(file: string, csv: string, units: { count: number; cStart: Float64Array; param: Float64Array; dStart: Float64Array; kind: Uint8Array }, offsets: number[]): { readMs: number } | undefined {
  const blocks = Array.from({ length: units.count }, (_, u) => [units.cStart[u], units.dStart[u], units.dStart[u + 1], units.kind[u]]);
  const script = `
import sys, json, time, statistics, lzma, struct, zlib, bisect
spec = json.load(sys.stdin)
f = open(sys.argv[1], 'rb'); truth = open(sys.argv[2], 'rb')
blocks = spec['blocks']; starts = [b[1] for b in blocks]
def header(check):
    flags = bytes([0, check])
    return b'\\xfd7zXZ\\x00' + flags + struct.pack('<I', zlib.crc32(flags))
times = []
for o in spec['offsets']:
    t = time.perf_counter()
    c, d0, d1, check = blocks[bisect.bisect_right(starts, o) - 1]
    want = min(o - d0 + 100, d1 - d0)
    dec = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
    parts = [dec.decompress(header(check))]
    n = 0
    f.seek(int(c))
    while n < want:
        part = dec.decompress(f.read(8192))
        n += len(part)
        parts.append(part)
    got = b''.join(parts)[o - int(d0):want]
    times.append(time.perf_counter() - t)
    truth.seek(o)
    if got != truth.read(len(got)): sys.exit('python: wrong bytes at %d' % o)
print(json.dumps({"readMs": statistics.median(times) * 1000}))`;
  const r = spawnSync('/usr/bin/python3', ['-c', script, file, csv], { input: JSON.stringify({ blocks, offsets }), maxBuffer: 1 << 20 });
  if (r.status !== 0) {
    console.log(`python-xz technique not measured: ${r.stderr.toString().trim().split('\n').pop() ?? ''}`);
    return undefined;
  }
  return JSON.parse(r.stdout.toString()) as { readMs: number };
}

async function main(): Promise<void> {
  const data = benchData();
  const size = statSync(data.csv).size;
  const mb = size / 1e6;
  const rand = prng(2024);
  const offsets = Array.from({ length: RANDOM_READS }, () => Math.floor(rand() * (size - 100)));
  const naiveOffsets = offsets.slice(0, NAIVE_READS);
  const loads = [loadavg()[0]];
  const steal = stealMeter();
  // Build the indexes first (not timed here: see bench:index); load this thread's decoders. The xz file's
  // record index, whose pass records the blocks' sub-span CRC-32s (verified prefix reads), rebuilt when an
  // older one lacks them.
  for (const file of [data.bz2, data.xz]) await (await openReader(file)).close();
  const xzIndexed = await openIndexed(data.xz);
  const withCrcs = unitSubCrcs(xzIndexed.reader.units, 0) !== undefined;
  await xzIndexed.close();
  if (!withCrcs) await (await openIndexed(data.xz, { rebuild: true })).close();
  await prepareDecoders();
  // libbzip2 (WebAssembly) as well: the block decoder seekdata's own replaced, measured next to it.
  const libbzip2 = await loadBzip2Wasm();

  const rows: Array<Array<string | number>> = [];
  const targets: Array<Array<string | number>> = [];
  const result: Record<string, unknown> = { sizeMB: mb, randomReads: RANDOM_READS, rounds: ROUNDS };
  // SEEKDATA_BENCH_FORMATS=gzip,zstd (say) runs only those parts: bzip2, xz, and gzip / zstd together.
  const only = process.env.SEEKDATA_BENCH_FORMATS?.split(',');
  const wanted = (f: string): boolean => only === undefined || only.includes(f);
  for (const [format, file, tool] of ([
    ['bzip2', data.bz2, 'bzip2'],
    ['xz', data.xz, 'xz'],
  ] as const).filter(([f]) => wanted(f))) {
    // The decodes and their native baselines, interleaved round by round (medians).
    const runs: Record<string, () => Promise<number>> = {
      cli: async () => timeCommand(`${tool} -dc ${file} > /dev/null`),
      p1: () => sequentialMs(file, 1),
      p2: () => sequentialMs(file, 2),
    };
    if (format === 'bzip2') runs.lbzip2 = async () => timeCommand(`lbzip2 -dc -n 2 ${file} > /dev/null`);
    const ms: Record<string, number[]> = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
    for (let r = 0; r < ROUNDS; r++) {
      const names = Object.keys(runs);
      for (let k = 0; k < names.length; k++) {
        const name = names[(k + r) % names.length];
        ms[name].push(await runs[name]());
      }
      loads.push(loadavg()[0]);
    }
    const m = (name: string): number => median(ms[name] ?? [NaN]);
    // Each read paired with a decode of its block in this thread (the xz target).
    const paired =
      format === 'bzip2'
        ? await randomReadsPaired<Bzip2BlockTask>(file, offsets, bzip2Format, (task) => bzip2Format.decode?.(task))
        : await randomReadsPaired<XzBlockTask>(file, offsets, xzFormat, (task) => xzFormat.decode?.(task));
    const random = paired.reads;
    const randomInline = await randomReads(file, offsets.slice(0, 50), 1);
    // xz only: the unverified prefix path (verify: 'lazy'), for comparison; bzip2 always verifies.
    const randomLazy = format === 'xz' ? await randomReads(file, offsets, 2, 'lazy') : undefined;
    // xz only: verified reads of whole blocks (prefixReads: false), as before sub-span CRC-32s; python-xz's technique.
    const randomWhole = format === 'xz' ? await randomReads(file, offsets, 2, 'full', false) : undefined;
    let python: ReturnType<typeof pythonXzTechnique>;
    if (format === 'xz') {
      const reader = await openReader(file);
      python = pythonXzTechnique(file, data.csv, reader.units, offsets);
      await reader.close();
    }
    const naive = naiveOffsets.map((o) => timeCommand(`${tool} -dc ${file} | head -c ${o + 100} > /dev/null`));
    const blocks =
      format === 'bzip2'
        ? await blockMs<Bzip2BlockTask>(file, bzip2Format, {
            seekBzip: decodeWithSeekBzip,
            js: decodeBzip2Block,
            libbzip2: (task) => decodeBzip2BlockWasm(libbzip2, task),
            seekdata: (task) => bzip2Format.decode?.(task),
          })
        : await blockMs<XzBlockTask>(file, xzFormat, {
            lzmaNative: decodeXzBlock,
            seekdata: (task) => xzFormat.decode?.(task),
          });
    const r = {
      cliMBs: mb / (m('cli') / 1000),
      lbzip2MBs: format === 'bzip2' ? mb / (m('lbzip2') / 1000) : undefined,
      p1MBs: mb / (m('p1') / 1000),
      p2MBs: mb / (m('p2') / 1000),
      // The target: the median of the rounds' ratios (each round times both back to back).
      p2OverNative: pairedRatio(ms.p2, format === 'bzip2' ? ms.lbzip2 : ms.cli),
      p2OverNativeOfMedians: m('p2') / (format === 'bzip2' ? m('lbzip2') : m('cli')),
      randomMedianMs: median(random),
      randomInlineMedianMs: median(randomInline),
      randomLazyMedianMs: randomLazy === undefined ? undefined : median(randomLazy),
      randomWholeMedianMs: randomWhole === undefined ? undefined : median(randomWhole),
      pythonXzTechniqueMs: python?.readMs,
      randomP90Ms: [...random].sort((a, b) => a - b)[Math.floor(random.length * 0.9)],
      naiveMedianMs: median(naive),
      blockDecodeMs: blocks.seekdata,
      libbzip2BlockMs: blocks.libbzip2,
      blockDecoders: blocks,
      // The target: the median over the reads of read / a decode of the same block beside it.
      randomOverBlock: pairedRatio(random, paired.blocks),
      randomPairedBlockMedianMs: median(paired.blocks),
      randomOverBlockOfMedians: median(random) / blocks.seekdata,
    };
    result[format] = r;
    const ratio = (x: number): string => `${fmt(x / r.cliMBs, 2)}×`;
    rows.push([format, 'sequential decode, `' + tool + ' -dc`', `${fmt(r.cliMBs)} MB/s`, '1.00×']);
    if (r.lbzip2MBs !== undefined) rows.push([format, 'sequential decode, `lbzip2 -dc -n 2` (2 threads)', `${fmt(r.lbzip2MBs)} MB/s`, ratio(r.lbzip2MBs)]);
    rows.push([format, 'sequential decode, seekdata parallelism 1', `${fmt(r.p1MBs)} MB/s`, ratio(r.p1MBs)]);
    rows.push([format, 'sequential decode, seekdata parallelism 2', `${fmt(r.p2MBs)} MB/s`, ratio(r.p2MBs)]);
    rows.push([format, `random read(offset, 100), naive: \`${tool} -dc | head\` (median of ${NAIVE_READS})`, `${fmt(r.naiveMedianMs)} ms`, '1×']);
    rows.push([format, `random read(offset, 100), seekdata, verified (default), empty cache (median of ${RANDOM_READS})`, `${fmt(r.randomMedianMs, 2)} ms`, `${fmt(r.naiveMedianMs / r.randomMedianMs, 0)}× faster`]);
    rows.push([format, 'same, parallelism 1 (decode in the calling thread)', `${fmt(r.randomInlineMedianMs, 2)} ms`, `${fmt(r.naiveMedianMs / r.randomInlineMedianMs, 0)}× faster`]);
    if (r.pythonXzTechniqueMs !== undefined) {
      rows.push([format, "same reads, python-xz's technique in Python 3 (`lzma`: the block's prefix, NOT checked)", `${fmt(r.pythonXzTechniqueMs, 2)} ms`, `seekdata's verified read ${fmt(r.randomMedianMs / r.pythonXzTechniqueMs, 2)}× its time`]);
    }
    if (r.randomWholeMedianMs !== undefined) {
      rows.push([format, 'same, prefixReads: false (the whole block decoded and checked)', `${fmt(r.randomWholeMedianMs, 2)} ms`, `${fmt(r.naiveMedianMs / r.randomWholeMedianMs, 0)}× faster`]);
    }
    if (r.randomLazyMedianMs !== undefined) {
      rows.push([format, "same, verify: 'lazy' (block prefix only, NOT checked)", `${fmt(r.randomLazyMedianMs, 2)} ms`, `${fmt(r.naiveMedianMs / r.randomLazyMedianMs, 0)}× faster`]);
    }
    if (format === 'bzip2') {
      rows.push([format, `one 900 kB block decode, seek-bzip (pure JS baseline; median of ${BLOCKS})`, `${fmt(blocks.seekBzip, 2)} ms`, '1.00×']);
      rows.push([format, "one 900 kB block decode, seekdata's JS decoder", `${fmt(blocks.js, 2)} ms`, `${fmt(blocks.seekBzip / blocks.js, 2)}× faster`]);
      rows.push([format, 'one 900 kB block decode, libbzip2 (WebAssembly, @foxglove/wasm-bz2)', `${fmt(blocks.libbzip2, 2)} ms`, `${fmt(blocks.seekBzip / blocks.libbzip2, 2)}× faster`]);
      rows.push([format, "one 900 kB block decode, as seekdata decodes (seekdata's WebAssembly decoder)", `${fmt(blocks.seekdata, 2)} ms`, `${fmt(blocks.seekBzip / blocks.seekdata, 2)}× faster (${fmt(blocks.libbzip2 / blocks.seekdata, 2)}× libbzip2); random read = ${fmt(r.randomOverBlock, 2)}× a block decode`]);
    } else {
      rows.push([format, `one 1 MiB block decode, lzma-native (liblzma 5.2; median of ${BLOCKS})`, `${fmt(blocks.lzmaNative, 2)} ms`, '1.00×']);
      rows.push([format, 'one 1 MiB block decode, as seekdata decodes (node-liblzma when it loads)', `${fmt(blocks.seekdata, 2)} ms`, `${fmt(blocks.lzmaNative / blocks.seekdata, 2)}× faster`]);
    }
    const met = (value: number, goal: number): string => `${fmt(value, 2)}× (goal ≤ ${goal}×: ${value <= goal ? 'met' : 'missed'})`;
    const ofMedians = `; ratio of the medians ${fmt(r.p2OverNativeOfMedians, 2)}×`;
    if (format === 'bzip2') targets.push([format, 'target: parallelism 2 decode time / `lbzip2 -dc -n 2` time (median of the rounds\' ratios)', `${fmt(m('p2') / 1000, 2)} s / ${fmt(m('lbzip2') / 1000, 2)} s`, met(r.p2OverNative, 1.3) + ofMedians]);
    else {
      targets.push([format, 'target: parallelism 2 decode time / `xz -dc` time (median of the rounds\' ratios)', `${fmt(m('p2') / 1000, 2)} s / ${fmt(m('cli') / 1000, 2)} s`, met(r.p2OverNative, 1) + ofMedians]);
      targets.push([
        format,
        'target: verified random read / a decode of its block in this thread beside it (median of the reads\' ratios)',
        `${fmt(r.randomMedianMs, 2)} ms / ${fmt(r.randomPairedBlockMedianMs, 2)} ms (medians)`,
        `${met(r.randomOverBlock, 1.2)}; the read's median / the median of the first ${BLOCKS} blocks' decodes ${fmt(r.randomOverBlockOfMedians, 2)}×`,
      ]);
    }
  }
  // gzip and zstd (readers-formats.ts): wall and CPU time, the load average.
  if (wanted('gzip') || wanted('zstd')) {
    const formats = await benchFormats(data.csv, offsets);
    rows.push(...formats.rows);
    result.formats = formats.result;
  }
  await closeSharedPool();
  rows.push(...targets);
  result.loadAverage = loads;
  const stolen = steal();
  result.stealPercent = stolen;
  console.log(`seekdata readers benchmark: ${mb.toFixed(1)} MB CSV, ${machine()}; ${ROUNDS} interleaved rounds; load average ${loads.map((l) => l.toFixed(1)).join(' → ')}${stealNote(stolen)}`);
  console.log(table(['format', 'measure', 'value', 'ratio'], rows));
  saveResult(only === undefined ? 'readers' : `readers-${only.join('-')}`, result);
}

await main();
