/**
 * A hostile review of the index pass's end (index-file.ts `writeParts`, built-records.ts's sliced join,
 * open-indexed.ts's save beside the join): writes that fail part-way (the first, a middle or the last writev
 * batch, after a short write, fsync, truncate, close, rename, link, a claim that refuses or fails), through a
 * file handle that fails on command and on a full file system, each an IO_ERROR naming the index file and the
 * step with the errno error as its cause (a claim's own SeekdataError as it is), and the warnings that say so
 * (an index's, a collection manifest's); the join racing the save; and every index the pass writes read back
 * against a writer of its own (the joined arrays), a second open, and a brute-force parse of the data.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { closeSharedPool, openCollection, openIndexed, SeekdataError, type IndexedFile, type IndexedOptions } from '../src/index.js';
import { writeIndexFile, writeParts, type SectionValue, type WritableSection } from '../src/index/index-file.js';
import { loadAllSections } from './support/index-sections.js';
import { RecordBuilder } from '../src/index/records/builder.js';
import { Parts, type BuiltRecords } from '../src/index/records/built-records.js';
import { spawnSync } from 'node:child_process';
import { concatTyped, prng, run, tempDir, timedCsv } from './support/fixtures.js';

/** Faults the file system below index-file.ts shows on command (only for temporary index files). */
const faults = vi.hoisted(() => ({
  /** Which writev call (0-based, counted per handle) rejects. */
  writevAt: -1,
  /** writev calls write only this many bytes (then `write` rejects when `write` is set). */
  shortWritev: -1,
  write: false,
  /** `write` calls write nothing (and say so: bytesWritten 0). */
  writeNone: false,
  truncate: false,
  sync: false,
  close: false,
  rename: false,
  link: false,
  /** writev calls still running, over every handle. */
  pending: 0,
  /** Highest `pending` seen when a handle was closed. */
  pendingAtClose: 0,
}));

const errno = (code: string, syscall: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: injected failure, ${syscall}`), { code, syscall });

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const isTemp = (path: unknown): boolean => typeof path === 'string' && path.includes('.tmp-');
  const open = async (...args: Parameters<typeof real.open>): ReturnType<typeof real.open> => {
    const handle = await real.open(...args);
    if (!isTemp(args[0])) return handle;
    let calls = 0;
    const overrides: Record<string, unknown> = {
      writev: async (buffers: Uint8Array[], position: number) => {
        const call = calls++;
        faults.pending++;
        try {
          // The failing batch fails at once; the others take a little while, so that a caller that does
          // not wait for them all closes the file under them.
          if (call === faults.writevAt) throw errno('EIO', 'writev');
          await new Promise((r) => setTimeout(r, 5));
          if (faults.shortWritev >= 0) {
            const all = Buffer.concat(buffers);
            const n = Math.min(all.length, faults.shortWritev);
            await handle.write(all, 0, n, position);
            return { bytesWritten: n, buffers };
          }
          return await handle.writev(buffers, position);
        } finally {
          faults.pending--;
        }
      },
      write: async (...a: unknown[]) => {
        if (faults.write) throw errno('ENOSPC', 'write');
        if (faults.writeNone) return { bytesWritten: 0, buffer: a[0] };
        return (handle.write as (...b: unknown[]) => unknown)(...a);
      },
      truncate: async (n: number) => {
        if (faults.truncate) throw errno('EIO', 'ftruncate');
        return handle.truncate(n);
      },
      sync: async () => {
        if (faults.sync) throw errno('EIO', 'fsync');
        return handle.sync();
      },
      close: async () => {
        faults.pendingAtClose = Math.max(faults.pendingAtClose, faults.pending);
        await handle.close();
        // As NFS may: the descriptor is gone, and close reports a write that failed.
        if (faults.close) throw errno('EIO', 'close');
      },
    };
    return new Proxy(handle, {
      get: (target, key) => {
        if (typeof key === 'string' && key in overrides) return overrides[key];
        const value = Reflect.get(target, key) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  };
  const rename = async (from: string, to: string): Promise<void> => {
    if (faults.rename && isTemp(from)) throw errno('EIO', 'rename');
    return real.rename(from, to);
  };
  const link = async (from: string, to: string): Promise<void> => {
    if (faults.link && isTemp(from)) throw errno('EIO', 'link');
    return real.link(from, to);
  };
  return { ...real, default: { ...real, open, rename, link }, open, rename, link };
});

const tmp = tempDir('seekdata-write-hostile-');
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

beforeEach(() => {
  Object.assign(faults, { writevAt: -1, shortWritev: -1, write: false, writeNone: false, truncate: false, sync: false, close: false, rename: false, link: false, pending: 0, pendingAtClose: 0 });
});

const temps = (dir: string): string[] => readdirSync(dir).filter((f) => f.includes('.tmp-'));

/** Rejections nobody handled while `body` ran (and a moment after). */
async function unhandledDuring(body: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const note = (reason: unknown): void => {
    seen.push(reason);
  };
  process.on('unhandledRejection', note);
  try {
    await body();
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    process.off('unhandledRejection', note);
  }
  return seen;
}

/** Sections of three writev batches and more (3,000 parts), and their joined twins. */
function partSections(seed: number): { parts: Map<string, WritableSection>; joined: Map<string, SectionValue> } {
  const rand = prng(seed);
  const u32 = Array.from({ length: 3000 }, () => Uint32Array.from({ length: 1 + Math.floor(rand() * 20) }, () => Math.floor(rand() * 2 ** 32)));
  const f64 = Array.from({ length: 1500 }, () => Float64Array.from({ length: 1 + Math.floor(rand() * 9) }, () => rand() * 1e12));
  return {
    parts: new Map<string, WritableSection>([
      ['meta', { json: { seed } }],
      ['u', { kind: 'u32', parts: u32 }],
      ['f', { kind: 'f64', parts: f64 }],
    ]),
    joined: new Map<string, SectionValue>([
      ['meta', { json: { seed } }],
      ['u', concatTyped(u32, (n) => new Uint32Array(n))],
      ['f', concatTyped(f64, (n) => new Float64Array(n))],
    ]),
  };
}

// ---------------------------------------------------------------------------------------------------

describe('writeParts: a batch that fails', () => {
  /** A handle whose writev batch `failAt` rejects at once and whose other batches finish 20 ms later. */
  function slowHandle(failAt: number, shortAt = -1): { handle: Parameters<typeof writeParts>[0]; pending: () => number; batches: () => number } {
    let pending = 0;
    let batches = 0;
    const handle = {
      writev: async (buffers: Uint8Array[]) => {
        const k = batches++;
        if (k === failAt) throw errno('EIO', 'writev');
        pending++;
        await new Promise((r) => setTimeout(r, 20));
        pending--;
        const bytes = buffers.reduce((n, b) => n + b.length, 0);
        return { bytesWritten: k === shortAt ? bytes >> 1 : bytes, buffers };
      },
      write: async () => {
        pending++;
        await new Promise((r) => setTimeout(r, 10));
        pending--;
        throw errno('ENOSPC', 'write');
      },
    } as unknown as Parameters<typeof writeParts>[0];
    return { handle, pending: () => pending, batches: () => batches };
  }

  const parts = Array.from({ length: 3000 }, (_, k) => new Uint8Array(1 + (k % 13)).fill(k & 0xff));

  it.each([
    ['the first', 0],
    ['a middle', 1],
    ['the last', 2],
  ])('%s of three batches: rejects with its error only once every other batch has settled, nothing unhandled', async (_, failAt) => {
    const { handle, pending, batches } = slowHandle(failAt);
    let rejected: unknown;
    let pendingThen = -1;
    const unhandled = await unhandledDuring(async () => {
      await writeParts(handle, parts, 0).catch((error: unknown) => {
        rejected = error;
        pendingThen = pending();
      });
    });
    expect(batches()).toBe(3);
    expect(rejected).toMatchObject({ code: 'EIO' });
    expect(pendingThen).toBe(0);
    expect(unhandled).toEqual([]);
  });

  it('a short write whose rest fails (ENOSPC), beside a batch that fails: one rejection, after everything settled', async () => {
    const { handle, pending } = slowHandle(2, 0);
    let pendingThen = -1;
    let rejected: unknown;
    const unhandled = await unhandledDuring(async () => {
      await writeParts(handle, parts, 0).catch((error: unknown) => {
        rejected = error;
        pendingThen = pending();
      });
    });
    expect(['EIO', 'ENOSPC']).toContain((rejected as NodeJS.ErrnoException).code);
    expect(pendingThen).toBe(0);
    expect(unhandled).toEqual([]);
  });
});

/** The message writeIndexFile gives when `step` failed with the injected `code` of `syscall`. */
const stepFailure = (path: string, step: string, code: string, syscall: string): string => `${path}: cannot write the index file: ${step} failed (${code}: injected failure, ${syscall})`;

/** `error` is the IO_ERROR of `step` failing at `path`, with the injected errno error as its cause. */
function expectStepError(error: unknown, path: string, step: string, code: string, syscall: string): void {
  expect(error).toBeInstanceOf(SeekdataError);
  expect(error).toMatchObject({ code: 'IO_ERROR', file: path, message: stepFailure(path, step, code, syscall) });
  // The errno error stays reachable: the cause, as the file system gave it.
  expect((error as Error).cause).toMatchObject({ code, syscall, message: `${code}: injected failure, ${syscall}` });
  expect((error as Error).cause).not.toBeInstanceOf(SeekdataError);
}

/** What `promise` rejected with (undefined when it resolved). */
const rejectionOf = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('writeIndexFile: a failure at every step is an IO_ERROR naming the index and the step, leaves the old index (or none) and no temporary file; a retry writes the file', () => {
  // What fails, and the step, code and call whose error is reported (the first failure's).
  const cases: Array<[string, () => void, string, string, string]> = [
    ['the first writev batch fails', () => (faults.writevAt = 0), 'writing', 'EIO', 'writev'],
    ['a middle writev batch fails', () => (faults.writevAt = 2), 'writing', 'EIO', 'writev'],
    ['the last writev batch fails', () => (faults.writevAt = 4), 'writing', 'EIO', 'writev'],
    ['a short writev, then the rest fails (ENOSPC)', () => Object.assign(faults, { shortWritev: 100, write: true }), 'writing', 'ENOSPC', 'write'],
    ['the header write fails', () => (faults.write = true), 'writing', 'ENOSPC', 'write'],
    ['truncate fails', () => (faults.truncate = true), 'truncating', 'EIO', 'ftruncate'],
    ['fsync fails', () => (faults.sync = true), 'syncing', 'EIO', 'fsync'],
    ['close reports an error', () => (faults.close = true), 'closing', 'EIO', 'close'],
    ['fsync fails and close reports an error too', () => Object.assign(faults, { sync: true, close: true }), 'syncing', 'EIO', 'fsync'],
    ['rename fails', () => (faults.rename = true), 'putting in place', 'EIO', 'rename'],
  ];

  for (const previous of [false, true]) {
    it.each(cases)(`%s (${previous ? 'over an old index' : 'no index before'})`, async (_, arm, step, code, syscall) => {
      const dir = tmp.sub('steps');
      const path = join(dir, 'data.sdx');
      const old = partSections(1);
      if (previous) await writeIndexFile(path, old.joined);
      const before = previous ? readFileSync(path) : undefined;
      const next = partSections(2);
      arm();
      let rejected: unknown;
      const unhandled = await unhandledDuring(async () => {
        rejected = await rejectionOf(writeIndexFile(path, next.parts));
      });
      expectStepError(rejected, path, step, code, syscall);
      expect(unhandled).toEqual([]);
      // No writev still running when the file was closed.
      expect(faults.pendingAtClose).toBe(0);
      expect(temps(dir)).toEqual([]);
      if (before === undefined) expect(existsSync(path)).toBe(false);
      else expect(readFileSync(path).equals(before)).toBe(true);
      // The retry: the same bytes as the joined arrays give.
      Object.assign(faults, { writevAt: -1, shortWritev: -1, write: false, writeNone: false, truncate: false, sync: false, close: false, rename: false });
      const bytes = await writeIndexFile(path, next.parts);
      const reference = join(dir, 'reference.sdx');
      await writeIndexFile(reference, next.joined);
      expect(bytes).toBe(readFileSync(path).length);
      expect(readFileSync(path).equals(readFileSync(reference))).toBe(true);
      expect(temps(dir)).toEqual([]);
    });
  }

  it('a write that writes nothing (an error with no errno code): IO_ERROR naming the index and the step, no temporary file', async () => {
    const dir = tmp.sub('write-none');
    const path = join(dir, 'data.sdx');
    // One section of one part: written by `write` (no writev), as the header is.
    faults.writeNone = true;
    const rejected = await rejectionOf(writeIndexFile(path, new Map([['x', new Float64Array([1, 2, 3])]])));
    expect(rejected).toBeInstanceOf(SeekdataError);
    expect(rejected).toMatchObject({ code: 'IO_ERROR', file: path, message: expect.stringMatching(new RegExp(`^${path}: cannot write the index file: writing failed \\(a write of \\d+ bytes at \\d+ wrote none\\)$`)) });
    expect((rejected as Error).cause).toBeInstanceOf(Error);
    expect(temps(dir)).toEqual([]);
    expect(existsSync(path)).toBe(false);
  });

  it('link fails (a place claimed for creation): IO_ERROR putting in place, no temporary file, nothing at the place', async () => {
    const dir = tmp.sub('link');
    const path = join(dir, 'data.sdx');
    faults.link = true;
    const rejected = await rejectionOf(writeIndexFile(path, partSections(3).parts, { claim: async () => 'create' }));
    expectStepError(rejected, path, 'putting in place', 'EIO', 'link');
    expect(temps(dir)).toEqual([]);
    expect(existsSync(path)).toBe(false);
  });

  it('a claim that refuses with a SeekdataError (a file appeared at the place meanwhile): that very error, no temporary file, what is there untouched', async () => {
    const dir = tmp.sub('claim-refuses');
    const path = join(dir, 'data.sdx');
    writeFileSync(path, 'appeared meanwhile');
    const refusal = new SeekdataError('INDEX_CONFLICT', `${path}: another data file's index`, { file: path });
    let asked = 0;
    // Nothing there at the first question; the link then finds the name taken (EEXIST) and asks again.
    const claim = async (): Promise<'create'> => {
      if (asked++ === 0) return 'create';
      throw refusal;
    };
    await expect(writeIndexFile(path, partSections(4).parts, { claim })).rejects.toBe(refusal);
    expect(asked).toBe(2);
    expect(temps(dir)).toEqual([]);
    expect(readFileSync(path, 'utf8')).toBe('appeared meanwhile');
  });

  it('a claim that fails with an error of its own (no SeekdataError): IO_ERROR putting in place, that error the cause, no temporary file', async () => {
    const dir = tmp.sub('claim-fails');
    const path = join(dir, 'data.sdx');
    const failure = errno('EACCES', 'stat');
    const rejected = await rejectionOf(writeIndexFile(path, partSections(5).parts, { claim: () => Promise.reject(failure) }));
    expectStepError(rejected, path, 'putting in place', 'EACCES', 'stat');
    expect((rejected as Error).cause).toBe(failure);
    expect(temps(dir)).toEqual([]);
    expect(existsSync(path)).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------
// Data files and the truth about them, parsed here by brute force.

const csv = (records: number, seed: number, disorder: boolean): Buffer => timedCsv(records, seed, disorder);

/** Each record's start and time, from the CSV text (one record a line, the header line first). */
function truth(text: Buffer): { starts: number[]; times: number[] } {
  const starts: number[] = [];
  const times: number[] = [];
  let at = text.indexOf(0x0a) + 1;
  while (at < text.length) {
    const end = text.indexOf(0x0a, at);
    starts.push(at);
    const field = text.subarray(at, text.indexOf(0x2c, at)).toString();
    times.push(/^\d{4}-/.test(field) ? Date.parse(field) : NaN);
    at = end + 1;
  }
  return { starts, times };
}

describe('openIndexed over a file system that fails: the save is a warning, the records are right, a retry saves', () => {
  it.each([
    ['the times\' writev fails', () => (faults.writevAt = 1), 'cannot write the index file: writing failed (EIO: injected failure, writev)'],
    ['close reports an error', () => (faults.close = true), 'cannot write the index file: closing failed (EIO: injected failure, close)'],
  ])('%s', async (_, arm, message) => {
    const dir = tmp.sub('open-fault');
    const text = csv(8000, 5, false);
    // 1 KiB xz blocks: hundreds of parts of offsets and of times, a writev each (the offsets', the times').
    const path = join(dir, 'data.csv.xz');
    writeFileSync(path, run('xz', ['-c', '--block-size=1024'], text));
    const { starts } = truth(text);
    const options: IndexedOptions = { records: 'csv', timeColumn: 'time' };
    arm();
    const warnings: string[] = [];
    const file = await openIndexed(path, { ...options, onWarning: (m) => warnings.push(m) });
    expect(warnings).toEqual([`could not save index to ${path}.sdx: ${message}`]);
    expect(file.report.status).toBe('none');
    expect(file.records.count).toBe(starts.length);
    expect(Array.from({ length: starts.length }, (_, i) => file.records.start(i))).toEqual(starts);
    await file.close();
    expect(temps(dir)).toEqual([]);
    expect(existsSync(`${path}.sdx`)).toBe(false);
    Object.assign(faults, { writevAt: -1, close: false });
    const again = await openIndexed(path, options);
    expect(again.report.status).toBe('built');
    await again.close();
    const loaded = await openIndexed(path, options);
    expect(loaded.report.status).toBe('loaded');
    expect(Array.from({ length: starts.length }, (_, i) => loaded.records.start(i))).toEqual(starts);
    await loaded.close();
    expect(temps(dir)).toEqual([]);
  });
});

describe('a collection manifest that cannot be put in place: the warning names it once, and the step', () => {
  it('rename fails: the collection opens right, one warning, no temporary file, no manifest', async () => {
    const dir = tmp.sub('manifest-fault');
    const texts = [csv(2000, 71, false), csv(3000, 72, false)];
    const paths = texts.map((_, k) => join(dir, `part-${k}.csv`));
    paths.forEach((p, k) => writeFileSync(p, texts[k]));
    // Opened once: the files' indexes and the manifest saved; the manifest then removed, so that the next
    // open (the indexes loaded: no other file is written) writes only the manifest.
    const first = await openCollection(paths, { records: 'csv' });
    const manifest = first.report.manifestWritten;
    await first.close();
    if (manifest === undefined) throw new Error('no manifest written');
    rmSync(manifest);
    faults.rename = true;
    const warnings: string[] = [];
    const again = await openCollection(paths, { records: 'csv', onWarning: (m) => warnings.push(m) });
    expect(again.report.records).toBe(2000 + 3000);
    expect(again.report.manifestWritten).toBeUndefined();
    await again.close();
    expect(warnings).toEqual([`could not save the collection manifest to ${manifest}: cannot write the index file: putting in place failed (EIO: injected failure, rename)`]);
    expect(existsSync(manifest)).toBe(false);
    expect(temps(dir)).toEqual([]);
    expect(temps(join(manifest, '..'))).toEqual([]);
  });
});

/** Record numbers with a time in [t0, t1), in time order (ties in record order): the brute-force answer to `range`. */
function bruteRange(times: number[], t0: number, t1: number): number[] {
  return times
    .map((t, i) => [t, i])
    .filter(([t]) => t >= t0 && t < t1)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    .map(([, i]) => i);
}

/** `file` gives the records and times of `text` (its record starts, each record's time, range queries). */
function checkAgainstText(file: IndexedFile, text: Buffer, timed: boolean): void {
  const { starts, times } = truth(text);
  expect(file.records.count).toBe(starts.length);
  expect(Array.from({ length: starts.length }, (_, i) => file.records.start(i))).toEqual(starts);
  if (!timed) {
    expect(file.time).toBeUndefined();
    return;
  }
  expect(Array.from(file.time?.times ?? [])).toEqual(times);
  const valid = times.filter((t) => !Number.isNaN(t));
  const lo = valid.reduce((a, b) => Math.min(a, b), Infinity);
  const hi = valid.reduce((a, b) => Math.max(a, b), -Infinity);
  const summary = file.time?.summary;
  expect(summary?.count).toBe(valid.length);
  expect(summary?.first).toBe(valid.length === 0 ? undefined : lo);
  expect(summary?.last).toBe(valid.length === 0 ? undefined : hi);
  expect(file.report.time?.first).toBe(summary?.first);
  expect(file.report.time?.last).toBe(summary?.last);
  expect(file.report.time?.sorted).toBe(summary?.sorted);
  if (valid.length === 0) return;
  for (const [a, b] of [
    [lo, hi + 1],
    [lo + (hi - lo) * 0.3, lo + (hi - lo) * 0.6],
    [hi, hi + 1],
  ]) {
    expect(Array.from(file.range(a, b))).toEqual(bruteRange(times, a, b));
  }
}

/** The index file at `path` is what the joined arrays written by writeIndexFile give, byte for byte. */
async function sameAsJoined(path: string): Promise<Map<string, SectionValue>> {
  const sections = await loadAllSections(path);
  const reference = join(tmp.sub('reference'), 'reference.sdx');
  await writeIndexFile(reference, sections);
  expect(readFileSync(path).equals(readFileSync(reference))).toBe(true);
  return sections;
}

describe('an index written from the parts, read back: the joined arrays’ bytes, the same records as a brute-force parse', () => {
  const formats: Array<[string, (b: Buffer) => Buffer]> = [
    ['bz2', (b) => run('bzip2', ['-1', '-c'], b)],
    ['xz', (b) => run('xz', ['-c', '--block-size=16384'], b)],
    ['gz', (b) => run('gzip', ['-c'], b)],
    // Four frames (the seekable way of writing zstd without its tool): four units.
    ['zst', (b) => Buffer.concat([0, 1, 2, 3].map((q) => run('zstd', ['-c', '-q'], b.subarray(Math.floor((q * b.length) / 4), Math.floor(((q + 1) * b.length) / 4)))))],
    ['csv', (b) => b],
  ];
  const datas: Array<[string, Buffer, IndexedOptions]> = [
    ['sorted times', csv(4000, 11, false), { records: 'csv', timeColumn: 'time' }],
    ['times out of order and unparsable', csv(4000, 12, true), { records: 'csv', timeColumn: 'time' }],
    ['no time column', csv(4000, 13, true), { records: 'csv' }],
  ];
  for (const [ext, compress] of formats) {
    it.each(datas)(`${ext}, %s`, async (_, text, options) => {
      const dir = tmp.sub(`back-${ext}`);
      const path = join(dir, `data.csv.${ext}`);
      writeFileSync(path, compress(text));
      const timed = options.timeColumn !== undefined;
      const opts = { ...options, pieceBytes: 16 << 10, bigUnitBytes: 32 << 10 };
      const done: number[] = [];
      const built = await openIndexed(path, { ...opts, onProgress: (p) => done.push(p.bytesDone) });
      // One pass (progress never goes back) where the pass's chunks are the reader's.
      if (ext !== 'zst') expect(done.every((d, k) => k === 0 || d >= done[k - 1])).toBe(true);
      // Used the moment it is returned.
      checkAgainstText(built, text, timed);
      expect(built.report.status).toBe('built');
      await built.close();
      const sections = await sameAsJoined(`${path}.sdx`);
      expect((sections.get('records.offsets') as Uint32Array).length).toBe(truth(text).starts.length);
      expect(sections.has('time.values')).toBe(timed);
      const loaded = await openIndexed(path, opts);
      expect(loaded.report.status).toBe('loaded');
      checkAgainstText(loaded, text, timed);
      const n = loaded.records.count;
      const some = await loaded.records.getMany([0, 1, Math.floor(n / 2), n - 1]);
      const lines = text.toString().split('\n');
      expect(some.map((b) => Buffer.from(b).toString())).toEqual([1, 2, Math.floor(n / 2) + 1, n].map((k) => lines[k]));
      await loaded.close();
      expect(temps(dir)).toEqual([]);
    });
  }
});

describe('zstd frames that do not say their size (zstd reading a pipe): the records the first open gives', () => {
  it('one frame of 1.9 MB, default options: right records at once, and the saved index is loaded next time', async () => {
    const dir = tmp.sub('zstd-pipe');
    const text = csv(56_000, 21, false);
    expect(text.length).toBeGreaterThan(3 << 19);
    const path = join(dir, 'data.csv.zst');
    // From standard input: the frame header has no content size.
    writeFileSync(path, run('zstd', ['-c', '-q'], text));
    const warnings: string[] = [];
    const options: IndexedOptions = { records: 'csv', timeColumn: 'time', onWarning: (m) => warnings.push(m) };
    const built = await openIndexed(path, options);
    expect(built.report.status).toBe('built');
    checkAgainstText(built, text, true);
    const lines = text.toString().split('\n');
    expect(Buffer.from(await built.records.get(50_000)).toString()).toBe(lines[50_001]);
    await built.close();
    await sameAsJoined(`${path}.sdx`);
    const loaded = await openIndexed(path, options);
    expect(loaded.report.status).toBe('loaded');
    checkAgainstText(loaded, text, true);
    await loaded.close();
    expect(warnings).toEqual([]);
  });
});

describe('the join beside the save: sizes at the edges, many parts, used at once, aborted, no index', () => {
  /** Builds `path` with `options`, checks it against `text` at once and read back, and returns what the builder handed out. */
  async function buildAndCheck(dir: string, path: string, text: Buffer, options: IndexedOptions): Promise<BuiltRecords> {
    const finish = vi.spyOn(RecordBuilder.prototype, 'finish');
    try {
      const timed = options.timeColumn !== undefined;
      const file = await openIndexed(path, options);
      const built = finish.mock.results.at(-1)?.value as BuiltRecords;
      // Joined by the time it is returned: the records use the joined arrays.
      expect(file.records.offsets).toBe(built.offsets);
      if (timed) expect(file.time?.times).toBe(built.times);
      expect(Array.from(file.records.offsets)).toEqual(built.offsetParts.flatMap((p) => Array.from(p)));
      checkAgainstText(file, text, timed);
      await file.close();
      if (options.index !== false) {
        await sameAsJoined(`${path}.sdx`);
        const loaded = await openIndexed(path, options);
        expect(loaded.report.status).toBe('loaded');
        checkAgainstText(loaded, text, timed);
        await loaded.close();
      }
      expect(temps(dir)).toEqual([]);
      return built;
    } finally {
      finish.mockRestore();
    }
  }

  it.each([
    ['no records (the header only)', 0, false],
    ['one record', 1, false],
    ['one record, unparsable time', 1, true],
    ['65,536 records: the times are one 512 KiB slice exactly, the offsets half of one', 65_536, false],
    ['20,000 records, out of order', 20_000, true],
  ])('%s', async (_, records, disorder) => {
    const dir = tmp.sub('edge');
    let text = csv(records, 31 + records, disorder);
    if (records === 1 && disorder) text = Buffer.from('time,sensor,x\nnot a time,a,1\n');
    const path = join(dir, 'data.csv');
    writeFileSync(path, text);
    const built = await buildAndCheck(dir, path, text, { records: 'csv', timeColumn: 'time' });
    expect(built.count).toBe(records);
  });

  it('over 1,024 parts of offsets and of times (small xz blocks read in small pieces)', async () => {
    const dir = tmp.sub('many-parts');
    const text = csv(12_000, 41, true);
    const path = join(dir, 'data.csv.xz');
    writeFileSync(path, run('xz', ['-c', '--block-size=4096'], text));
    const built = await buildAndCheck(dir, path, text, { records: 'csv', timeColumn: 'time', pieceBytes: 512, bigUnitBytes: 1024 });
    expect(built.offsetParts.length).toBeGreaterThan(1024);
    expect(built.timeParts?.length).toBeGreaterThan(1024);
  });

  it('a join that yields for real: 140,000 records in 64 KiB xz blocks (offsets and times over 512 KiB, in hundreds of parts)', async () => {
    const dir = tmp.sub('sliced');
    const text = csv(140_000, 45, false);
    const path = join(dir, 'data.csv.xz');
    writeFileSync(path, run('xz', ['-c', '-0', '--block-size=65536'], text));
    const built = await buildAndCheck(dir, path, text, { records: 'csv', timeColumn: 'time' });
    expect(built.offsetParts.length).toBeGreaterThan(100);
    expect(built.offsets.byteLength).toBeGreaterThan(512 << 10);
  });

  it('the sliced join with the plain join asked for during one of its yields: both hand out one array, the parts joined', async () => {
    const parts = new Parts<Uint32Array>((n) => new Uint32Array(n));
    const rand = prng(59);
    const all: number[] = [];
    // 300 parts of 1,000 values: 1.2 MB, two yields.
    for (let k = 0; k < 300; k++) {
      const part = Uint32Array.from({ length: 1000 }, () => Math.floor(rand() * 2 ** 32));
      all.push(...part);
      parts.add(part);
    }
    let plain: Uint32Array | undefined;
    setImmediate(() => (plain = parts.done()));
    const sliced = await parts.doneSliced();
    expect(plain).toBeDefined();
    expect(sliced).toBe(plain);
    expect(parts.done()).toBe(sliced);
    expect(Array.from(sliced)).toEqual(all);
  });

  it('index: false: the records and times right at once, no index file', async () => {
    const dir = tmp.sub('no-index');
    const text = csv(30_000, 43, false);
    const path = join(dir, 'data.csv');
    writeFileSync(path, text);
    await buildAndCheck(dir, path, text, { records: 'csv', timeColumn: 'time', index: false });
    expect(readdirSync(dir)).toEqual(['data.csv']);
  });

  it('aborted once the pass is done (while the file is written and joined): the abort, or a whole file and index; nothing left over', async () => {
    const dir = tmp.sub('abort-end');
    const text = csv(30_000, 47, false);
    const path = join(dir, 'data.csv.bz2');
    writeFileSync(path, run('bzip2', ['-1', '-c'], text));
    const controller = new AbortController();
    const onProgress = (p: { bytesDone: number; bytesTotal: number }): void => {
      if (p.bytesDone === p.bytesTotal) controller.abort();
    };
    const unhandled = await unhandledDuring(async () => {
      const outcome = await openIndexed(path, { records: 'csv', timeColumn: 'time', signal: controller.signal, onProgress }).then(
        (file) => file,
        (error: unknown) => error,
      );
      expect(controller.signal.aborted).toBe(true);
      if (outcome instanceof Error) {
        expect(outcome).toMatchObject({ code: 'ABORTED' });
      } else {
        checkAgainstText(outcome as IndexedFile, text, true);
        await (outcome as IndexedFile).close();
      }
    });
    expect(unhandled).toEqual([]);
    expect(temps(dir)).toEqual([]);
    if (existsSync(`${path}.sdx`)) await sameAsJoined(`${path}.sdx`);
  });

  it('two opens of one file at once: both right, one whole index in place, no temporary file, the next open loads it', async () => {
    const dir = tmp.sub('twice');
    const text = csv(30_000, 57, true);
    const path = join(dir, 'data.csv.gz');
    writeFileSync(path, run('gzip', ['-c'], text));
    const warnings: string[] = [];
    const options: IndexedOptions = { records: 'csv', timeColumn: 'time', gzipSpacingBytes: 64 << 10, onWarning: (m) => warnings.push(m) };
    const files = await Promise.all([openIndexed(path, options), openIndexed(path, options)]);
    expect(warnings).toEqual([]);
    for (const file of files) {
      expect(file.report.status).toBe('built');
      checkAgainstText(file, text, true);
      await file.close();
    }
    expect(readdirSync(dir).sort()).toEqual(['data.csv.gz', 'data.csv.gz.sdx']);
    await sameAsJoined(`${path}.sdx`);
    const loaded = await openIndexed(path, options);
    expect(loaded.report.status).toBe('loaded');
    checkAgainstText(loaded, text, true);
    await loaded.close();
  });

  it('an onWarning that throws while a failed save is reported: openIndexed rejects with it, nothing unhandled, no temporary file', async () => {
    const dir = tmp.sub('warning-throws');
    const text = csv(5000, 53, false);
    const path = join(dir, 'data.csv');
    writeFileSync(path, text);
    faults.sync = true;
    const thrown = new Error('the warning handler failed');
    const unhandled = await unhandledDuring(async () => {
      await expect(
        openIndexed(path, {
          records: 'csv',
          timeColumn: 'time',
          onWarning: () => {
            throw thrown;
          },
        }),
      ).rejects.toBe(thrown);
    });
    expect(unhandled).toEqual([]);
    expect(temps(dir)).toEqual([]);
    expect(existsSync(`${path}.sdx`)).toBe(false);
  });
});

describe('a full file system (a 1 MiB tmpfs; root only): ENOSPC part-way through the batches', () => {
  let mount: string | undefined;
  beforeAll(() => {
    if (process.getuid?.() !== 0) return;
    const dir = tmp.sub('tmpfs');
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]).status === 0) mount = dir;
  });
  afterAll(() => {
    if (mount !== undefined) spawnSync('umount', [mount]);
  });

  it('writeIndexFile: ENOSPC, the old index intact, no temporary file (the space is free again), a smaller index then fits', async (context) => {
    if (mount === undefined) return context.skip();
    const path = join(mount, 'data.sdx');
    const small = partSections(61);
    await writeIndexFile(path, small.joined);
    const before = readFileSync(path);
    // 3,000 parts of 100 u32 values: 1.2 MB in three batches, more than the file system holds.
    const rand = prng(62);
    const big = new Map<string, WritableSection>([['u', { kind: 'u32', parts: Array.from({ length: 3000 }, () => Uint32Array.from({ length: 100 }, () => Math.floor(rand() * 2 ** 32))) }]]);
    const unhandled = await unhandledDuring(async () => {
      await expect(writeIndexFile(path, big)).rejects.toMatchObject({
        code: 'IO_ERROR',
        file: path,
        message: `${path}: cannot write the index file: writing failed (ENOSPC: no space left on device, write)`,
        cause: { code: 'ENOSPC' },
      });
    });
    expect(unhandled).toEqual([]);
    expect(readdirSync(mount)).toEqual(['data.sdx']);
    expect(readFileSync(path).equals(before)).toBe(true);
    // The space the failed file took is free again: an index of 600 KB fits beside the old one (190 KB).
    const fits = new Map<string, WritableSection>([['u', { kind: 'u32', parts: Array.from({ length: 1500 }, (_, k) => new Uint32Array(100).fill(k)) }]]);
    await writeIndexFile(path, fits);
    expect(readdirSync(mount)).toEqual(['data.sdx']);
    expect(((await loadAllSections(path)).get('u') as Uint32Array).length).toBe(150_000);
  });

  it('openIndexed with its index there: the warning names the index and ENOSPC, the records are right, nothing left in the file system', async (context) => {
    if (mount === undefined) return context.skip();
    const dir = tmp.sub('enospc-data');
    const text = csv(100_000, 63, false);
    const path = join(dir, 'data.csv');
    writeFileSync(path, text);
    const index = join(mount, 'other.sdx');
    const warnings: string[] = [];
    const file = await openIndexed(path, { records: 'csv', timeColumn: 'time', index, onWarning: (m) => warnings.push(m) });
    expect(file.report.status).toBe('none');
    checkAgainstText(file, text, true);
    await file.close();
    expect(warnings).toEqual([`could not save index to ${index}: cannot write the index file: writing failed (ENOSPC: no space left on device, write)`]);
    expect(readdirSync(mount).filter((f) => f !== 'data.sdx')).toEqual([]);
  });
});
