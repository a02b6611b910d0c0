/**
 * Whole-file decode (issue 12 §2 targets): the native tools next to seekdata's reader today and the lean
 * harness with each decoder candidate, interleaved round by round in one process. Wall and CPU
 * (user+sys; for commands from /usr/bin/time, for in-process runs from process.cpuUsage, which counts
 * every thread) per run; medians; ratios against the native tool of the same run.
 *
 *   npx tsx bench/decoders/files.ts [--format bz|xz|both] [--rounds 3] [--only name,name]
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { closeSharedPool, openReader } from '../../src/index.js';
import { scanBzip2 } from '../../src/readers/bzip2/scan.js';
import { bzip2Info } from '../../src/readers/bzip2/info.js';
import { FileSource } from '../../src/sources/file-source.js';
import { sharedPool } from '../../src/workers/pool.js';
import { benchData, median } from '../common.js';
import { decodeKnown, discoverWasm, harnessPool, inlineHarness, poolRunner } from './harness.js';

const args = process.argv.slice(2);
const get = (flag: string, fallback: string): string => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : fallback;
};
const ROUNDS = Number(get('--rounds', '3'));
const FORMAT = get('--format', 'both');
const ONLY = get('--only', '').split(',').filter((s) => s !== '');

interface Sample {
  wall: number;
  cpu: number;
  note?: string;
}
type Candidate = { name: string; run: () => Promise<Sample> };

function command(cmd: string): Sample {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S', 'sh', '-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  const [e, u, s] = r.stderr.trim().split('\n').pop()?.split(' ').map(Number) ?? [NaN, NaN, NaN];
  return { wall: e * 1000, cpu: (u + s) * 1000 };
}

async function inProcess(fn: () => Promise<number | string>, expectBytes: number): Promise<Sample> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const got = await fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  if (typeof got === 'number' && got !== expectBytes) throw new Error(`decoded ${got} bytes, expected ${expectBytes}`);
  return { wall, cpu: (c.user + c.system) / 1000, ...(typeof got === 'string' ? { note: got } : {}) };
}

async function main(): Promise<void> {
  const data = benchData();
  const size = statSync(data.csv).size;
  console.log(`load average at start: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const bzReader0 = await openReader(data.bz2, { parallelism: 2 });
  const xzReader0 = await openReader(data.xz, { parallelism: 2 });
  const bzUnits = bzReader0.units;
  const xzUnits = xzReader0.units;
  await bzReader0.close();
  await xzReader0.close();
  const pool = harnessPool(2);
  const run2 = poolRunner(pool);
  // Start the workers of both pools (and compile WASM in each) before timing.
  await Promise.all([0, 1, 2, 3].map(() => decodeKnown(data.xz, { ...xzUnits, count: 1 }, 'napi-rs', run2, { lookahead: 4, transferInput: true })));
  const la = { lookahead: 4, transferInput: false };
  const reader = (file: string, parallelism: number) => async (): Promise<number> => {
    const r = await openReader(file, { parallelism, cacheBytes: 1 });
    let n = 0;
    for await (const part of r.stream()) n += part.length;
    await r.close();
    return n;
  };
  const jsDiscovery = async (): Promise<number> => {
    const source = await FileSource.open(data.bz2);
    const runner = sharedPool();
    let n = 0;
    for await (const { result } of scanBzip2({ source, decode: async (task) => {
      const r = await runner.run({ input: { kind: 'decode', format: 'bzip2', task } });
      return { bytes: r.bytes, ...bzip2Info(r.info) };
    }, lookahead: 4 })) n += result.bytes.length;
    await source.close();
    return n;
  };
  await reader(data.xz, 2)();

  const bz: Candidate[] = [
    { name: 'bzip2 -dc', run: async () => command(`bzip2 -dc ${data.bz2} > /dev/null`) },
    { name: 'lbzip2 -dc -n 2', run: async () => command(`lbzip2 -dc -n 2 ${data.bz2} > /dev/null`) },
    { name: 'seekdata reader P2 (index loaded), today', run: () => inProcess(reader(data.bz2, 2), size) },
    { name: 'seekdata discovery scan P2 (index pass decode), today', run: () => inProcess(jsDiscovery, size) },
    { name: 'harness P2 js decoder', run: () => inProcess(async () => (await decodeKnown(data.bz2, bzUnits, 'js', run2, la)).bytes, size) },
    { name: 'harness P2 wasm', run: () => inProcess(async () => (await decodeKnown(data.bz2, bzUnits, 'wasm', run2, la)).bytes, size) },
    { name: 'harness P2 wasm, transfer input', run: () => inProcess(async () => (await decodeKnown(data.bz2, bzUnits, 'wasm', run2, { lookahead: 4, transferInput: true })).bytes, size) },
    { name: 'discovery scan P2 with wasm jobs', run: () => inProcess(async () => (await discoverWasm(data.bz2, pool, 4)).bytes, size) },
  ];
  const xz: Candidate[] = [
    { name: 'xz -dc -T1', run: async () => command(`xz -dc -T1 ${data.xz} > /dev/null`) },
    { name: 'xz -dc -T2', run: async () => command(`xz -dc -T2 ${data.xz} > /dev/null`) },
    { name: 'seekdata reader P1, today', run: () => inProcess(reader(data.xz, 1), size) },
    { name: 'seekdata reader P2, today', run: () => inProcess(reader(data.xz, 2), size) },
    { name: 'harness P1 lzma-native (inline)', run: () => inProcess(async () => (await decodeKnown(data.xz, xzUnits, 'lzma-native', inlineHarness, la)).bytes, size) },
    { name: 'harness P1 napi-rs (inline)', run: () => inProcess(async () => (await decodeKnown(data.xz, xzUnits, 'napi-rs', inlineHarness, la)).bytes, size) },
    { name: 'harness P1 node-liblzma (inline)', run: () => inProcess(async () => (await decodeKnown(data.xz, xzUnits, 'node-liblzma', inlineHarness, la)).bytes, size) },
    { name: 'harness P2 lzma-native', run: () => inProcess(async () => (await decodeKnown(data.xz, xzUnits, 'lzma-native', run2, la)).bytes, size) },
    { name: 'harness P2 napi-rs', run: () => inProcess(async () => (await decodeKnown(data.xz, xzUnits, 'napi-rs', run2, la)).bytes, size) },
    { name: 'harness P2 node-liblzma', run: () => inProcess(async () => (await decodeKnown(data.xz, xzUnits, 'node-liblzma', run2, la)).bytes, size) },
    { name: 'harness P2 napi-rs, transfer input', run: () => inProcess(async () => (await decodeKnown(data.xz, xzUnits, 'napi-rs', run2, { lookahead: 4, transferInput: true })).bytes, size) },
  ];
  const sets: Array<[string, Candidate[]]> = [];
  if (FORMAT !== 'xz') sets.push(['bzip2', bz]);
  if (FORMAT !== 'bz') sets.push(['xz', xz]);
  for (const [format, all] of sets) {
    const candidates = ONLY.length === 0 ? all : all.filter((c, i) => i === 0 || ONLY.some((o) => c.name.includes(o)));
    const samples = new Map<string, Sample[]>(candidates.map((c) => [c.name, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < candidates.length; k++) {
        const c = candidates[(k + r) % candidates.length];
        samples.get(c.name)?.push(await c.run());
      }
      console.error(`${format} round ${r + 1}/${ROUNDS} done, load ${loadavg()[0].toFixed(1)}`);
    }
    const base = samples.get(candidates[0].name) ?? [];
    const bw = median(base.map((s) => s.wall));
    const bc = median(base.map((s) => s.cpu));
    console.log(`\n${format}: whole file (${(size / 1e6).toFixed(0)} MB out), median of ${ROUNDS}; ratios against ${candidates[0].name}`);
    console.log('| run | wall s | CPU s (user+sys) | wall ratio | CPU ratio | walls |');
    console.log('|---|---|---|---|---|---|');
    for (const [name, s] of samples) {
      const w = median(s.map((x) => x.wall));
      const c = median(s.map((x) => x.cpu));
      console.log(`| ${name} | ${(w / 1000).toFixed(2)} | ${(c / 1000).toFixed(2)} | ${(w / bw).toFixed(2)} | ${(c / bc).toFixed(2)} | ${s.map((x) => (x.wall / 1000).toFixed(2)).join(' ')} |`);
    }
  }
  await pool.close();
  await closeSharedPool();
  console.log(`\nload average at end: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
}

await main();
