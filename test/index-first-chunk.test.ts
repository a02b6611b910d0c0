/**
 * The index pass decodes its first unit once: the bytes it reads the CSV header from (decoded by a pool
 * worker, for bzip2 by libbzip2 there instead of the JS decoder in the calling thread) are the first
 * chunk's bytes for the pass, which then only analyses them. A block or frame read in pieces (over
 * bigUnitBytes) is streamed once: the pass goes on with the stream that decoded its first piece for the
 * header. A counting runner around the shared pool sees every job; the index built must equal the truth
 * either way, and damage in the first unit must still be the typed error naming the file and the place.
 */
import { crc32 } from 'node:zlib';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { closeSharedPool, openIndexed } from '../src/index.js';
import { streams } from '../src/readers/format.js';
import { formatOf } from '../src/readers/formats.js';
import { sharedPool, type JobRunner } from '../src/workers/pool.js';
import type { WorkerJob } from '../src/workers/jobs.js';
import { bzip2, run, tempDir, writeFixture, xz } from './support/fixtures.js';
import { zstdFile, zstdList } from './support/zstd.js';

const { dir, cleanup } = tempDir('seekdata-first-chunk-');
afterAll(async () => {
  cleanup();
  await closeSharedPool();
});

/** A CSV of `rows` records with a header and a time column, its text and the start of every record. */
function csv(rows: number): { text: Buffer; starts: number[] } {
  let s = 'time,a,b\n';
  const starts: number[] = [];
  for (let i = 0; i < rows; i++) {
    starts.push(s.length);
    s += `${new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString()},${(i % 97) / 8},${i % 13}\n`;
  }
  return { text: Buffer.from(s), starts };
}

/** The shared pool, recording each job's input kind and (for decodes) the task's place. */
function counting(): { runner: JobRunner; jobs: Array<{ kind: string; place: string; step: string | undefined }> } {
  const jobs: Array<{ kind: string; place: string; step: string | undefined }> = [];
  const runner: JobRunner = {
    run(job: WorkerJob, signal, transfer) {
      let place = '';
      if (job.input.kind === 'decode') {
        const task = job.input.task as Record<string, unknown>;
        place = JSON.stringify([task.base ?? task.cStart ?? task.offset, task.bitOffset ?? task.unit ?? '']);
      }
      jobs.push({ kind: job.input.kind, place, step: job.step?.name });
      return sharedPool().run(job, signal, transfer);
    },
  };
  return { runner, jobs };
}

const { text, starts } = csv(60_000); // ~2.4 MB: three bzip2 blocks at -9, several 1 MiB xz blocks

describe('the index pass decodes its first unit once', () => {
  it('bzip2: the first block is decoded by the runner once (for the header), the second beside it, and the pass only analyses them', async () => {
    const file = writeFixture(dir, 'first.csv.bz2', bzip2(text));
    const { runner, jobs } = counting();
    const f = await openIndexed(file, { records: 'csv', timeColumn: 'time', index: false, parallelism: 2, pool: runner });
    try {
      expect(f.records.count).toBe(starts.length);
      for (const i of [0, 1, 2, 30_000, starts.length - 1]) expect(f.records.start(i)).toBe(starts[i]);
      const decodes = jobs.filter((j) => j.kind === 'decode');
      // Each block decoded once: no place twice (the head's decode is the first block's only decode).
      expect(new Set(decodes.map((j) => j.place)).size).toBe(decodes.length);
      expect(decodes.length).toBe(f.reader.units.count);
      // The head is decoded without a step, and the second block beside it (the other worker would idle);
      // the pass's analysis of those two blocks runs on their bytes.
      expect(jobs.slice(0, 2).map((j) => [j.kind, j.step])).toEqual([
        ['decode', undefined],
        ['decode', undefined],
      ]);
      expect(jobs.filter((j) => j.kind === 'bytes' && j.step === 'analyze')).toHaveLength(2);
      expect(jobs.filter((j) => j.step === 'analyze')).toHaveLength(f.reader.units.count);
    } finally {
      await f.close();
    }
  });

  it('xz with a chunk map: each chunk is decoded once; chunk 1 beside chunk 0 while the header is read', async () => {
    const file = writeFixture(dir, 'first.csv.xz', xz(text, '--block-size=262144'));
    const { runner, jobs } = counting();
    const f = await openIndexed(file, { records: 'csv', timeColumn: 'time', index: false, parallelism: 2, pool: runner });
    try {
      expect(f.records.count).toBe(starts.length);
      const decodes = jobs.filter((j) => j.kind === 'decode');
      expect(new Set(decodes.map((j) => j.place)).size).toBe(decodes.length);
      expect(decodes.length).toBe(f.reader.layout.count);
      expect(jobs.filter((j) => j.step === 'analyze')).toHaveLength(f.reader.layout.count);
      // While chunk 0 decodes for the header, the other worker decodes chunk 1 (no step: the spec is not known yet).
      expect(jobs.slice(0, 2).map((j) => [j.kind, j.step])).toEqual([
        ['decode', undefined],
        ['decode', undefined],
      ]);
      expect(decodes[0].place).not.toBe(decodes[1].place);
    } finally {
      await f.close();
    }
  });

  it('xz as one block over bigUnitBytes (read in pieces): the block is streamed once, its first piece for the header and the rest by the pass', async () => {
    const file = writeFixture(dir, 'one-block.csv.xz', xz(text, '-T1'));
    // Each stream of the block decodes it from its start: a second one would decode the first piece again.
    const xzFormat = formatOf('xz');
    if (!streams(xzFormat)) throw new Error('xz reads big blocks as streams');
    const opened = vi.spyOn(xzFormat, 'stream');
    const piece = 256 << 10;
    try {
      const f = await openIndexed(file, { records: 'csv', timeColumn: 'time', index: false, parallelism: 2, bigUnitBytes: 1 << 20, pieceBytes: piece });
      try {
        expect(f.reader.units.count).toBe(1);
        expect(f.reader.layout.count).toBe(Math.ceil(text.length / piece));
        expect(opened).toHaveBeenCalledTimes(1);
        expect(Array.from({ length: f.records.count }, (_, i) => f.records.start(i))).toEqual(starts);
        // That one stream reached the block's check, and recorded the CRC32 of every piece, the first too.
        expect(f.reader.info().unverifiedUnits).toBe(0);
        expect(Array.from(f.reader.units.pieceCrc?.crc ?? [])).toEqual(Array.from({ length: f.reader.layout.count }, (_, k) => crc32(text.subarray(k * piece, (k + 1) * piece))));
      } finally {
        await f.close();
      }
    } finally {
      opened.mockRestore();
    }
  });

  it('zstd as one frame over bigUnitBytes: streamed once; a wrong checksum at its end is still CORRUPT_DATA, from the stream the header was read with', async () => {
    const good = zstdFile(text, '-1');
    expect(zstdList(good)).toMatch(/Check: XXH64/);
    const zstdFormat = formatOf('zstd');
    if (!streams(zstdFormat)) throw new Error('zstd reads big frames as streams');
    const opened = vi.spyOn(zstdFormat, 'stream');
    const options = { records: 'csv', index: false, parallelism: 2, bigUnitBytes: 1 << 20, pieceBytes: 256 << 10 } as const;
    try {
      const f = await openIndexed(writeFixture(dir, 'frame.csv.zst', good), options);
      try {
        expect(f.reader.layout.count).toBe(Math.ceil(text.length / (256 << 10)));
        expect(opened).toHaveBeenCalledTimes(1);
        expect(Array.from({ length: f.records.count }, (_, i) => f.records.start(i))).toEqual(starts);
        expect(f.reader.info().unverifiedUnits).toBe(0);
      } finally {
        await f.close();
      }
      // The frame's last byte is its XXH64 checksum's: every byte decodes, only the check at the end fails.
      const bad = Buffer.from(good);
      bad[bad.length - 1] ^= 0x01;
      const file = writeFixture(dir, 'bad-check.csv.zst', bad);
      opened.mockClear();
      await expect(openIndexed(file, options)).rejects.toMatchObject({ code: 'CORRUPT_DATA', file, message: expect.stringContaining(file) });
      expect(opened).toHaveBeenCalledTimes(1);
    } finally {
      opened.mockRestore();
    }
  });

  it('xz: damage in chunk 1 (decoded beside the header) is the same typed error, raised by the pass', async () => {
    const good = xz(text, '--block-size=262144');
    const probe = writeFixture(dir, 'probe.csv.xz', good);
    const intact = await openIndexed(probe, { records: 'csv', timeColumn: 'time', index: false });
    const second = Math.floor(intact.reader.units.cStart[1] + (intact.reader.units.cEnd[1] - intact.reader.units.cStart[1]) / 2);
    await intact.close();
    const bad = Buffer.from(good);
    bad[second] ^= 0x01;
    const file = writeFixture(dir, 'bad-second.csv.xz', bad);
    for (const parallelism of [2, 1]) {
      await expect(openIndexed(file, { records: 'csv', timeColumn: 'time', index: false, parallelism })).rejects.toMatchObject({
        code: 'CORRUPT_DATA',
        file,
        message: expect.stringContaining(file),
      });
    }
  });

  it('bzip2: a damaged first block is CORRUPT_DATA naming the file and the offset', async () => {
    const good = bzip2(text);
    const bad = Buffer.from(good);
    bad[5000] ^= 0x10;
    const file = writeFixture(dir, 'bad-first.csv.bz2', bad);
    await expect(openIndexed(file, { records: 'csv', timeColumn: 'time', index: false, parallelism: 2 })).rejects.toMatchObject({
      code: 'CORRUPT_DATA',
      file,
      message: expect.stringContaining(file),
    });
  });

  it('bzip2: damage in the second block (decoded beside the header) is the error parallelism 1 gives', async () => {
    const good = bzip2(text);
    const probe = writeFixture(dir, 'probe.csv.bz2', good);
    const intact = await openIndexed(probe, { records: 'csv', timeColumn: 'time', index: false });
    const units = intact.reader.units;
    const second = Math.floor((units.cStart[1] + units.cEnd[1]) / 16);
    await intact.close();
    const bad = Buffer.from(good);
    bad[second] ^= 0x04;
    const file = writeFixture(dir, 'bad-second.csv.bz2', bad);
    const errors = [];
    for (const parallelism of [2, 1]) {
      const error: unknown = await openIndexed(file, { records: 'csv', timeColumn: 'time', index: false, parallelism }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'CORRUPT_DATA', file });
      errors.push((error as { compressedOffset?: number }).compressedOffset);
    }
    expect(errors[0]).toBe(errors[1]);
  });

  it('multi-stream bzip2 (pbzip2: one stream per block): the blocks decoded beside the header are reused', async () => {
    const file = writeFixture(dir, 'multi.csv.bz2', run('pbzip2', ['-c', '-b2', '-p2'], text));
    const { runner, jobs } = counting();
    const f = await openIndexed(file, { records: 'csv', timeColumn: 'time', index: false, parallelism: 2, pool: runner });
    try {
      expect(Array.from({ length: f.records.count }, (_, i) => f.records.start(i))).toEqual(starts);
      const decodes = jobs.filter((j) => j.kind === 'decode');
      expect(new Set(decodes.map((j) => j.place)).size).toBe(decodes.length);
      expect(decodes.length).toBe(f.reader.units.count);
      expect(f.reader.units.count).toBeGreaterThan(5);
    } finally {
      await f.close();
    }
  });

  it('bzip2 and xz: the records, times and statistics equal those built in the calling thread (parallelism 1)', async () => {
    for (const [name, bytes] of [
      ['same.csv.bz2', bzip2(text)],
      ['same.csv.xz', xz(text, '--block-size=262144')],
    ] as const) {
      const file = writeFixture(dir, name, bytes);
      const built = [];
      for (const parallelism of [2, 1]) {
        const f = await openIndexed(file, { records: 'csv', timeColumn: 'time', index: false, parallelism });
        built.push({
          starts: Array.from({ length: f.records.count }, (_, i) => f.records.start(i)),
          summary: f.time?.summary,
          stats: JSON.stringify(f.stats),
        });
        await f.close();
      }
      expect(built[0].starts).toEqual(starts);
      expect(built[0]).toEqual(built[1]);
    }
  });
});
