/**
 * Hostile review of owned reads (a FileSource's reads are moved to the worker that decodes them, leaving
 * the calling thread's array detached) and of xz's per-thread scratch stream: every path that could touch
 * a read after posting it — damaged units read again and again (xz's fallback decoder on the same task,
 * in a worker and in the calling thread), re-reads of chunks the cache dropped, steps run in the decode
 * job with the bytes kept, steps run on cached chunks, the pieces of big units, the indexing pass,
 * records, shuffled datasets, a collection, the bzip2 / gzip / zstd scans, recordChecks, the CLI's index
 * and cat, recompress, an aborted pass, a pool closed mid-read — run against files on disk (FileSource),
 * at parallelism 1 and 2, and every byte is compared with the plain input.
 * A use of a detached array shows as wrong bytes, an empty read, or a TypeError / RangeError instead of
 * a typed SeekdataError.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { closeSharedPool, isSeekdataError, openCollection, openIndexed, openReader, recompress, ShuffledBatchDataset, WorkerPool, type SeekableReader } from '../src/index.js';
import { runCli } from '../src/cli/main.js';
import { compressStep } from '../src/readers/write/steps.js';
import { MemorySource } from '../src/sources/source.js';
import { padded4, parseXzContainer } from '../src/readers/xz/container.js';
import { decodeXzBlockFast, loadFastXz } from '../src/readers/xz/napi.js';
import { syntheticXzStream } from '../src/readers/xz/synthetic.js';
import { bzip2, run, tempDir, writeFixture, xz } from './support/fixtures.js';

const { dir, cleanup } = tempDir('seekdata-trust-owned-');
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
afterAll(async () => {
  cleanup();
  await closeSharedPool();
});

// CSV whose records are known: `id,x,y` with x = id % 97 and y = id % 5.
const ROWS = 180_000;
const csv = Buffer.from(`id,x,y\n${Array.from({ length: ROWS }, (_, i) => `${i},${i % 97},${i % 5}`).join('\n')}\n`);

/** The input cut into `n` parts at line ends, each compressed on its own: a file of several members / frames. */
function parts(n: number, compress: (b: Uint8Array) => Buffer): Buffer {
  const out: Buffer[] = [];
  let from = 0;
  for (let k = 1; k <= n; k++) {
    const to = k === n ? csv.length : csv.indexOf(0x0a, Math.floor((csv.length * k) / n)) + 1;
    out.push(compress(csv.subarray(from, to)));
    from = to;
  }
  return Buffer.concat(out);
}

/** zstd of `b` through a file: the frame header then states the content size (units found without decoding). */
function zstdSized(b: Uint8Array): Buffer {
  const path = writeFixture(dir, `part-${sha(b).slice(0, 12)}`, b);
  return run('zstd', ['-q', '-c', path]);
}

const fixtures: Record<string, Buffer> = {
  'd.csv': csv,
  'd.csv.xz': xz(csv, '--block-size=65536'),
  'd.csv.bz2': bzip2(csv, 1),
  'd.csv.gz': parts(4, (b) => run('gzip', ['-c'], b)),
  'd.bgzf.csv.gz': run('bgzip', ['-c'], csv),
  // From stdin: frames without a content size, found by the zstd scan.
  'd.csv.zst': parts(5, (b) => run('zstd', ['-q', '-c'], b)),
  'd.sized.csv.zst': parts(5, zstdSized),
};
const paths: Record<string, string> = {};
for (const [name, bytes] of Object.entries(fixtures)) paths[name] = writeFixture(dir, name, bytes);

/** A typed error, or the untyped one (a TypeError on a detached buffer) as text, for an assertion that shows it. */
async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (error) {
    return isSeekdataError(error) ? error.code : `untyped ${String(error)}`;
  }
}

async function streamAll(reader: SeekableReader, from = 0): Promise<Buffer> {
  const out: Uint8Array[] = [];
  for await (const piece of reader.stream(from)) out.push(piece);
  return Buffer.concat(out);
}

/** Reads across chunk boundaries, twice (the cache keeps at most one chunk: the second pass decodes again). */
async function randomReads(reader: SeekableReader, truth: Uint8Array): Promise<void> {
  const starts = reader.layout.start;
  const spots: Array<[number, number]> = [];
  for (let c = 1; c < reader.layout.count; c++) spots.push([Math.max(0, starts[c] - 100), 300]);
  spots.push([0, 10], [truth.length - 50, 50], [Math.floor(truth.length / 3), 70_000]);
  for (let pass = 0; pass < 2; pass++) {
    // Concurrent reads: jobs of one reader in flight together.
    const got = await Promise.all(spots.map(([o, n]) => reader.read(o, Math.min(n, truth.length - o))));
    got.forEach((bytes, k) => {
      const [o, n] = spots[k];
      expect(sha(bytes), `${reader.name} read(${o}, ${n}) pass ${pass}`).toBe(sha(truth.subarray(o, o + Math.min(n, truth.length - o))));
    });
  }
}

describe.each([1, 2])('FileSource-backed files at parallelism %i', (parallelism) => {
  it.each(Object.keys(fixtures))('%s: streams, concurrent random reads and re-reads give the input', async (name) => {
    for (const inlineDecodeBytes of parallelism === 1 ? [0] : [0, 4 << 20]) {
      const reader = await openReader(paths[name], { parallelism, index: false, gzipSpacingBytes: 65536, cacheBytes: 1, inlineDecodeBytes });
      try {
        expect(reader.layout.count).toBeGreaterThan(1);
        expect(sha(await streamAll(reader))).toBe(sha(csv));
        await randomReads(reader, csv);
        expect(sha(await streamAll(reader, 12_345))).toBe(sha(csv.subarray(12_345)));
      } finally {
        await reader.close();
      }
    }
  });

  it.each(Object.keys(fixtures))('%s: a step run in the decode job, bytes kept: both the bytes and the step saw the input', async (name) => {
    const reader = await openReader(paths[name], { parallelism, index: false, gzipSpacingBytes: 65536, cacheBytes: 1 });
    try {
      for (let pass = 0; pass < 2; pass++) {
        const done = await Promise.all(Array.from({ length: reader.layout.count }, (_, c) => reader.decodeWith(c, { step: compressStep.call({ format: 'gzip', level: 1 }) })));
        done.forEach((d, c) => {
          const truth = csv.subarray(reader.layout.start[c], reader.layout.start[c + 1]);
          expect(sha(d.bytes), `${name} chunk ${c} bytes`).toBe(sha(truth));
          expect(sha(gunzipSync(compressStep.result(d.step).bytes)), `${name} chunk ${c} step`).toBe(sha(truth));
        });
      }
    } finally {
      await reader.close();
    }
    // Chunks in the cache (for plain text: the reads themselves): the step gets a copy, the cache keeps them.
    const cached = await openReader(paths[name], { parallelism, index: false, gzipSpacingBytes: 65536 });
    try {
      const whole = (): Promise<Uint8Array[]> => Promise.all(Array.from({ length: cached.layout.count }, (_, c) => cached.read(cached.layout.start[c], cached.layout.start[c + 1] - cached.layout.start[c])));
      expect(sha(Buffer.concat(await whole()))).toBe(sha(csv));
      const done = await Promise.all(Array.from({ length: cached.layout.count }, (_, c) => cached.decodeWith(c, { step: compressStep.call({ format: 'gzip', level: 1 }) })));
      done.forEach((d, c) => expect(sha(gunzipSync(compressStep.result(d.step).bytes))).toBe(sha(csv.subarray(cached.layout.start[c], cached.layout.start[c + 1]))));
      expect(cached.stats.cacheHits).toBeGreaterThanOrEqual(cached.layout.count);
      expect(sha(Buffer.concat(await whole()))).toBe(sha(csv));
    } finally {
      await cached.close();
    }
  });

  it.each(Object.keys(fixtures))('%s: the indexing pass (steps on moved reads), records and a shuffled dataset give the input', async (name) => {
    const f = await openIndexed(paths[name], { records: 'csv', index: false, gzipSpacingBytes: 65536, parallelism, cacheBytes: 1 });
    try {
      expect(f.records.count).toBe(ROWS);
      const picks = [0, 1, 4_999, 30_000, ROWS - 1];
      const got = await f.records.getMany(picks);
      picks.forEach((i, k) => expect(Buffer.from(got[k]).toString()).toBe(`${i},${i % 97},${i % 5}`));
      const seen = new Uint8Array(ROWS);
      let wrong = 0;
      for await (const b of new ShuffledBatchDataset(f, { batchSize: 8192, features: ['x'], labels: 'y', shuffle: 'chunked', seed: 3 })) {
        for (let r = 0; r < b.size; r++) {
          const id = b.records[r];
          seen[id]++;
          if (b.xs[r] !== id % 97 || b.ys?.[r] !== id % 5) wrong++;
        }
      }
      expect(wrong).toBe(0);
      expect(seen.every((n) => n === 1)).toBe(true);
    } finally {
      await f.close();
    }
  });
});

describe.each([1, 2])('damaged units read through a fresh index, at parallelism %i: typed errors every time, the rest intact', (parallelism) => {
  // The index is built from the intact file; then one byte in the middle of a middle unit is flipped (not
  // in the first or last 64 KiB, same size, same mtime: the index stays fresh), so opening decodes nothing
  // and each read of that unit fails its check (xz: the fast backend fails and lzma-native decodes the
  // same task again; inline at parallelism 1, in a worker at 2).
  it.each(Object.keys(fixtures).filter((n) => n !== 'd.csv'))('%s', async (name) => {
    const path = writeFixture(dir, `bad-${parallelism}-${name}`, fixtures[name]);
    // A whole second: the stamp set again after the damage is then exactly the one the index recorded.
    const stamp = 1_700_000_000;
    utimesSync(path, stamp, stamp);
    const indexDir = join(dir, `idx-bad-${parallelism}`);
    mkdirSync(indexDir, { recursive: true });
    const intact = await openReader(path, { index: indexDir, gzipSpacingBytes: 65536, parallelism: 1 });
    const u = Math.floor(intact.units.count / 2);
    const scale = intact.format === 'gzip' || intact.format === 'bzip2' ? 8 : 1;
    const at = Math.floor((intact.units.cStart[u] + intact.units.cEnd[u]) / 2 / scale);
    await intact.close();
    expect(at).toBeGreaterThan(64 << 10);
    expect(at).toBeLessThan(fixtures[name].length - (64 << 10));
    const bytes = Buffer.from(fixtures[name]);
    bytes[at] ^= 0x55;
    writeFileSync(path, bytes);
    utimesSync(path, stamp, stamp);

    const reader = await openReader(path, { index: indexDir, ifStale: 'error', parallelism, cacheBytes: 1 });
    try {
      expect(reader.indexStatus).toBe('loaded');
      const c = reader.layout.firstChunk[u];
      const span = (k: number): [number, number] => [reader.layout.start[k], reader.layout.start[k + 1] - reader.layout.start[k]];
      for (let pass = 0; pass < 3; pass++) {
        // The whole chunk (a prefix of a gzip span may be decoded alone, checked by its sub-span's CRC-32).
        expect(await failure(reader.read(...span(c)))).toBe('CORRUPT_DATA');
        // Its neighbours, read before and after the failure, are right.
        const before = reader.layout.start[c] - 500;
        expect(sha(await reader.read(before, 500))).toBe(sha(csv.subarray(before, before + 500)));
        const after = reader.layout.start[c + 1];
        expect(sha(await reader.read(after, 500))).toBe(sha(csv.subarray(after, after + 500)));
      }
      expect(await failure(streamAll(reader))).toBe('CORRUPT_DATA');
      // A concurrent read of every chunk: the damaged one fails, every other one is right.
      const all = await Promise.allSettled(Array.from({ length: reader.layout.count }, (_, k) => reader.read(...span(k))));
      all.forEach((o, k) => {
        const [from, length] = span(k);
        if (reader.layout.unit[k] === u) expect(o.status === 'rejected' && isSeekdataError(o.reason, 'CORRUPT_DATA') ? 'CORRUPT_DATA' : String(o.status === 'rejected' ? o.reason : 'resolved')).toBe('CORRUPT_DATA');
        else expect(o.status === 'fulfilled' ? sha(o.value) : String(o.reason)).toBe(sha(csv.subarray(from, from + length)));
      });
    } finally {
      await reader.close();
    }
  });

  // Without an index: a scan stops at the damage; with allowDamage the intact part reads right.
  it.each(['d.csv.bz2', 'd.csv.gz', 'd.csv.zst'])('%s, scanned', async (name) => {
    const bytes = Buffer.from(fixtures[name]);
    bytes[Math.floor(bytes.length * 0.6)] ^= 0x55;
    const path = writeFixture(dir, `scan-bad-${parallelism}-${name}`, bytes);
    expect(await failure(openReader(path, { index: false, parallelism }))).toMatch(/^(CORRUPT_DATA|TRUNCATED)$/);
    const reader = await openReader(path, { index: false, gzipSpacingBytes: 65536, parallelism, allowDamage: true, cacheBytes: 1 });
    try {
      expect(reader.damage).toBeDefined();
      expect(reader.size).toBeGreaterThan(0);
      expect(reader.size).toBeLessThan(csv.length);
      expect(sha(await streamAll(reader))).toBe(sha(csv.subarray(0, reader.size)));
      await randomReads(reader, csv.subarray(0, reader.size));
    } finally {
      await reader.close();
    }
  });
});

describe('big units read in pieces (streamed in the calling thread)', () => {
  it.each([
    ['one-block.csv.xz', (b: Uint8Array) => xz(b)],
    ['one-frame.csv.zst', (b: Uint8Array) => run('zstd', ['-q', '-c'], b)],
  ] as const)('%s', async (name, compress) => {
    const path = writeFixture(dir, name, compress(csv));
    for (const parallelism of [1, 2]) {
      for (const verify of ['full', 'lazy'] as const) {
        const reader = await openReader(path, { index: false, gzipSpacingBytes: 65536, parallelism, cacheBytes: 1, bigUnitBytes: 128 << 10, pieceBytes: 32 << 10, verify });
        try {
          expect(reader.layout.count).toBeGreaterThan(4);
          await randomReads(reader, csv);
          expect(sha(await streamAll(reader))).toBe(sha(csv));
        } finally {
          await reader.close();
        }
      }
    }
  });
});

describe('paths around the readers', () => {
  it('recordChecks on zstd frames without checksums: recorded by a decode of moved reads, then every read checked', async () => {
    const path = writeFixture(dir, 'nocheck.csv.zst', parts(4, (b) => run('zstd', ['-q', '-c', '--no-check'], b)));
    const indexDir = join(dir, 'idx-nocheck');
    mkdirSync(indexDir, { recursive: true });
    for (const parallelism of [1, 2]) {
      const reader = await openReader(path, { index: indexDir, parallelism, recordChecks: true, rebuild: true, cacheBytes: 1 });
      try {
        await randomReads(reader, csv);
        expect(sha(await streamAll(reader))).toBe(sha(csv));
      } finally {
        await reader.close();
      }
    }
  });

  it('an aborted indexing pass rejects ABORTED; the next open of the same file reads right', async () => {
    for (const name of ['d.csv', 'd.csv.bz2', 'd.csv.gz', 'd.csv.xz']) {
      const controller = new AbortController();
      const opening = openIndexed(paths[name], {
        records: 'csv',
        index: false, gzipSpacingBytes: 65536,
        parallelism: 2,
        signal: controller.signal,
        onProgress: () => controller.abort(new Error('stop')),
      });
      expect(await failure(opening.then((f) => f.close()))).toBe('ABORTED');
      const f = await openIndexed(paths[name], { records: 'csv', index: false, gzipSpacingBytes: 65536, parallelism: 2 });
      try {
        expect(f.records.count).toBe(ROWS);
        expect(Buffer.from(await f.records.get(ROWS - 1)).toString()).toBe(`${ROWS - 1},${(ROWS - 1) % 97},${(ROWS - 1) % 5}`);
      } finally {
        await f.close();
      }
    }
  });

  it('a pool closed mid-read: typed errors (never a detached buffer), and a new pool reads the file right', async () => {
    for (const name of ['d.csv.xz', 'd.csv.zst', 'd.bgzf.csv.gz', 'd.csv']) {
      const pool = new WorkerPool({ size: 2 });
      const reader = await openReader(paths[name], { index: false, gzipSpacingBytes: 65536, parallelism: 2, pool, cacheBytes: 1, inlineDecodeBytes: 0 });
      try {
        const reads = Array.from({ length: reader.layout.count }, (_, c) => reader.read(reader.layout.start[c], 100));
        const closing = pool.close();
        const outcomes = await Promise.allSettled(reads);
        await closing;
        outcomes.forEach((o, c) => {
          const at = reader.layout.start[c];
          if (o.status === 'fulfilled') expect(sha(o.value)).toBe(sha(csv.subarray(at, at + 100)));
          else expect(isSeekdataError(o.reason) ? 'typed' : `untyped ${String(o.reason)}`).toBe('typed');
        });
      } finally {
        await reader.close();
      }
      const again = await openReader(paths[name], { index: false, gzipSpacingBytes: 65536, parallelism: 2, cacheBytes: 1 });
      try {
        expect(sha(await streamAll(again))).toBe(sha(csv));
      } finally {
        await again.close();
      }
    }
  });

  it('seekdata cat writes every byte of each format, at -p 1 and -p 2', async () => {
    class Sink extends Writable {
      readonly chunks: Buffer[] = [];
      override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
        this.chunks.push(Buffer.from(chunk));
        done();
      }
    }
    for (const name of Object.keys(fixtures)) {
      for (const p of ['1', '2']) {
        const stdout = new Sink();
        const stderr = new Sink();
        const code = await runCli(['cat', '--no-index', '-p', p, paths[name]], { stdout, stderr });
        expect(code, Buffer.concat(stderr.chunks).toString()).toBe(0);
        expect(sha(Buffer.concat(stdout.chunks)), `cat -p ${p} ${name}`).toBe(sha(csv));
      }
    }
  });

  it('a collection of files of every format: records across members and a shuffled dataset give the input', async () => {
    const shards = join(dir, 'shards');
    mkdirSync(shards, { recursive: true });
    // Each member holds the whole input (header included): member k's record i is record k * ROWS + i.
    const names = ['d.csv', 'd.csv.xz', 'd.bgzf.csv.gz', 'd.csv.zst'];
    names.forEach((name, k) => writeFileSync(join(shards, `${k}-${name}`), fixtures[name]));
    for (const parallelism of [1, 2]) {
      const coll = await openCollection(join(shards, '*'), { records: 'csv', index: false, parallelism, cacheBytes: 1, gzipSpacingBytes: 65536 });
      try {
        expect(coll.records.count).toBe(names.length * ROWS);
        const picks = names.flatMap((_, k) => [k * ROWS, k * ROWS + 77_777, k * ROWS + ROWS - 1]);
        const got = await coll.records.getMany(picks);
        picks.forEach((r, j) => {
          const i = r % ROWS;
          expect(Buffer.from(got[j]).toString()).toBe(`${i},${i % 97},${i % 5}`);
        });
        let wrong = 0;
        let rows = 0;
        for await (const b of new ShuffledBatchDataset(coll, { batchSize: 16_384, features: ['x'], labels: 'y', shuffle: 'chunked', seed: 5 })) {
          for (let r = 0; r < b.size; r++) {
            const i = b.records[r] % ROWS;
            if (b.xs[r] !== i % 97 || b.ys?.[r] !== i % 5) wrong++;
          }
          rows += b.size;
        }
        expect(wrong).toBe(0);
        expect(rows).toBe(names.length * ROWS);
      } finally {
        await coll.close();
      }
    }
  });

  it('seekdata index (recordChecks) then cat through the index it wrote', async () => {
    class Sink extends Writable {
      readonly chunks: Buffer[] = [];
      override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
        this.chunks.push(Buffer.from(chunk));
        done();
      }
    }
    const nocheck = writeFixture(dir, 'cli-nocheck.csv.zst', parts(3, (b) => run('zstd', ['-q', '-c', '--no-check'], b)));
    for (const path of [nocheck, writeFixture(dir, 'cli.csv.xz', fixtures['d.csv.xz']), writeFixture(dir, 'cli.csv.bz2', fixtures['d.csv.bz2'])]) {
      for (const p of ['1', '2']) {
        const err = new Sink();
        expect(await runCli(['index', '-p', p, path], { stdout: new Sink(), stderr: err }), Buffer.concat(err.chunks).toString()).toBe(0);
        const out = new Sink();
        expect(await runCli(['cat', '-p', p, path], { stdout: out, stderr: err }), Buffer.concat(err.chunks).toString()).toBe(0);
        expect(sha(Buffer.concat(out.chunks)), `index + cat -p ${p} ${path}`).toBe(sha(csv));
      }
    }
  });

  it('recompress from files of each format gives the input back', async () => {
    for (const name of ['d.csv', 'd.csv.bz2', 'd.csv.gz', 'd.csv.xz']) {
      for (const parallelism of [1, 2]) {
        const out = join(dir, `re-${parallelism}-${name}.zst`);
        await recompress(paths[name], out, { parallelism, unitBytes: 100_000, overwrite: true });
        expect(sha(run('zstd', ['-d', '-q', '-c'], readFileSync(out))), `${name} -> zst at ${parallelism}`).toBe(sha(csv));
      }
    }
  });
});

describe("xz's scratch stream (both fast backends decode it synchronously)", () => {
  it('a decoded block shares no memory with the scratch buffer, and stays right after the next blocks are decoded', async () => {
    const backends = (await loadFastXz()).filter((b) => b !== 'lzma-native');
    expect(backends.length).toBeGreaterThan(0);
    const file = new Uint8Array(fixtures['d.csv.xz']);
    const blocks = await parseXzContainer(new MemorySource(file, 'd.csv.xz'));
    expect(blocks.length).toBeGreaterThan(4);
    for (const backend of backends) {
      const kept: Array<{ bytes: Uint8Array; from: number }> = [];
      let at = 0;
      for (const b of blocks) {
        const data = file.slice(b.offset, b.offset + padded4(b.unpaddedSize));
        const r = decodeXzBlockFast({ ...b, data, file: 'd.csv.xz' }, [backend]);
        expect(r.decoder).toBe(backend);
        kept.push({ bytes: r.bytes, from: at });
        at += b.uncompressedSize;
      }
      // The scratch buffer, as the next call gets it: overwritten with garbage.
      const scratch = syntheticXzStream(new Uint8Array(60_000).fill(0xaa), blocks[0], true);
      scratch.fill(0x55);
      for (const { bytes, from } of kept) {
        expect(bytes.buffer).not.toBe(scratch.buffer);
        expect(sha(bytes), `${backend} block at ${from}`).toBe(sha(csv.subarray(from, from + bytes.length)));
      }
      expect(at).toBe(csv.length);
    }
  });
});
