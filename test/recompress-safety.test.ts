/**
 * `recompress` when things are small, wrong or fail: an empty input gives a valid empty file of every
 * format; a failure part-way (a damaged input, a failing job, an abort) leaves neither the output nor a
 * temporary file, and an old output stays as it was; bad options are INVALID_OPTION before anything is
 * written; memory is bounded (compress jobs in flight never exceed the window, and the input is read
 * only a little ahead of what is written); loading the bzip2 encoder leaves the process's listeners as
 * they were.
 */
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeSharedPool, isSeekdataError, MemorySource, openReader, recompress, WorkerPool, type RecompressOptions } from '../src/index.js';
import { scanLookahead } from '../src/readers/scan.js';
import type { JobResult, WorkerJob } from '../src/workers/jobs.js';
import type { JobRunner } from '../src/workers/pool.js';
import { bzip2, makeText, run, tempDir, writeFixture, xz } from './support/fixtures.js';
import { EXTENSION, OUT_FORMATS, toolDecode, toolRejects, toolTest } from './support/recompress-tools.js';

const tmp = tempDir('seekdata-recompress-safety-');
const pool = new WorkerPool({ size: 2 });
afterAll(async () => {
  await pool.close();
  await closeSharedPool();
  tmp.cleanup();
});

/** A fresh directory holding `files`; returns its path. */
function dirWith(name: string, files: Record<string, Uint8Array | string>): string {
  const dir = join(tmp.dir, name);
  mkdirSync(dir);
  for (const [file, bytes] of Object.entries(files)) writeFileSync(join(dir, file), bytes);
  return dir;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** Counts the compress jobs running at once; forwards every job to `inner`. */
class CountingRunner implements JobRunner {
  inFlight = 0;
  maxInFlight = 0;
  compressJobs = 0;
  constructor(
    private readonly inner: JobRunner,
    private readonly failAt = -1,
  ) {}

  async run(job: WorkerJob, signal?: AbortSignal, transfer?: ArrayBuffer[]): Promise<JobResult> {
    if (job.step?.name !== 'compress') return this.inner.run(job, signal, transfer);
    const n = this.compressJobs++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const result = await this.inner.run(job, signal, transfer);
      if (n === this.failAt) throw new Error(`job ${n} failed on purpose`);
      return result;
    } finally {
      this.inFlight--;
    }
  }
}

const text = makeText(1_500_000, 31);

describe('empty input', () => {
  it.each(OUT_FORMATS)('%s: a valid empty file that the tool accepts', async (format) => {
    const input = writeFixture(tmp.dir, `empty-${format}.csv`, new Uint8Array(0));
    const output = `${input}${EXTENSION[format]}`;
    const result = await recompress(input, output, { parallelism: 1 });
    expect(result).toMatchObject({ units: 0, decompressedBytes: 0 });
    toolTest(format, output);
    expect(toolDecode(format, output).length).toBe(0);
    if (format === 'xz' || format === 'bzip2') {
      const reader = await openReader(output, { index: false, parallelism: 1 });
      expect(reader.size).toBe(0);
      await reader.close();
    }
  });
});

describe('a failure part-way leaves no output and no temporary file', () => {
  /** Members (gzip) or frames (zstd) of 750 kB each, compressed one by one and concatenated. */
  const pieces = (command: string, seed: number): Buffer => {
    const whole = makeText(3_000_000, seed);
    return Buffer.concat([0, 1, 2, 3].map((i) => run(command, ['-q', '-c'], whole.subarray(i * 750_000, (i + 1) * 750_000))));
  };
  const damage = (bytes: Buffer, at = 0.6): Buffer => {
    bytes[Math.floor(bytes.length * at)] ^= 0x55;
    return bytes;
  };
  // [file, its bytes, whether units were written before the damage was found (else it is found on open)]
  const cases: Array<[string, () => Buffer, boolean]> = [
    // Damage in the middle of the third of four bzip2 blocks: found when the scan decodes it.
    ['damaged.csv.bz2', () => damage(bzip2(makeText(3_000_000, 32), 9)), true],
    // Damage in a middle block of a multi-block xz file: found when the stream decodes that block.
    ['damaged.csv.xz', () => damage(xz(makeText(3_000_000, 33), '-1', '--block-size=200000')), true],
    // Damage in the third of four gzip members: the two intact members before it (verified, waiting in a run)
    // are handed out before the damage is reported, so their units are compressed first.
    ['damaged-members.csv.gz', () => damage(pieces('gzip', 34)), true],
    // Damage in the third of four zstd frames: found when the stream decodes that frame.
    ['damaged-frames.csv.zst', () => damage(pieces('zstd', 35)), true],
    // One gzip member: the checkpoint pass that opens it meets the damage before any unit.
    ['damaged.csv.gz', () => damage(run('gzip', ['-c', '-6'], makeText(3_000_000, 36))), false],
    // One zstd frame: the decoding pass that checks its size on open meets the damage.
    ['damaged.csv.zst', () => damage(run('zstd', ['-q', '-c', '-3'], makeText(3_000_000, 37))), false],
  ];
  it.each(cases)('%s: CORRUPT_DATA; the old output is intact', async (name, make, partWay) => {
    const bytes = make();
    // The damage is real: the standard tool refuses the file.
    expect(toolRejects(OUT_FORMATS.find((f) => name.endsWith(EXTENSION[f])) ?? 'gzip', bytes)).toBe(true);
    const dir = dirWith(`fail-${name}`, { [name]: bytes, 'out.csv.zst': 'old contents' });
    const runner = new CountingRunner(pool);
    const error = await rejection(recompress(join(dir, name), join(dir, 'out.csv.zst'), { unitBytes: 100_000, parallelism: 2, window: 4, pool: runner, overwrite: true }));
    expect(isSeekdataError(error, 'CORRUPT_DATA'), String(error)).toBe(true);
    expect((error as Error).message).toContain(name);
    // Part-way: more units were compressed than the window holds, so some had been written.
    if (partWay) expect(runner.compressJobs).toBeGreaterThan(4);
    else expect(runner.compressJobs).toBe(0);
    expect(readdirSync(dir).sort()).toEqual([name, 'out.csv.zst']);
    expect(readFileSync(join(dir, 'out.csv.zst'), 'utf8')).toBe('old contents');
  });

  it('a compress job that fails: its error, nothing left behind', async () => {
    const dir = dirWith('fail-job', { 'in.csv': text });
    const runner = new CountingRunner(pool, 5);
    const error = await rejection(recompress(join(dir, 'in.csv'), join(dir, 'out.csv.gz'), { unitBytes: 50_000, parallelism: 2, pool: runner }));
    expect(String(error)).toMatch(/job 5 failed on purpose/);
    expect(readdirSync(dir)).toEqual(['in.csv']);
    expect(runner.inFlight).toBe(0); // every job had finished before recompress rejected
  });

  it('an abort: ABORTED, nothing left behind', async () => {
    const dir = dirWith('abort', { 'in.csv': text });
    const controller = new AbortController();
    const error = await rejection(
      recompress(join(dir, 'in.csv'), join(dir, 'out.csv.xz'), {
        unitBytes: 50_000,
        parallelism: 2,
        level: 0,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.bytesDone > 0) controller.abort();
        },
      }),
    );
    expect(isSeekdataError(error, 'ABORTED'), String(error)).toBe(true);
    expect(readdirSync(dir)).toEqual(['in.csv']);
  });

  it('an output whose directory is missing, is a file, or that is a directory: IO_ERROR naming it, before any work', async () => {
    const dir = dirWith('unwritable', { 'in.csv': text, 'file': 'x' });
    mkdirSync(join(dir, 'out.csv.gz'));
    for (const output of [join(dir, 'missing', 'out.csv.gz'), join(dir, 'file', 'out.csv.gz'), join(dir, 'out.csv.gz')]) {
      const error = await rejection(recompress(join(dir, 'in.csv'), output, { parallelism: 1 }));
      expect(isSeekdataError(error, 'IO_ERROR'), String(error)).toBe(true);
      expect((error as Error).message).toContain(output);
    }
    expect(readdirSync(dir).sort()).toEqual(['file', 'in.csv', 'out.csv.gz']);
    expect(readdirSync(join(dir, 'out.csv.gz'))).toEqual([]);
  });

  it('a truncated input: TRUNCATED, nothing left behind', async () => {
    const whole = run('zstd', ['-q', '-c'], text);
    const dir = dirWith('truncated', { 'in.csv.zst': whole.subarray(0, Math.floor(whole.length * 0.7)) });
    const error = await rejection(recompress(join(dir, 'in.csv.zst'), join(dir, 'out.csv.gz'), { unitBytes: 100_000, parallelism: 2 }));
    expect(isSeekdataError(error, 'TRUNCATED'), String(error)).toBe(true);
    expect(readdirSync(dir)).toEqual(['in.csv.zst']);
  });

  it('with overwrite: true, success replaces an old output atomically (the same name, the new content)', async () => {
    const dir = dirWith('replace', { 'in.csv': text, 'out.csv.bz2': 'old contents' });
    await recompress(join(dir, 'in.csv'), join(dir, 'out.csv.bz2'), { parallelism: 2, overwrite: true });
    expect(readdirSync(dir).sort()).toEqual(['in.csv', 'out.csv.bz2']);
    expect(toolDecode('bzip2', join(dir, 'out.csv.bz2')).equals(text)).toBe(true);
  });
});

describe('an existing output is not replaced unless asked', () => {
  it('a file, or a dangling symlink, at the output: IO_ERROR naming it, before any work; it stays as it was', async () => {
    const dir = dirWith('exists', { 'in.csv': text, 'out.csv.gz': 'old contents' });
    symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling.csv.gz'));
    for (const name of ['out.csv.gz', 'dangling.csv.gz']) {
      const runner = new CountingRunner(pool);
      const error = await rejection(recompress(join(dir, 'in.csv'), join(dir, name), { parallelism: 2, pool: runner }));
      expect(isSeekdataError(error, 'IO_ERROR'), String(error)).toBe(true);
      expect((error as Error).message).toContain(`${join(dir, name)}: the output exists`);
      expect(runner.compressJobs).toBe(0);
    }
    expect(readdirSync(dir).sort()).toEqual(['dangling.csv.gz', 'in.csv', 'out.csv.gz']);
    expect(readFileSync(join(dir, 'out.csv.gz'), 'utf8')).toBe('old contents');
  });

  it('a file that appears at the output while it is written is not replaced either', async () => {
    const dir = dirWith('appears', { 'in.csv': text });
    const output = join(dir, 'out.csv.zst');
    const error = await rejection(
      recompress(join(dir, 'in.csv'), output, {
        unitBytes: 100_000,
        parallelism: 2,
        onProgress: (p) => {
          if (p.bytesDone > 0 && !existsSync(output)) writeFileSync(output, 'written meanwhile');
        },
      }),
    );
    expect(isSeekdataError(error, 'IO_ERROR'), String(error)).toBe(true);
    expect((error as Error).message).toContain(`${output}: the output exists`);
    expect(readdirSync(dir).sort()).toEqual(['in.csv', 'out.csv.zst']);
    expect(readFileSync(output, 'utf8')).toBe('written meanwhile');
  });
});

describe('progress', () => {
  const bzText = makeText(2_000_000, 37);
  const bz = bzip2(bzText, 1);
  it.each([
    ['a plain input (counts decompressed bytes written)', 'progress.csv', text, text, text.length],
    ['a bzip2 input decoded by its scan (counts compressed bytes read)', 'progress.csv.bz2', bz, bzText, bz.length],
  ])('%s: rises to the total, and ends with everything written', async (_what, name, bytes, content, total) => {
    const input = writeFixture(tmp.dir, name, bytes);
    const seen: Array<[number, number | undefined]> = [];
    await recompress(input, `${input}.out.gz`, { unitBytes: 100_000, parallelism: 2, onProgress: (p) => seen.push([p.bytesDone, p.bytesTotal]) });
    expect(seen.length).toBeGreaterThan(3);
    const during = seen.slice(0, -1);
    for (let i = 1; i < during.length; i++) expect(during[i][0]).toBeGreaterThanOrEqual(during[i - 1][0]);
    expect(during.every(([, t]) => t === total)).toBe(true);
    expect(during.at(-1)?.[0]).toBe(total);
    // The last report: everything written, in decompressed bytes.
    expect(seen.at(-1)).toEqual([content.length, content.length]);
    expect(toolDecode('gzip', `${input}.out.gz`).equals(content)).toBe(true);
  });
});

describe('options are checked before anything is written', () => {
  const dir = dirWith('options', { 'in.csv': text });
  const input = join(dir, 'in.csv');
  symlinkSync(input, join(dir, 'link.csv'));
  linkSync(input, join(dir, 'hard.csv'));
  const cases: Array<[string, string, RecompressOptions, string]> = [
    ['the input itself', input, { format: 'gzip' }, 'the output is the input file'],
    ['a symlink to the input', join(dir, 'link.csv'), { format: 'gzip' }, 'the output is the input file'],
    ['a hard link to the input', join(dir, 'hard.csv'), { format: 'gzip' }, 'the output is the input file'],
    ['no format, no known ending', join(dir, 'out.dat'), {}, 'options.format must be given when the output'],
    ['an unknown format', join(dir, 'out.lz'), { format: 'lzip' as never }, 'options.format must be one of gzip, zstd, xz, bzip2, got "lzip"'],
    ['gzip level 10', join(dir, 'o.gz'), { level: 10 }, 'options.level must be an integer from 0 to 9 for gzip'],
    ['zstd level 0', join(dir, 'o.zst'), { level: 0 }, 'options.level must be an integer from 1 to 22 for zstd'],
    ['zstd level 23', join(dir, 'o.zst'), { level: 23 }, 'options.level must be an integer from 1 to 22 for zstd'],
    ['xz level 1.5', join(dir, 'o.xz'), { level: 1.5 }, 'options.level must be an integer from 0 to 9 for xz'],
    ['bzip2 level 0', join(dir, 'o.bz2'), { level: 0 }, 'options.level must be an integer from 1 to 9 for bzip2'],
    ['unitBytes 0', join(dir, 'o.bz2'), { unitBytes: 0 }, 'options.unitBytes must be an integer from 1 to 268435456'],
    ['unitBytes over 256 MiB', join(dir, 'o.zst'), { unitBytes: 2 ** 28 + 1 }, 'options.unitBytes must be an integer from 1 to 268435456'],
    ['a window of 0', join(dir, 'o.zst'), { window: 0 }, 'options.window must be a positive integer'],
    ['an unknown key', join(dir, 'o.zst'), { unit_bytes: 5 } as never, 'options.unit_bytes is not an option of recompress; did you mean unitBytes?'],
    ['overwrite not a boolean', join(dir, 'o.zst'), { overwrite: 'yes' as never }, 'options.overwrite must be true or false'],
  ];
  it.each(cases)('%s', async (_what, output, options, message) => {
    const error = await rejection(recompress(input, output, options));
    expect(isSeekdataError(error, 'INVALID_OPTION'), String(error)).toBe(true);
    expect((error as Error).message).toContain(message);
    expect(readdirSync(dir).sort()).toEqual(['hard.csv', 'in.csv', 'link.csv']);
    expect(readFileSync(input).equals(text)).toBe(true);
  });
});

describe('bounded memory', () => {
  it('compress jobs in flight never exceed the window; every unit is one job', async () => {
    const runner = new CountingRunner(pool);
    const input = writeFixture(tmp.dir, 'window.csv', text);
    const result = await recompress(input, `${input}.zst`, { unitBytes: 40_000, parallelism: 2, window: 3, pool: runner });
    expect(result.units).toBe(Math.ceil(text.length / 40_000));
    expect(runner.compressJobs).toBe(result.units);
    expect(runner.maxInFlight).toBeLessThanOrEqual(3);
    expect(runner.maxInFlight).toBeGreaterThanOrEqual(2);
    expect(result.maxInFlight).toBe(runner.maxInFlight);
  });

  it('the input is read only a little ahead of what is written', async () => {
    const big = makeText(16_000_000, 34);
    let read = 0;
    let readAtFirstWrite = -1;
    const memory = new MemorySource(big);
    const source = {
      name: 'counted.csv',
      size: memory.size,
      version: undefined,
      read: async (offset: number, length: number): Promise<Uint8Array> => {
        read += length;
        return memory.read(offset, length);
      },
      close: () => memory.close(),
    };
    const output = join(tmp.dir, 'ahead.csv.gz');
    await recompress(source, output, {
      unitBytes: 200_000,
      parallelism: 2,
      window: 2,
      level: 1,
      onProgress: (p) => {
        if (p.bytesDone > 0 && readAtFirstWrite < 0) readAtFirstWrite = read;
      },
    });
    // The reader's lookahead (scanLookahead: 4 spans of 1 MiB per worker at parallelism 2) and the span
    // being cut into units, the window (2 units) and the unit being filled: far less than the file.
    const bound = scanLookahead(2, 2 ** 20) * 2 ** 20 + 2 ** 20 + (2 + 1) * 200_000;
    expect(bound).toBeLessThan(big.length / 1.5);
    expect(readAtFirstWrite).toBeGreaterThan(0);
    expect(readAtFirstWrite).toBeLessThanOrEqual(bound);
    // All of it once (and the format sniff's first 4 KiB).
    expect(read).toBeGreaterThanOrEqual(big.length);
    expect(read).toBeLessThan(big.length + 100_000);
    expect(existsSync(output)).toBe(true);
  });
});

describe('the bzip2 encoder', () => {
  it('loads in this thread without leaving process listeners behind; level sets the block size', async () => {
    const before = [process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection')];
    const input = writeFixture(tmp.dir, 'listeners.csv', text.subarray(0, 300_000));
    await recompress(input, `${input}.bz2`, { parallelism: 1, level: 1, unitBytes: 150_000 });
    expect([process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection')]).toEqual(before);
    const out = readFileSync(`${input}.bz2`);
    // Two streams, each "BZh1" (100 kB blocks): the level reached the encoder.
    expect(out.subarray(0, 4).toString()).toBe('BZh1');
    expect(out.toString('latin1').split('BZh1').length - 1).toBeGreaterThanOrEqual(2);
    expect(toolDecode('bzip2', `${input}.bz2`).equals(text.subarray(0, 300_000))).toBe(true);
  });
});
