/**
 * `npx tsx bench/xz-one-block.ts [MB] [rounds]` — an xz file written as one block (what plain `xz FILE` writes),
 * read front to back: the block streamed in pieces as seekdata reads a block over `bigUnitBytes`, by
 * node-liblzma's engine (liblzma-stream.ts, the decoder used where node-liblzma loads) and by lzma-native
 * (block.ts, the one before it and the fallback), next to `xz -dc` and to `reader.stream()` of the file with a
 * `bigUnitBytes` under its size (the public path: a verifying pass over the block, then its pieces). The first
 * MB (default 30) of the bench CSV, compressed once into bench/data (xz -6, one thread: ~20 s); rounds
 * alternate every variant (medians, and the median of each round's ratio to `xz -dc`).
 */
import { execSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeSharedPool, openReader } from '../src/index.js';
import { MemorySource } from '../src/sources/source.js';
import { XzBlockDecoder, type XzBlockStream } from '../src/readers/xz/block.js';
import { padded4, parseXzContainer } from '../src/readers/xz/container.js';
import { loadLiblzmaEngine } from '../src/readers/xz/liblzma-into.js';
import { LiblzmaBlockDecoder } from '../src/readers/xz/liblzma-stream.js';
import { benchData, DATA_DIR, fmt, machine, median, pairedRatio, table, timeCommand } from './common.js';

const MB = Number(process.argv[2] ?? 30);
const ROUNDS = Number(process.argv[3] ?? 5);
/** The feed and output sizes of seekdata's piece reads (pieces.ts STEPS). */
const FEED = 256 << 10;
const OUT = 1 << 20;

const csv = benchData().csv;
const file = join(DATA_DIR, `synth-${MB}mb.one-block.csv.xz`);
if (!existsSync(file)) {
  writeFileSync(`${file}.csv`, readFileSync(csv).subarray(0, MB * 1_000_000));
  execSync(`xz -6 -T1 -c ${file}.csv > ${file} && rm ${file}.csv`);
}
const bytes = new Uint8Array(readFileSync(file));
const [block, ...others] = await parseXzContainer(new MemorySource(bytes, file));
if (others.length > 0) throw new Error(`${file}: ${others.length + 1} blocks, expected one`);
const data = bytes.subarray(block.offset, block.offset + padded4(block.unpaddedSize));
const meta = { ...block, file };
const engine = await loadLiblzmaEngine();

function streamAll(decoder: XzBlockStream): number {
  let n = 0;
  for (let at = 0; at < data.length; at += FEED) for (const p of decoder.feed(data.subarray(at, at + FEED))) n += p.length;
  for (const p of decoder.finish()) n += p.length;
  decoder.dispose();
  if (n !== block.uncompressedSize) throw new Error(`decoded ${n} bytes, expected ${block.uncompressedSize}`);
  return n;
}

const timed = (fn: () => unknown): number => {
  const s = performance.now();
  fn();
  return performance.now() - s;
};
const runs: Record<string, () => Promise<number>> = {
  'xz -dc': async () => timeCommand(`xz -dc ${file} > /dev/null`),
  'node-liblzma engine, streamed (seekdata)': async () => timed(() => streamAll(new LiblzmaBlockDecoder(engine, meta, OUT))),
  'lzma-native, streamed (before; the fallback)': async () => timed(() => streamAll(new XzBlockDecoder(meta, OUT))),
  'reader.stream(), bigUnitBytes 8 MiB (verify pass + pieces)': async () => {
    const s = performance.now();
    const reader = await openReader(file, { index: false, bigUnitBytes: 8 << 20 });
    let n = 0;
    for await (const p of reader.stream()) n += p.length;
    await reader.close();
    if (n !== block.uncompressedSize) throw new Error(`streamed ${n} bytes`);
    return performance.now() - s;
  },
};
const samples: Record<string, number[]> = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
const names = Object.keys(runs);
for (let r = 0; r < ROUNDS; r++) for (const name of r % 2 === 0 ? names : [...names].reverse()) samples[name].push(await runs[name]());
await closeSharedPool();

console.log(`xz one block: ${(block.uncompressedSize / 1e6).toFixed(1)} MB CSV in one ${(data.length / 1e6).toFixed(1)} MB block, ${machine()}; ${ROUNDS} alternated rounds`);
const base = samples['xz -dc'];
console.log(
  table(
    ['read', 'median', 'MB/s', 'time / xz -dc (median of the rounds)'],
    names.map((name) => [name, `${fmt(median(samples[name]), 0)} ms`, fmt(block.uncompressedSize / 1e3 / median(samples[name]), 1), `${fmt(pairedRatio(samples[name], base), 2)}×`]),
  ),
);
