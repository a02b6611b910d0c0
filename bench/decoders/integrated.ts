/**
 * seekdata's real reader before and after a change, in one run, next to the native tools: `--base DIR`
 * is a checkout of the code before (its src/ is imported as "base"), this checkout is "this". Rows:
 * sequential decode with the index loaded (parallelism 1 and 2), and for bzip2 the first open without
 * an index (discovery: the index pass's decode). Interleaved rounds; wall and CPU (user+sys, all
 * threads; commands through /usr/bin/time); medians; ratios against the native tool.
 *
 *   git archive HEAD src | tar -x -C /tmp/base   # the code before
 *   npx tsx bench/decoders/integrated.ts --base /tmp/base [--rounds 3] [--format bz|xz|both]
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as here from '../../src/index.js';
import { benchData, median } from '../common.js';

type Api = Pick<typeof here, 'openReader' | 'closeSharedPool'>;

const args = process.argv.slice(2);
const get = (flag: string, fallback: string): string => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : fallback;
};
const ROUNDS = Number(get('--rounds', '3'));
const FORMAT = get('--format', 'both');
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
  if (n !== expect) throw new Error(`decoded ${n} bytes, expected ${expect}`);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

/** Sequential decode through the reader (index loaded unless `index` is false: then discovery). */
function stream(api: Api, file: string, parallelism: number, index: boolean) {
  return async (): Promise<number> => {
    let n = 0;
    const r = await api.openReader(file, { parallelism, cacheBytes: 1, ...(index ? {} : { index: false, onScanChunk: (c) => void (n += c.bytes.length) }) });
    if (!r.scannedOnOpen) for await (const part of r.stream()) n += part.length;
    await r.close();
    return n;
  };
}

async function main(): Promise<void> {
  if (BASE === '') throw new Error('--base DIR (a checkout of the code before) is required');
  const base = (await import(pathToFileURL(resolve(BASE, 'src/index.ts')).href)) as Api;
  const data = benchData();
  const size = statSync(data.csv).size;
  console.log(`load average at start: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  // Index files in place; worker pools of both versions started and warm.
  for (const api of [base, here]) {
    for (const file of [data.bz2, data.xz]) {
      const r = await api.openReader(file, { parallelism: 2 });
      await Promise.all([0, 1, 2, 3].map((c) => r.chunk(c)));
      await r.close();
    }
  }
  const sets: Array<[string, Array<[string, () => Promise<Sample>]>]> = [];
  if (FORMAT !== 'xz') {
    sets.push([
      'bzip2',
      [
        ['lbzip2 -dc -n 2', async () => command(`lbzip2 -dc -n 2 ${data.bz2} > /dev/null`)],
        ['bzip2 -dc', async () => command(`bzip2 -dc ${data.bz2} > /dev/null`)],
        ['base: reader P2, index loaded', () => measured(stream(base, data.bz2, 2, true), size)],
        ['this: reader P2, index loaded', () => measured(stream(here, data.bz2, 2, true), size)],
        ['base: open without index P2 (discovery)', () => measured(stream(base, data.bz2, 2, false), size)],
        ['this: open without index P2 (discovery)', () => measured(stream(here, data.bz2, 2, false), size)],
      ],
    ]);
  }
  if (FORMAT !== 'bz') {
    sets.push([
      'xz',
      [
        ['xz -dc -T1', async () => command(`xz -dc -T1 ${data.xz} > /dev/null`)],
        ['base: reader P1', () => measured(stream(base, data.xz, 1, true), size)],
        ['this: reader P1', () => measured(stream(here, data.xz, 1, true), size)],
        ['base: reader P2', () => measured(stream(base, data.xz, 2, true), size)],
        ['this: reader P2', () => measured(stream(here, data.xz, 2, true), size)],
      ],
    ]);
  }
  for (const [format, candidates] of sets) {
    const samples = new Map<string, Sample[]>(candidates.map(([n]) => [n, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < candidates.length; k++) {
        const [name, run] = candidates[(k + r) % candidates.length];
        samples.get(name)?.push(await run());
      }
      console.error(`${format} round ${r + 1}/${ROUNDS}, load ${loadavg()[0].toFixed(1)}`);
    }
    const [first] = candidates[0];
    const b = samples.get(first) ?? [];
    const bw = median(b.map((s) => s.wall));
    const bc = median(b.map((s) => s.cpu));
    console.log(`\n${format}: ${(size / 1e6).toFixed(0)} MB out; medians of ${ROUNDS}; ratios against ${first} (same run)`);
    console.log('| run | wall s | CPU s | wall ratio | CPU ratio | best wall ratio | best CPU ratio | walls |');
    console.log('|---|---|---|---|---|---|---|---|');
    const bestWall = Math.min(...b.map((s) => s.wall));
    const bestCpu = Math.min(...b.map((s) => s.cpu));
    for (const [name, s] of samples) {
      const w = median(s.map((x) => x.wall));
      const c = median(s.map((x) => x.cpu));
      const bw2 = Math.min(...s.map((x) => x.wall)) / bestWall;
      const bc2 = Math.min(...s.map((x) => x.cpu)) / bestCpu;
      const walls = s.map((x) => (x.wall / 1000).toFixed(2)).join(' ');
      console.log(`| ${name} | ${(w / 1000).toFixed(2)} | ${(c / 1000).toFixed(2)} | ${(w / bw).toFixed(2)} | ${(c / bc).toFixed(2)} | ${bw2.toFixed(2)} | ${bc2.toFixed(2)} | ${walls} |`);
    }
  }
  await base.closeSharedPool();
  await here.closeSharedPool();
  console.log(`\nload average at end: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
}

await main();
