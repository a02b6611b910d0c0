/**
 * One-unit decode time of every decoder candidate (issue 12 §2): a 900 kB bzip2 block and a 1 MiB xz
 * block, median wall and CPU (process user+sys) per candidate, in the main thread and inside a worker
 * thread (WASM compiled and every candidate warmed up first), candidates interleaved block by block so
 * that load changes hit all of them alike. Every output is checked against the plain CSV first.
 *
 *   npx tsx bench/decoders/blocks.ts [--blocks 12] [--rounds 3]
 */
import { loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { closeSharedPool, openReader } from '../../src/index.js';
import type { XzBlockTask } from '../../src/readers/xz/block.js';
import { padded4 } from '../../src/readers/xz/container.js';
import { benchData, median } from '../common.js';
import type { BlockReply, BlockRequest } from './block-worker.js';
import { BZ_CANDIDATES, decodeBz, decodeXz, fileBytes, measure, prepare, XZ_CANDIDATES, type BzBlock } from './candidates.js';

const args = process.argv.slice(2);
const arg = (flag: string, fallback: number): number => {
  const i = args.indexOf(flag);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const BLOCKS = arg('--blocks', 12);
const ROUNDS = arg('--rounds', 3);

async function loadBlocks(): Promise<{ bz: BzBlock[]; xz: XzBlockTask[]; bzTruth: Uint8Array[]; xzTruth: Uint8Array[] }> {
  const data = benchData();
  const csv = fileBytes(data.csv);
  const bzBytes = fileBytes(data.bz2);
  const xzBytes = fileBytes(data.xz);
  const bzReader = await openReader(data.bz2, { parallelism: 2 });
  const xzReader = await openReader(data.xz, { parallelism: 2 });
  const pick = (count: number): number[] => Array.from({ length: Math.min(BLOCKS, count - 1) }, (_, k) => Math.floor((k * (count - 1)) / BLOCKS));
  const bz: BzBlock[] = [];
  const bzTruth: Uint8Array[] = [];
  const bu = bzReader.units;
  for (const u of pick(bu.count)) {
    const first = Math.floor(bu.cStart[u] / 8);
    // A copy of the block's bytes only (plus the next magic), as the reader reads them.
    const data = bzBytes.slice(first, Math.ceil(bu.cEnd[u] / 8) + 8);
    bz.push({ data, bitOffset: bu.cStart[u] - first * 8, endBit: bu.cEnd[u] - first * 8, crc: bu.param[u], length: bu.dStart[u + 1] - bu.dStart[u], base: first });
    bzTruth.push(csv.subarray(bu.dStart[u], bu.dStart[u + 1]));
  }
  const xz: XzBlockTask[] = [];
  const xzTruth: Uint8Array[] = [];
  const xu = xzReader.units;
  for (const u of pick(xu.count)) {
    const offset = xu.cStart[u];
    const uncompressedSize = xu.dStart[u + 1] - xu.dStart[u];
    xz.push({ data: xzBytes.slice(offset, offset + padded4(xu.param[u])), offset, unpaddedSize: xu.param[u], uncompressedSize, checkType: xu.kind[u], file: 'bench' });
    xzTruth.push(csv.subarray(xu.dStart[u], xu.dStart[u + 1]));
  }
  await bzReader.close();
  await xzReader.close();
  return { bz, xz, bzTruth, xzTruth };
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

type Sample = { wall: number; cpu: number };
type Runner = (format: 'bz' | 'xz', candidate: string, i: number) => Promise<Sample>;

/** Interleaved rounds: block by block, every candidate in a rotating order. */
async function rounds(format: 'bz' | 'xz', candidates: readonly string[], count: number, run: Runner): Promise<Map<string, Sample[]>> {
  const samples = new Map<string, Sample[]>(candidates.map((c) => [c, []]));
  let turn = 0;
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < count; i++) {
      turn++;
      for (let k = 0; k < candidates.length; k++) {
        const c = candidates[(k + turn) % candidates.length];
        samples.get(c)?.push(await run(format, c, i));
      }
    }
  }
  return samples;
}

function report(title: string, baseline: string, samples: Map<string, Sample[]>): void {
  const base = samples.get(baseline) ?? [];
  const bw = median(base.map((s) => s.wall));
  const bc = median(base.map((s) => s.cpu));
  console.log(`\n${title} (n=${base.length} per candidate; ratio = candidate / ${baseline})`);
  console.log('| candidate | wall median ms | CPU median ms | wall ratio | CPU ratio |');
  console.log('|---|---|---|---|---|');
  for (const [c, s] of samples) {
    const w = median(s.map((x) => x.wall));
    const cpu = median(s.map((x) => x.cpu));
    console.log(`| ${c} | ${w.toFixed(2)} | ${cpu.toFixed(2)} | ${(w / bw).toFixed(2)} | ${(cpu / bc).toFixed(2)} |`);
  }
}

async function main(): Promise<void> {
  console.log(`load average at start: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const { bz, xz, bzTruth, xzTruth } = await loadBlocks();
  await closeSharedPool();
  await prepare();
  // Check every candidate's output once (this also warms them up).
  for (let i = 0; i < bz.length; i++) for (const c of BZ_CANDIDATES) if (!same(decodeBz(c, bz[i]), bzTruth[i])) throw new Error(`${c} decoded bzip2 block ${i} wrongly`);
  for (let i = 0; i < xz.length; i++) for (const c of XZ_CANDIDATES) if (!same(await decodeXz(c, xz[i]), xzTruth[i])) throw new Error(`${c} decoded xz block ${i} wrongly`);
  console.log(`outputs checked: ${bz.length} bzip2 blocks, ${xz.length} xz blocks, every candidate byte-identical to the CSV`);

  const inMain: Runner = async (format, c, i) =>
    format === 'bz' ? measure(() => decodeBz(c as (typeof BZ_CANDIDATES)[number], bz[i])) : measure(() => decodeXz(c as (typeof XZ_CANDIDATES)[number], xz[i]));
  report('bzip2 900 kB block, main thread', 'js', await rounds('bz', BZ_CANDIDATES, bz.length, inMain));
  report('xz 1 MiB block, main thread', 'lzma-native', await rounds('xz', XZ_CANDIDATES, xz.length, inMain));

  // tsx's loader registered in the worker before the .ts entry is imported (`--import tsx` in execArgv
  // registers it too late for a Worker's own entry in Node 20).
  const entry = new URL('./block-worker.ts', import.meta.url).href;
  const worker = new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`, { eval: true });
  const ask = (req: BlockRequest): Promise<BlockReply> =>
    new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.postMessage(req);
    });
  await ask({ type: 'init', bz, xz });
  // Warm-up in the worker: every candidate on every block once (WASM compile, JIT).
  for (let i = 0; i < bz.length; i++) for (const c of BZ_CANDIDATES) await ask({ type: 'run', format: 'bz', candidate: c, i });
  for (let i = 0; i < xz.length; i++) for (const c of XZ_CANDIDATES) await ask({ type: 'run', format: 'xz', candidate: c, i });
  const inWorker: Runner = async (format, c, i) =>
    format === 'bz'
      ? ask({ type: 'run', format, candidate: c as (typeof BZ_CANDIDATES)[number], i })
      : ask({ type: 'run', format, candidate: c as (typeof XZ_CANDIDATES)[number], i });
  report('bzip2 900 kB block, in a worker thread', 'js', await rounds('bz', BZ_CANDIDATES, bz.length, inWorker));
  report('xz 1 MiB block, in a worker thread', 'lzma-native', await rounds('xz', XZ_CANDIDATES, xz.length, inWorker));
  await worker.terminate();
  console.log(`\nload average at end: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
}

await main();
