/**
 * Issue 12 §2's four targets, seekdata before and after a change, in ONE run, next to the native tools:
 * `--base DIR` is a checkout of the code before (its src/ is imported as "base"), this checkout is
 * "this". Candidates are interleaved round by round (the order rotates); wall and CPU (user+sys of all
 * threads; the commands through /usr/bin/time); medians, and the load average at each round.
 *
 *   1. bzip2 parallel decode at parallelism 2 (index loaded) vs `lbzip2 -dc -n 2`   target ≤ 1.3x
 *   2. xz parallel decode at parallelism 2 vs `xz -dc`                              target ≤ 1.0x
 *   3. verified xz random read (100 B, empty cache, P2) median vs one block decode   target ≤ 1.2x
 *   4. the full index pass (chunk map + records + timestamps + statistics of every
 *      column; P2, no index file) vs the plain parallel decode                      target ≤ 1.15x
 *
 *   mkdir -p scratch/base && git archive BASE_COMMIT src | tar -x -C scratch/base   # the code before
 *   npx tsx bench/decoders/integrated.ts --base scratch/base [--rounds 5] [--reads 40]
 *
 * (scratch/ inside the checkout, so the base sources resolve the same node_modules.)
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as here from '../../src/index.js';
import { benchData, median, prng } from '../common.js';

type Api = Pick<typeof here, 'openReader' | 'openIndexed' | 'closeSharedPool'>;

const args = process.argv.slice(2);
const get = (flag: string, fallback: string): string => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : fallback;
};
const ROUNDS = Number(get('--rounds', '5'));
const READS = Number(get('--reads', '40'));
const BASE = get('--base', '');

interface Sample {
  wall: number;
  cpu: number;
}

function command(cmd: string): Sample {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S', 'sh', '-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  const [e, u, s] = r.stderr.trim().split('\n').pop()?.split(' ').map(Number) ?? [NaN, NaN, NaN];
  return { wall: e * 1000, cpu: (u + s) * 1000 };
}

async function measured(fn: () => Promise<number>, expect: number): Promise<Sample> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const n = await fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  if (n !== expect) throw new Error(`got ${n}, expected ${expect}`);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

/** Sequential decode through the reader, the chunk map loaded from the index file. */
function decode(api: Api, file: string, parallelism: number) {
  return async (): Promise<number> => {
    let n = 0;
    const r = await api.openReader(file, { parallelism, cacheBytes: 1, ifStale: 'error' });
    for await (const part of r.stream()) n += part.length;
    await r.close();
    return n;
  };
}

/** The full index pass: chunk map (bzip2: the decoding scan), records, timestamps, statistics of every column. */
function indexPass(api: Api, file: string, records: number) {
  return async (): Promise<number> => {
    const f = await api.openIndexed(file, { records: 'csv', timeColumn: 'time', parallelism: 2, index: false, cacheBytes: 1 });
    const n = f.records.count;
    await f.close();
    if (n !== records) throw new Error(`${n} records, expected ${records}`);
    return n;
  };
}

/**
 * Verified random reads (100 B at random offsets, empty cache, P2) and one whole-block decode in this
 * thread with the version's own decoder (the reader at parallelism 1 decoding chunk c: the job runs
 * inline), medians; returns read median / block median as `wall`, and the two medians.
 */
async function randomVsBlock(api: Api, file: string, offsets: number[]): Promise<{ ratio: number; read: number; block: number }> {
  const reader = await api.openReader(file, { parallelism: 2, cacheBytes: 1, ifStale: 'error' });
  const reads: number[] = [];
  await reader.read(offsets[0], 100);
  for (const o of offsets) {
    const t = performance.now();
    await reader.read(o, 100);
    reads.push(performance.now() - t);
  }
  await reader.close();
  const inline = await api.openReader(file, { parallelism: 1, cacheBytes: 1, ifStale: 'error' });
  const blocks: number[] = [];
  await inline.chunk(0);
  for (const o of offsets) {
    const c = inline.chunkIndexAt(o);
    const t = performance.now();
    await inline.chunk(c);
    blocks.push(performance.now() - t);
  }
  await inline.close();
  return { ratio: median(reads) / median(blocks), read: median(reads), block: median(blocks) };
}

type Candidate = [string, () => Promise<Sample>];

function summarize(title: string, samples: Map<string, Sample[]>, against: Array<[string, string]>): void {
  const med = (name: string, key: keyof Sample): number => median((samples.get(name) ?? []).map((s) => s[key]));
  console.log(`\n${title}: medians of ${ROUNDS} rounds`);
  console.log('| run | wall s | CPU s | walls |');
  console.log('|---|---|---|---|');
  for (const [name, s] of samples) console.log(`| ${name} | ${(med(name, 'wall') / 1000).toFixed(2)} | ${(med(name, 'cpu') / 1000).toFixed(2)} | ${s.map((x) => (x.wall / 1000).toFixed(2)).join(' ')} |`);
  console.log('\n| ratio | wall | CPU |');
  console.log('|---|---|---|');
  for (const [a, b] of against) console.log(`| ${a} / ${b} | ${(med(a, 'wall') / med(b, 'wall')).toFixed(2)} | ${(med(a, 'cpu') / med(b, 'cpu')).toFixed(2)} |`);
}

async function main(): Promise<void> {
  if (BASE === '') throw new Error('--base DIR (a checkout of the code before) is required');
  const base = (await import(pathToFileURL(resolve(BASE, 'src/index.ts')).href)) as Api;
  const data = benchData();
  const size = statSync(data.csv).size;
  const records = readFileSync(data.csv).reduce((n, b) => n + (b === 10 ? 1 : 0), 0) - 1;
  const rand = prng(77);
  const offsets = Array.from({ length: READS }, () => Math.floor(rand() * (size - 100)));
  const loads: string[] = [`start ${loadavg().map((x) => x.toFixed(1)).join(' ')}`];
  // Index files in place (either version reads the other's); worker pools of both versions started and warm.
  for (const api of [base, here]) {
    for (const file of [data.bz2, data.xz]) {
      const r = await api.openReader(file, { parallelism: 2 });
      await Promise.all([0, 1, 2, 3].map((c) => r.chunk(c)));
      await r.close();
    }
  }
  const bz: Candidate[] = [
    ['lbzip2 -dc -n 2', async () => command(`lbzip2 -dc -n 2 ${data.bz2} > /dev/null`)],
    ['bzip2 -dc', async () => command(`bzip2 -dc ${data.bz2} > /dev/null`)],
    ['base: decode P2', () => measured(decode(base, data.bz2, 2), size)],
    ['this: decode P2', () => measured(decode(here, data.bz2, 2), size)],
    ['base: index pass P2', () => measured(indexPass(base, data.bz2, records), records)],
    ['this: index pass P2', () => measured(indexPass(here, data.bz2, records), records)],
  ];
  const xz: Candidate[] = [
    ['xz -dc', async () => command(`xz -dc ${data.xz} > /dev/null`)],
    ['xz -dc -T2', async () => command(`xz -dc -T2 ${data.xz} > /dev/null`)],
    ['base: decode P2', () => measured(decode(base, data.xz, 2), size)],
    ['this: decode P2', () => measured(decode(here, data.xz, 2), size)],
    ['this: decode P1', () => measured(decode(here, data.xz, 1), size)],
    ['base: index pass P2', () => measured(indexPass(base, data.xz, records), records)],
    ['this: index pass P2', () => measured(indexPass(here, data.xz, records), records)],
  ];
  const random: Array<[string, Api]> = [
    ['base', base],
    ['this', here],
  ];
  const bzSamples = new Map<string, Sample[]>(bz.map(([n]) => [n, []]));
  const xzSamples = new Map<string, Sample[]>(xz.map(([n]) => [n, []]));
  const randomRuns = new Map<string, Array<{ ratio: number; read: number; block: number }>>(random.map(([n]) => [n, []]));
  // One round: every candidate of every set once, the sets and the candidates in a rotating order.
  for (let r = 0; r < ROUNDS; r++) {
    const jobs: Array<() => Promise<void>> = [];
    for (const [set, samples] of [
      [bz, bzSamples],
      [xz, xzSamples],
    ] as const) {
      for (const [name, run] of set) jobs.push(async () => void samples.get(name)?.push(await run()));
    }
    for (const [name, api] of random) jobs.push(async () => void randomRuns.get(name)?.push(await randomVsBlock(api, data.xz, offsets)));
    for (let k = 0; k < jobs.length; k++) await jobs[(k + r * 3) % jobs.length]();
    loads.push(`round ${r + 1}: ${loadavg()[0].toFixed(1)}`);
    console.error(loads[loads.length - 1]);
  }
  console.log(`seekdata before (base) / after (this), ${(size / 1e6).toFixed(0)} MB CSV; load average: ${loads.join(', ')}`);
  summarize('bzip2', bzSamples, [
    ['base: decode P2', 'lbzip2 -dc -n 2'],
    ['this: decode P2', 'lbzip2 -dc -n 2'],
    ['base: index pass P2', 'base: decode P2'],
    ['this: index pass P2', 'this: decode P2'],
  ]);
  summarize('xz', xzSamples, [
    ['base: decode P2', 'xz -dc'],
    ['this: decode P2', 'xz -dc'],
    ['this: decode P1', 'xz -dc'],
    ['this: decode P2', 'xz -dc -T2'],
    ['base: index pass P2', 'base: decode P2'],
    ['this: index pass P2', 'this: decode P2'],
  ]);
  console.log(`\nxz verified random read (100 B, empty cache, P2, median of ${READS}) / one block decode in this thread (median): per round, then the median`);
  console.log('| version | read ms | block ms | ratio per round | median ratio |');
  console.log('|---|---|---|---|---|');
  for (const [name, runs] of randomRuns) {
    const ratios = runs.map((x) => x.ratio);
    console.log(`| ${name} | ${median(runs.map((x) => x.read)).toFixed(2)} | ${median(runs.map((x) => x.block)).toFixed(2)} | ${ratios.map((x) => x.toFixed(2)).join(' ')} | ${median(ratios).toFixed(2)} |`);
  }
  await base.closeSharedPool();
  await here.closeSharedPool();
  console.log(`\nload average at end: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
}

await main();
