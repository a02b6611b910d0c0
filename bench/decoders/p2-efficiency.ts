/**
 * Where the time of a parallelism-2 sequential decode goes (issue 12 §2): the lean harness (the shape of
 * seekdata's scanKnown) with timestamps taken in the workers and the main thread, for a few lookahead
 * depths and input transfer on/off, next to the same decodes in one thread. Per run: wall; each
 * worker's busy share of the wall; time workers sat with no job posted yet (the main thread too slow to
 * refill); the dispatch gap (a job was queued but the worker had not started it); and the median decode
 * time at P2 against P1 (how much two decodes at once slow each other). Variants interleaved per round.
 *
 *   npx tsx bench/decoders/p2-efficiency.ts [--format xz|bz] [--decoder NAME] [--rounds 3]
 */
import { loadavg } from 'node:os';
import { closeSharedPool, openReader } from '../../src/index.js';
import { benchData, median } from '../common.js';
import type { BzCandidate, XzCandidate } from './candidates.js';
import { decodeKnown, harnessPool, inlineHarness, poolRunner, type HarnessOutcome } from './harness.js';

const args = process.argv.slice(2);
const get = (flag: string, fallback: string): string => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : fallback;
};
const FORMAT = get('--format', 'xz');
const DECODER = get('--decoder', FORMAT === 'xz' ? 'lzma-native' : 'js') as BzCandidate | XzCandidate;
const ROUNDS = Number(get('--rounds', '3'));

interface Breakdown {
  wall: number;
  cpu: number;
  busy: number;
  starved: number;
  dispatch: number;
  decodeMedian: number;
}

function breakdown(out: HarnessOutcome, wall: number, cpu: number): Breakdown {
  const byThread = new Map<number, HarnessOutcome['jobs']>();
  for (const j of out.jobs) byThread.set(j.result.thread, [...(byThread.get(j.result.thread) ?? []), j]);
  let busy = 0;
  let starved = 0;
  let dispatch = 0;
  for (const jobs of byThread.values()) {
    jobs.sort((a, b) => a.result.t0 - b.result.t0);
    for (let k = 0; k < jobs.length; k++) {
      const r = jobs[k].result;
      busy += r.t1 - r.t0;
      if (k === 0) continue;
      const freeAt = jobs[k - 1].result.t1;
      const postedLate = Math.max(0, jobs[k].posted - freeAt);
      starved += postedLate;
      dispatch += Math.max(0, r.t0 - Math.max(freeAt, jobs[k].posted));
    }
  }
  const threads = Math.max(1, byThread.size);
  return { wall, cpu, busy: busy / (threads * wall), starved: starved / threads, dispatch: dispatch / threads, decodeMedian: median(out.jobs.map((j) => j.result.decodeMs)) };
}

async function main(): Promise<void> {
  const data = benchData();
  const file = FORMAT === 'xz' ? data.xz : data.bz2;
  const r0 = await openReader(file, { parallelism: 1 });
  const units = r0.units;
  await r0.close();
  await closeSharedPool();
  const pool = harnessPool(2);
  const run2 = poolRunner(pool);
  const pool2 = harnessPool(2, 2);
  const run2q = poolRunner(pool2);
  await decodeKnown(file, { ...units, count: 4 }, DECODER, run2, { lookahead: 4, transferInput: false });
  await decodeKnown(file, { ...units, count: 4 }, DECODER, run2q, { lookahead: 4, transferInput: false });
  console.log(`${file}, decoder ${DECODER}; load average at start: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const variants: Array<[string, () => Promise<HarnessOutcome>]> = [
    ['P1 inline', () => decodeKnown(file, units, DECODER, inlineHarness, { lookahead: 1, transferInput: false })],
    ['P2 lookahead 2', () => decodeKnown(file, units, DECODER, run2, { lookahead: 2, transferInput: false })],
    ['P2 lookahead 4 (today)', () => decodeKnown(file, units, DECODER, run2, { lookahead: 4, transferInput: false })],
    ['P2 lookahead 8', () => decodeKnown(file, units, DECODER, run2, { lookahead: 8, transferInput: false })],
    ['P2 lookahead 4, input moved', () => decodeKnown(file, units, DECODER, run2, { lookahead: 4, transferInput: true })],
    ['P2 lookahead 4, 2 tasks per worker', () => decodeKnown(file, units, DECODER, run2q, { lookahead: 4, transferInput: false })],
    ['P2 lookahead 6, 2 tasks per worker', () => decodeKnown(file, units, DECODER, run2q, { lookahead: 6, transferInput: false })],
    ['P2 lookahead 8, 2 tasks per worker, input moved', () => decodeKnown(file, units, DECODER, run2q, { lookahead: 8, transferInput: true })],
  ];
  const results = new Map<string, Breakdown[]>(variants.map(([n]) => [n, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < variants.length; k++) {
      const [name, fn] = variants[(k + r) % variants.length];
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const out = await fn();
      const wall = performance.now() - t0;
      const c = process.cpuUsage(c0);
      results.get(name)?.push(breakdown(out, wall, (c.user + c.system) / 1000));
    }
    console.error(`round ${r + 1}/${ROUNDS}, load ${loadavg()[0].toFixed(1)}`);
  }
  const p1 = results.get('P1 inline') ?? [];
  const p1Wall = median(p1.map((b) => b.wall));
  const p1Decode = median(p1.map((b) => b.decodeMedian));
  console.log('| variant | wall s | wall / P1 | CPU s | workers busy | starved (no job posted) ms/worker | dispatch gap ms/worker | decode median ms | decode / P1 |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const [name, bs] of results) {
    const m = (f: (b: Breakdown) => number): number => median(bs.map(f));
    console.log(
      `| ${name} | ${(m((b) => b.wall) / 1000).toFixed(2)} | ${(m((b) => b.wall) / p1Wall).toFixed(2)} | ${(m((b) => b.cpu) / 1000).toFixed(2)} | ${(100 * m((b) => b.busy)).toFixed(0)}% | ${m((b) => b.starved).toFixed(0)} | ${m((b) => b.dispatch).toFixed(0)} | ${m((b) => b.decodeMedian).toFixed(1)} | ${(m((b) => b.decodeMedian) / p1Decode).toFixed(2)} |`,
    );
  }
  await pool.close();
  await pool2.close();
  console.log(`load average at end: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
}

await main();
