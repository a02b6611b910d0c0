/**
 * zstd benchmark, ratios in one run: the ~100 MB synthetic CSV as a multi-frame seekable file (1 MiB
 * frames, written by seekdata) and as one frame (`zstd -3`). Sequential decode at parallelism 1 (inline)
 * and 2 (worker threads) next to `zstd -dc`; random reads (decode the frame holding an offset) next to one
 * frame decode. Each variant runs once per round, rounds interleaved; the best of the rounds is reported.
 *
 *   npx tsx bench/zstd.ts [--rounds 3] [--reads 40]
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { DATA_DIR, fmt, median, prng, saveResult, table, timeCommand } from './common.js';
import { writeSyntheticCsv } from './make-data.js';
import { FileSource } from '../src/sources/file-source.js';
import type { ByteSource } from '../src/sources/source.js';
import {
  FRAME_HAS_TABLE_CHECKSUM,
  decodeZstdFrame,
  frameAt,
  frameOf,
  scanZstd,
  streamZstdFrame,
  writeZstdSeekable,
  type ZstdEngine,
  type ZstdFrameTable,
} from '../src/readers/zstd/index.js';
import { fromZstdResponse, type ZstdJobResponse } from '../src/readers/zstd/worker.js';

const args = process.argv.slice(2);
const arg = (flag: string, fallback: number): number => {
  const i = args.indexOf(flag);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const ROUNDS = arg('--rounds', 3);
const READS = arg('--reads', 40);

async function prepare(): Promise<{ csv: string; multi: string; single: string }> {
  const csv = join(DATA_DIR, 'synth.csv');
  if (!existsSync(csv)) await writeSyntheticCsv({ mb: 100, out: DATA_DIR, name: 'synth', seed: 42 });
  const multi = `${csv}.1m.zst`;
  const single = `${csv}.zst`;
  if (!existsSync(multi)) {
    const out = createWriteStream(multi);
    const { createReadStream } = await import('node:fs');
    await writeZstdSeekable(createReadStream(csv, { highWaterMark: 1 << 20 }), async (bytes) => {
      if (!out.write(bytes)) await once(out, 'drain');
    }, { frameBytes: 1 << 20, level: 3 });
    out.end();
    await once(out, 'finish');
  }
  if (!existsSync(single)) {
    const made = spawnSync('sh', ['-c', `zstd -q -3 -c "${csv}" > "${single}"`], { stdio: 'inherit' });
    if (made.status !== 0) throw new Error('zstd failed');
  }
  return { csv, multi, single };
}

function task(source: ByteSource, t: ZstdFrameTable, i: number, data: Uint8Array, engine: ZstdEngine) {
  const tableChecksum = (t.flags[i] & FRAME_HAS_TABLE_CHECKSUM) !== 0 ? t.tableChecksum[i] : undefined;
  return { data, expectedLength: t.dStart[i + 1] - t.dStart[i], tableChecksum, offset: t.cStart[i], file: source.name, engine };
}

/** Decodes every frame in order with `parallel` frames in flight; returns the decoded byte count. */
async function decodeAll(source: ByteSource, t: ZstdFrameTable, run: (i: number, data: Uint8Array) => Promise<Uint8Array>, parallel: number): Promise<number> {
  let next = 0;
  let total = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < t.count) {
        const i = next++;
        const data = await source.read(t.cStart[i], t.cEnd[i] - t.cStart[i]);
        const bytes = await run(i, data);
        total += bytes.length;
      }
    }),
  );
  return total;
}

/** Child mode: decode the one-frame file one way and print the process's peak RSS (bytes). */
async function peak(mode: string, single: string): Promise<void> {
  const source = await FileSource.open(single);
  const t = await scanZstd(source);
  let n = 0;
  if (mode === 'none') {
    n = t.dStart[1];
  } else if (mode === 'stream') {
    for await (const piece of streamZstdFrame(source, frameOf(t, 0), 8 << 20)) n += piece.length;
  } else {
    const data = await source.read(0, source.size);
    n = (await decodeZstdFrame({ data, expectedLength: t.dStart[1], offset: 0, file: source.name, engine: 'native' })).length;
  }
  if (n !== t.dStart[1]) throw new Error('short decode');
  console.log(JSON.stringify({ maxRss: process.resourceUsage().maxRSS * 1024 }));
}

function peakRssOf(mode: string): number {
  const child = spawnSync(process.execPath, ['--import', 'tsx', 'bench/zstd.ts', '--peak', mode], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`peak ${mode} failed: ${child.stderr}`);
  return (JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}') as { maxRss: number }).maxRss;
}

async function main(): Promise<void> {
  const { csv, multi, single } = await prepare();
  const peakMode = args.indexOf('--peak');
  if (peakMode >= 0) return peak(args[peakMode + 1], single);
  const size = statSync(csv).size;
  const multiSource = await FileSource.open(multi);
  const singleSource = await FileSource.open(single);
  let scanMs = performance.now();
  const multiTable = await scanZstd(multiSource);
  scanMs = performance.now() - scanMs;
  const singleTable = await scanZstd(singleSource);
  if (multiTable.dStart[multiTable.count] !== size || singleTable.dStart[1] !== size) throw new Error('frame tables do not cover the CSV');

  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const pool = new Piscina({ filename: new URL('../src/readers/zstd/worker.ts', import.meta.url).href, execArgv: ['--import', tsx], minThreads: 2, maxThreads: 2 });
  const inWorker = (engine: ZstdEngine) => async (i: number, data: Uint8Array): Promise<Uint8Array> => {
    // A fresh copy that owns its buffer, moved to the worker (the file source may hand out views).
    const own = data.slice();
    const job = { op: 'decode', task: task(multiSource, multiTable, i, own, engine) };
    return fromZstdResponse((await pool.run(job, { transferList: [own.buffer] })) as ZstdJobResponse).bytes;
  };
  const inline = (engine: ZstdEngine) => (i: number, data: Uint8Array): Promise<Uint8Array> => decodeZstdFrame(task(multiSource, multiTable, i, data, engine));
  // Warm up both engines in both workers and inline.
  for (const engine of ['native', 'wasm'] as const) {
    await Promise.all([0, 1, 2, 3].map(async (i) => inWorker(engine)(i, await multiSource.read(multiTable.cStart[i], multiTable.cEnd[i] - multiTable.cStart[i]))));
    await inline(engine)(0, await multiSource.read(multiTable.cStart[0], multiTable.cEnd[0] - multiTable.cStart[0]));
  }

  const check = (n: number): void => {
    if (n !== size) throw new Error(`decoded ${n} bytes, expected ${size}`);
  };
  const variants: Record<string, () => Promise<void>> = {
    'zstd -dc, multi-frame': async () => void timeCommand(`zstd -dc "${multi}" > /dev/null`),
    'zstd -dc, one frame': async () => void timeCommand(`zstd -dc "${single}" > /dev/null`),
    'multi-frame, native, P=1 inline': async () => check(await decodeAll(multiSource, multiTable, inline('native'), 1)),
    'multi-frame, wasm, P=1 inline': async () => check(await decodeAll(multiSource, multiTable, inline('wasm'), 1)),
    'multi-frame, native, 2 in flight inline (libuv pool)': async () => check(await decodeAll(multiSource, multiTable, inline('native'), 2)),
    'multi-frame, native, P=2 workers': async () => check(await decodeAll(multiSource, multiTable, inWorker('native'), 4)),
    'multi-frame, wasm, P=2 workers': async () => check(await decodeAll(multiSource, multiTable, inWorker('wasm'), 4)),
    'one frame, native one-shot (whole frame in memory)': async () => {
      const data = await singleSource.read(0, singleSource.size);
      check((await decodeZstdFrame({ data, expectedLength: size, offset: 0, file: singleSource.name, engine: 'native' })).length);
    },
    'one frame, streamed (wasm, 8 MiB pieces)': async () => {
      let n = 0;
      for await (const piece of streamZstdFrame(singleSource, frameOf(singleTable, 0), 8 << 20)) n += piece.length;
      check(n);
    },
  };
  const best: Record<string, number> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of Object.entries(variants)) {
      const t = performance.now();
      await run();
      best[name] = Math.min(best[name] ?? Infinity, performance.now() - t);
    }
  }

  // Random reads: the frame holding a random offset, read from the file and decoded (no cache), next to
  // the decode alone of a frame already in memory.
  const rand = prng(7);
  const offsets = Array.from({ length: READS }, () => Math.floor(rand() * size));
  const randomMs: number[] = [];
  const decodeMs: number[] = [];
  for (const offset of offsets) {
    let t = performance.now();
    const i = frameAt(multiTable, offset);
    const data = await multiSource.read(multiTable.cStart[i], multiTable.cEnd[i] - multiTable.cStart[i]);
    const bytes = await decodeZstdFrame(task(multiSource, multiTable, i, data, 'native'));
    const got = bytes.subarray(offset - multiTable.dStart[i], offset - multiTable.dStart[i] + 100);
    randomMs.push(performance.now() - t);
    if (got.length === 0) throw new Error('empty read');
    t = performance.now();
    await decodeZstdFrame(task(multiSource, multiTable, i, data, 'native'));
    decodeMs.push(performance.now() - t);
  }
  const singleMs: number[] = [];
  for (const offset of offsets.slice(0, 5)) {
    const t = performance.now();
    let at = 0;
    for await (const piece of streamZstdFrame(singleSource, frameOf(singleTable, 0), 1 << 20)) {
      at += piece.length;
      if (at > offset + 100) break;
    }
    singleMs.push(performance.now() - t);
  }
  await pool.destroy();

  const cliMulti = best['zstd -dc, multi-frame'];
  const cliSingle = best['zstd -dc, one frame'];
  const rows = Object.entries(best).map(([name, ms]) => {
    const cli = name.includes('one frame') ? cliSingle : cliMulti;
    return [name, fmt(ms, 0), fmt(size / 1e3 / ms, 0), fmt(cli / ms, 2)];
  });
  const rm = median(randomMs);
  const dm = median(decodeMs);
  const sm = median(singleMs);
  console.log(`\n${fmt(size / 1e6)} MB CSV; multi-frame ${fmt(statSync(multi).size / 1e6)} MB (${multiTable.count} frames, seek table read in ${fmt(scanMs)} ms); one frame ${fmt(statSync(single).size / 1e6)} MB; best of ${ROUNDS}\n`);
  console.log(table(['sequential decode', 'ms', 'MB/s', 'x zstd -dc'], rows));
  const peakBase = peakRssOf('none');
  const peakStream = peakRssOf('stream');
  const peakNative = peakRssOf('native');
  console.log(
    `\npeak RSS of a process decoding the one-frame file: streamed ${fmt(peakStream / 1e6)} MB, native one-shot ${fmt(peakNative / 1e6)} MB (scan only: ${fmt(peakBase / 1e6)} MB)\n`,
  );
  console.log(
    table(
      ['random read (100 B at a random offset, no cache)', 'median ms', 'x one frame decode'],
      [
        ['multi-frame: frame read + decode', fmt(rm, 2), fmt(rm / dm, 2)],
        ['one 1 MiB frame decode (bytes in memory)', fmt(dm, 2), '1.00'],
        ['one frame file: stream from the start to the offset', fmt(sm, 0), fmt(sm / dm, 0)],
      ],
    ),
  );
  saveResult('zstd', { sizeBytes: size, frames: multiTable.count, rounds: ROUNDS, sequentialMs: best, randomReadMs: rm, frameDecodeMs: dm, singleFrameRandomMs: sm, scanOnlyPeakRssBytes: peakBase, streamPeakRssBytes: peakStream, nativeOneShotPeakRssBytes: peakNative });
  await multiSource.close();
  await singleSource.close();
}

await main();
