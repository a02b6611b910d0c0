/**
 * The index pass's CSV analysis (src/index/records/analyze.ts), alone, on real decoded chunks: what
 * each part costs (record ends only; + timestamps; + statistics of every column), CPU per MB next to
 * the decode of the same chunks with the fastest xz decoder, interleaved rounds. Also the ISO
 * timestamp's calendar step: Date.UTC against the integer days-from-civil of civil.ts.
 *
 *   npx tsx bench/decoders/analyze.ts [--chunks 24] [--rounds 5]
 */
import { loadavg } from 'node:os';
import { openReader, closeSharedPool } from '../../src/index.js';
import { analyzeChunk, type AnalyzeSpec } from '../../src/index/records/analyze.js';
import { utcMs } from '../../src/index/records/civil.js';
import { padded4 } from '../../src/readers/xz/container.js';
import { benchData, median } from '../common.js';
import { decodeXz, fileBytes, prepare } from './candidates.js';

const args = process.argv.slice(2);
const arg = (flag: string, fallback: number): number => {
  const i = args.indexOf(flag);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const CHUNKS = arg('--chunks', 24);
const ROUNDS = arg('--rounds', 5);

function cpuMs(fn: () => void): number {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

async function main(): Promise<void> {
  await prepare();
  const data = benchData();
  const reader = await openReader(data.xz, { parallelism: 1 });
  const units = reader.units;
  await reader.close();
  await closeSharedPool();
  const xzBytes = fileBytes(data.xz);
  const tasks = Array.from({ length: Math.min(CHUNKS, units.count) }, (_, k) => {
    const u = Math.floor((k * units.count) / CHUNKS);
    const offset = units.cStart[u];
    return { data: xzBytes.slice(offset, offset + padded4(units.param[u])), offset, unpaddedSize: units.param[u], uncompressedSize: units.dStart[u + 1] - units.dStart[u], checkType: units.kind[u], file: 'bench' };
  });
  const chunks: Uint8Array[] = [];
  for (const t of tasks) chunks.push(await decodeXz('node-liblzma', t));
  const mb = chunks.reduce((s, c) => s + c.length, 0) / 1e6;
  const base: AnalyzeSpec = { kind: 'csv', delimiter: 0x2c, begin: 0, inQuote: false, statColumns: 0, maxBad: 10 };
  const time = { field: 0, format: 'iso' as const };
  const variants: Array<[string, () => void]> = [
    ['decode (node-liblzma), for scale', () => void tasks.map((t) => void decodeXz('node-liblzma', t))],
    ['record ends only', () => chunks.forEach((c) => analyzeChunk(c, base))],
    ['+ timestamps', () => chunks.forEach((c) => analyzeChunk(c, { ...base, time }))],
    ['+ statistics of the 9 numeric columns', () => chunks.forEach((c) => analyzeChunk(c, { ...base, time, statColumns: 11, statMask: Uint8Array.from([0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1]) }))],
    ['+ statistics of every column (the index pass)', () => chunks.forEach((c) => analyzeChunk(c, { ...base, time, statColumns: 11 }))],
  ];
  for (const [, fn] of variants) fn();
  console.log(`${chunks.length} chunks, ${mb.toFixed(1)} MB; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const samples = new Map<string, number[]>(variants.map(([n]) => [n, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < variants.length; k++) {
      const [name, fn] = variants[(k + r) % variants.length];
      samples.get(name)?.push(cpuMs(fn));
    }
  }
  const decode = median(samples.get(variants[0][0]) ?? []);
  console.log('| work | CPU ms per MB (median) | / decode |');
  console.log('|---|---|---|');
  for (const [name, s] of samples) console.log(`| ${name} | ${(median(s) / mb).toFixed(2)} | ${(median(s) / decode).toFixed(2)} |`);

  // The calendar step of parseIso, one call per record of the file.
  const n = 1_100_000;
  const y = new Int32Array(n);
  const rnd = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < n; i++) y[i] = 2000 + (rnd[i] % 30);
  let sink = 0;
  const calendar: Array<[string, () => void]> = [
    ['Date.UTC', () => {
      for (let i = 0; i < n; i++) sink += Date.UTC(y[i], i % 12, 1 + (i % 28), i % 24, i % 60, i % 60);
    }],
    ['utcMs (civil.ts)', () => {
      for (let i = 0; i < n; i++) sink += utcMs(y[i], 1 + (i % 12), 1 + (i % 28), i % 24, i % 60, i % 60);
    }],
  ];
  const cal = new Map<string, number[]>(calendar.map(([k]) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) for (const [name, fn] of r % 2 === 0 ? calendar : [...calendar].reverse()) cal.get(name)?.push(cpuMs(fn));
  for (const [name, s] of cal) console.log(`calendar step, ${name}: ${((median(s) * 1e6) / n).toFixed(0)} ns per record (${median(s).toFixed(0)} ms for ${n})`);
  if (sink === 0) console.log('');
  console.log(`load average at end: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
}

await main();
