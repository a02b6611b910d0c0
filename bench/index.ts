/**
 * npm run bench:index — the indexing pass (chunk map + record offsets + timestamps + column statistics)
 * next to a plain parallel decode of the same file (interleaved over SEEKDATA_BENCH_ROUNDS rounds, default
 * 7, each timing the build and the decode back to back; the target is the median of the rounds' ratios, ≤ 1.15×), index size per record, index load time, and the
 * latency of a ~1,000-record time range with an empty cache next to one chunk decode. One run, ratios.
 * Beside wall times, the CPU time of the whole process (main thread and pool workers, process.cpuUsage)
 * for the decode and the build: on a shared machine the CPU-time ratio is the steadier of the two.
 * SEEKDATA_BENCH_FORMATS=xz (or bzip2; comma-separated) runs only those formats.
 */
import { rmSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { closeSharedPool, openIndexed, openReader } from '../src/index.js';
import { benchData, cpuMs, fmt, machine, median, pairedRatio, prng, saveResult, stealMeter, stealNote, table, timeMs, warm } from './common.js';

const QUERIES = 50;
const ROUNDS = Number(process.env.SEEKDATA_BENCH_ROUNDS ?? 7);

async function decodeMs(file: string): Promise<number> {
  const reader = await openReader(file, { cacheBytes: 1 });
  await warm(reader);
  const ms = await timeMs(async () => {
    for await (const part of reader.stream()) void part;
  });
  await reader.close();
  return ms;
}

async function chunkDecodeMs(file: string): Promise<number> {
  const reader = await openReader(file, { cacheBytes: 1 });
  const times: number[] = [];
  for (let c = 1; c < Math.min(reader.layout.count, 21); c++) times.push(await timeMs(() => reader.chunk(c)));
  await reader.close();
  return median(times);
}

async function main(): Promise<void> {
  const data = benchData();
  const loadAverages = [loadavg()[0]];
  const steal = stealMeter();
  const targets: Array<Array<string | number>> = [];
  const options = { records: 'csv' as const, timeColumn: 'time' };
  const rows: Array<Array<string | number>> = [];
  const result: Record<string, unknown> = {};
  // SEEKDATA_BENCH_FORMATS=xz (comma-separated) runs only those formats.
  const only = process.env.SEEKDATA_BENCH_FORMATS?.split(',');
  for (const [format, file] of [
    ['bzip2', data.bz2],
    ['xz', data.xz],
  ] as const) {
    if (only !== undefined && !only.includes(format)) continue;
    // Chunk map in place for the decode baseline; then a full rebuild of everything (the chunk map too:
    // for bzip2 its decoding scan), timed; interleaved with the decode, round by round (medians).
    await (await openReader(file)).close();
    let records = 0;
    let indexBytes = 0;
    // The same pass with statistics of the numeric columns only, and without statistics (no index file).
    const numeric = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7', 'label'];
    const runs: Record<string, () => Promise<number>> = {
      decode: () => decodeMs(file),
      built: async () => {
        rmSync(`${file}.sdx`, { force: true });
        return timeMs(async () => {
          const f = await openIndexed(file, options);
          records = f.records.count;
          indexBytes = f.report.indexBytes ?? 0;
          await f.close();
        });
      },
      // The full pass with the index kept in memory only: the built row less the index file's write.
      builtMemory: () => timeMs(async () => (await openIndexed(file, { ...options, index: false })).close()),
      builtSome: () => timeMs(async () => (await openIndexed(file, { ...options, index: false, stats: numeric })).close()),
      builtNone: () => timeMs(async () => (await openIndexed(file, { ...options, index: false, stats: false })).close()),
    };
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
    const cpu: Record<string, number[]> = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
    // Each round times the build and the decode back to back (which goes first alternates), so that the
    // target's ratio compares runs seconds apart, then the other variants (their order rotating).
    const others = Object.keys(runs).filter((name) => name !== 'decode' && name !== 'built');
    for (let r = 0; r < ROUNDS; r++) {
      const pair = r % 2 === 0 ? ['decode', 'built'] : ['built', 'decode'];
      for (const name of [...pair, ...others.map((_, k) => others[(k + r) % others.length])]) {
        const before = cpuMs();
        samples[name].push(await runs[name]());
        cpu[name].push(cpuMs() - before);
      }
      loadAverages.push(loadavg()[0]);
    }
    const cpuRatio = (name: string): number => median(cpu[name]) / median(cpu.decode);
    const decode = median(samples.decode);
    const built = median(samples.built);
    const builtMemory = median(samples.builtMemory);
    const builtSome = median(samples.builtSome);
    const builtNone = median(samples.builtNone);
    const loads: number[] = [];
    for (let k = 0; k < 5; k++) {
      loads.push(
        await timeMs(async () => {
          const f = await openIndexed(file, { ...options, ifStale: 'error' });
          await f.close();
        }),
      );
    }
    const chunkMs = await chunkDecodeMs(file);
    // ~1,000 records per range: the synthetic data has one record per ~1 s.
    // The same queries with prefixReads: false (each chunk decoded whole), alternating query by query.
    const f = await openIndexed(file, { ...options, cacheBytes: 1 });
    const whole = await openIndexed(file, { ...options, cacheBytes: 1, prefixReads: false });
    const summary = f.time?.summary;
    const first = summary?.first ?? 0;
    const last = summary?.last ?? 0;
    const rand = prng(5);
    const latencies: number[] = [];
    const wholeLatencies: number[] = [];
    const sizes: number[] = [];
    const width = ((last - first) / records) * 1000;
    for (let q = 0; q < QUERIES; q++) {
      const t0 = first + rand() * (last - first - width);
      const query = (g: typeof f) => async (): Promise<void> => {
        const numbers = g.range(t0, t0 + width);
        if (g === f) sizes.push(numbers.length);
        await g.records.getMany(numbers);
      };
      if (q % 2 === 0) {
        latencies.push(await timeMs(query(f)));
        wholeLatencies.push(await timeMs(query(whole)));
      } else {
        wholeLatencies.push(await timeMs(query(whole)));
        latencies.push(await timeMs(query(f)));
      }
    }
    await f.close();
    await whole.close();
    const r = {
      decodeMs: decode,
      buildMs: built,
      // The target: the median of the rounds' ratios (each round times the build and the decode back to back).
      buildRatio: pairedRatio(samples.built, samples.decode),
      buildRatioOfMedians: built / decode,
      buildMemoryMs: builtMemory,
      buildMemoryRatio: builtMemory / decode,
      buildMemoryCpuRatio: cpuRatio('builtMemory'),
      buildSomeStatsRatio: builtSome / decode,
      buildNoStatsRatio: builtNone / decode,
      decodeCpuMs: median(cpu.decode),
      buildCpuMs: median(cpu.built),
      buildCpuRatio: pairedRatio(cpu.built, cpu.decode),
      buildSomeStatsCpuRatio: cpuRatio('builtSome'),
      buildNoStatsCpuRatio: cpuRatio('builtNone'),
      records,
      indexBytes,
      bytesPerRecord: indexBytes / records,
      offsetBytesPerRecord: 4,
      loadMs: median(loads),
      chunkDecodeMs: chunkMs,
      rangeMedianMs: median(latencies),
      rangeWholeMedianMs: median(wholeLatencies),
      rangeRecords: median(sizes),
    };
    result[format] = r;
    const cpuNote = (name: string): string => `; CPU ${fmt(median(cpu[name]) / 1000, 2)} s, ${fmt(cpuRatio(name), 2)}×`;
    rows.push([format, 'parallel decode of the file (baseline)', `${fmt(decode / 1000, 2)} s`, `1.00×${cpuNote('decode')}`]);
    rows.push([format, 'index build: chunk map + records + timestamps + stats', `${fmt(built / 1000, 2)} s`, `${fmt(built / decode, 2)}×${cpuNote('built')}`]);
    rows.push([format, 'the same, index kept in memory only (`index: false`: no index file written)', `${fmt(builtMemory / 1000, 2)} s`, `${fmt(builtMemory / decode, 2)}×${cpuNote('builtMemory')}`]);
    rows.push([format, 'the same, statistics of the 9 numeric columns only (`stats: [...]`)', `${fmt(builtSome / 1000, 2)} s`, `${fmt(builtSome / decode, 2)}×${cpuNote('builtSome')}`]);
    rows.push([format, 'the same, no statistics (`stats: false`)', `${fmt(builtNone / 1000, 2)} s`, `${fmt(builtNone / decode, 2)}×${cpuNote('builtNone')}`]);
    rows.push([format, 'index size (offsets 4 B + time 8 B per record)', `${fmt(r.bytesPerRecord, 2)} B/record`, `${fmt(indexBytes / 1e6, 1)} MB`]);
    rows.push([format, 'index load (median of 5)', `${fmt(r.loadMs)} ms`, '']);
    rows.push([format, 'one chunk decode (median)', `${fmt(chunkMs, 1)} ms`, '1.00×']);
    rows.push([format, `range() of ~${r.rangeRecords} records + fetch, empty cache (median of ${QUERIES})`, `${fmt(r.rangeMedianMs, 1)} ms`, `${fmt(r.rangeMedianMs / chunkMs, 2)}× a chunk decode`]);
    rows.push([format, 'the same queries, prefixReads: false (whole chunks; alternating with the row above)', `${fmt(r.rangeWholeMedianMs, 1)} ms`, `${fmt(r.rangeWholeMedianMs / chunkMs, 2)}× a chunk decode`]);
    targets.push([
      format,
      "target: index build time / parallel decode time (median of the rounds' ratios)",
      `${fmt(built / 1000, 2)} s / ${fmt(decode / 1000, 2)} s`,
      `${fmt(r.buildRatio, 2)}× (goal ≤ 1.15×: ${r.buildRatio <= 1.15 ? 'met' : 'missed'}); ratio of the medians ${fmt(r.buildRatioOfMedians, 2)}×; CPU time ${fmt(r.buildCpuRatio, 2)}×`,
    ]);
  }
  rows.push(...targets);
  result.loadAverage = loadAverages;
  result.rounds = ROUNDS;
  const stolen = steal();
  result.stealPercent = stolen;
  await closeSharedPool();
  console.log(`seekdata index benchmark: ${(statSync(data.csv).size / 1e6).toFixed(1)} MB CSV, ${machine()}; ${ROUNDS} interleaved rounds; load average ${loadAverages.map((l) => l.toFixed(1)).join(' → ')}${stealNote(stolen)}`);
  console.log(table(['format', 'measure', 'value', 'ratio'], rows));
  saveResult('index', result);
}

await main();
