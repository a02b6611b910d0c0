/**
 * The index file as untrusted, optional input (issue 8 items 9, 11, 13; issue 13 item 4): sections are
 * loaded only when a command uses them; a FIFO, a device or a directory where the index should be is
 * skipped with a warning (never a hang, never unbounded memory, never a hard failure); every candidate
 * place is looked at; files are written with the umask, never world-writable, through an exclusively
 * created temporary file; a cache directory that is not the user's own is refused.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeSharedPool, openIndexed, openReader } from '../src/index.js';
import { writeIndexFile, type SectionValue } from '../src/index/index-file.js';
import { indexPlacesFor } from '../src/index/location.js';
import { bzip2, startRangeServer, tempDir, writeFixture } from './support/fixtures.js';
import { entry } from './support/sdx.js';

const tmp = tempDir();
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});
afterEach(() => {
  delete process.env.SEEKDATA_CACHE_DIR;
});

const text = Buffer.from(['a,b', ...Array.from({ length: 20_000 }, (_, i) => `${i},${(i * 13) % 97}`)].join('\n') + '\n');
let n = 0;
function fixture(): string {
  const dir = join(tmp.dir, `case${n++}`);
  mkdirSync(dir);
  return writeFixture(dir, 'data.csv.bz2', bzip2(text, 1));
}
function useCache(): string {
  const dir = join(tmp.dir, `cache${n++}`);
  process.env.SEEKDATA_CACHE_DIR = dir;
  return dir;
}

describe('sections are loaded only when used', () => {
  it('a byte reader does not read the record sections: damage there does not stop it, but does stop a record reader', async () => {
    const path = fixture();
    await (await openIndexed(path, { records: 'csv', parallelism: 1 })).close();
    const index = readFileSync(`${path}.sdx`);
    const offsets = entry(index, 'records.offsets');
    index[offsets.offset + offsets.length - 1] ^= 0xff;
    writeFileSync(`${path}.sdx`, index);
    const reader = await openReader(path, { ifStale: 'error' });
    expect(reader.indexStatus).toBe('loaded');
    expect(Buffer.from(await reader.read(100, 50)).equals(text.subarray(100, 150))).toBe(true);
    await reader.close();
    await expect(openIndexed(path, { ifStale: 'error' })).rejects.toThrow(/section records\.offsets checksum mismatch/);
  });
});

describe('what is at the index path is checked before it is opened', () => {
  it('a FIFO as .sdx is skipped with a warning (no hang); the index goes to the cache directory', async () => {
    const path = fixture();
    const cache = useCache();
    execFileSync('mkfifo', [`${path}.sdx`]);
    const warnings: string[] = [];
    const reader = await openReader(path, { onWarning: (m) => warnings.push(m) });
    expect(warnings.join()).toMatch(/data\.csv\.bz2\.sdx is a FIFO, not an index file; ignored/);
    expect(reader.indexPath?.startsWith(cache)).toBe(true);
    await reader.close();
    expect(statSync(`${path}.sdx`).isFIFO()).toBe(true);
    const again = await openReader(path, { ifStale: 'error' });
    expect(again.indexStatus).toBe('loaded');
    await again.close();
  });

  it('an .sdx symlinked to /dev/zero is skipped (nothing read from it), and /dev/zero is left alone', async () => {
    const path = fixture();
    useCache();
    symlinkSync('/dev/zero', `${path}.sdx`);
    const warnings: string[] = [];
    const before = process.memoryUsage().rss;
    const file = await openIndexed(path, { records: 'csv', onWarning: (m) => warnings.push(m) });
    expect(process.memoryUsage().rss - before).toBeLessThan(512 << 20);
    expect(warnings.join()).toMatch(/is a device, not an index file; ignored/);
    expect(file.records.count).toBe(20_000);
    await file.close();
    expect(statSync('/dev/zero').isCharacterDevice()).toBe(true);
  });

  it('an explicit index path that is a FIFO or a device: no index, a warning, nothing written there', async () => {
    const path = fixture();
    const fifo = join(tmp.dir, `fifo${n++}`);
    execFileSync('mkfifo', [fifo]);
    for (const index of [fifo, '/dev/zero']) {
      const warnings: string[] = [];
      const reader = await openReader(path, { index, onWarning: (m) => warnings.push(m) });
      expect(reader.indexStatus).toBe('none');
      expect(warnings.join()).toMatch(/is not a regular file or directory: no index is read or written/);
      await reader.close();
    }
    expect(statSync(fifo).isFIFO()).toBe(true);
    expect(statSync('/dev/zero').isCharacterDevice()).toBe(true);
  });

  it('an .sdx that is a directory is a warning, not a failure; an index option naming a directory keeps the index in it', async () => {
    const path = fixture();
    const cache = useCache();
    mkdirSync(`${path}.sdx`);
    const warnings: string[] = [];
    const file = await openIndexed(path, { records: 'csv', onWarning: (m) => warnings.push(m) });
    expect(warnings.join()).toMatch(/data\.csv\.bz2\.sdx is a directory, not an index file; ignored/);
    expect(file.report.indexPath?.startsWith(cache)).toBe(true);
    await file.close();
    const dir = join(tmp.dir, `indexes${n++}`);
    mkdirSync(dir);
    const inDir = await openReader(path, { index: dir });
    expect(inDir.indexPath).toBe(join(dir, 'data.csv.bz2.sdx'));
    await inDir.close();
    const loaded = await openReader(path, { index: dir, ifStale: 'error' });
    expect(loaded.indexStatus).toBe('loaded');
    await loaded.close();
  });

  it('a stale .sdx beside the data does not hide a fresh index in the cache directory', async () => {
    const path = fixture();
    const cache = useCache();
    await (await openReader(path)).close();
    const later = new Date(Date.now() + 10_000);
    utimesSync(path, later, later);
    // The fresh index in the cache, as a read-only data directory would have had it written.
    const expected = (await indexPlacesFor(path, false, undefined, undefined))?.read[1];
    if (expected === undefined) throw new Error('no cache candidate');
    mkdirSync(cache, { mode: 0o700 });
    await (await openReader(path, { index: expected })).close();
    const reader = await openReader(path, { ifStale: 'error' });
    expect(reader.indexStatus).toBe('loaded');
    expect(reader.indexPath).toBe(expected);
    await reader.close();
  });
});

describe('files are written safely', () => {
  const sections = new Map<string, SectionValue>([['meta', { json: { x: 1 } }]]);

  it('index files get mode 0644 masked by the umask: never world-writable', async () => {
    const old = process.umask(0);
    try {
      const open = join(tmp.dir, `umask0-${n++}.sdx`);
      await writeIndexFile(open, sections);
      expect(statSync(open).mode & 0o777).toBe(0o644);
      process.umask(0o077);
      const strict = join(tmp.dir, `umask77-${n++}.sdx`);
      await writeIndexFile(strict, sections);
      expect(statSync(strict).mode & 0o777).toBe(0o600);
    } finally {
      process.umask(old);
    }
  });

  it('the temporary file is created exclusively: a symlink planted at its name is not followed', async () => {
    const victim = join(tmp.dir, `victim${n++}`);
    writeFileSync(victim, 'precious');
    const target = join(tmp.dir, `planted${n++}.sdx`);
    symlinkSync(victim, `${target}.tmp`);
    await expect(writeIndexFile(target, sections, { tempPath: (p) => `${p}.tmp` })).rejects.toMatchObject({ code: 'IO_ERROR', message: expect.stringMatching(/EEXIST/) });
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(existsSync(target)).toBe(false);
  });

  it('a new cache directory is private (0700)', async () => {
    const cache = useCache();
    const server = await startRangeServer({ 'r.csv.bz2': bzip2(text, 1) });
    try {
      const reader = await openReader(server.url('r.csv.bz2'));
      expect(reader.indexPath?.startsWith(cache)).toBe(true);
      await reader.close();
      expect(statSync(cache).mode & 0o777).toBe(0o700);
    } finally {
      await server.close();
    }
  });

  it('a cache directory owned by another user, or writable by all, is refused with a clear message', async () => {
    const cache = useCache();
    const server = await startRangeServer({ 'r.csv.bz2': bzip2(text, 1) });
    try {
      const built = await openReader(server.url('r.csv.bz2'));
      expect(built.indexStatus).toBe('built');
      await built.close();
      chownSync(cache, 12345, 12345);
      const warnings: string[] = [];
      const reader = await openReader(server.url('r.csv.bz2'), { onWarning: (m) => warnings.push(m) });
      // The index planted there (here: our own, now in a foreign directory) is not read, and none is written.
      expect(reader.indexStatus).toBe('none');
      await reader.close();
      expect(warnings.join('\n')).toMatch(/cache directory .* \(\$SEEKDATA_CACHE_DIR\) is owned by uid 12345, not by you \(uid \d+\): indexes are neither read from nor written to it/);
      expect(readdirSync(cache).filter((f) => f.endsWith('.sdx'))).toHaveLength(1);
      chownSync(cache, process.getuid?.() ?? 0, process.getgid?.() ?? 0);
      chmodSync(cache, 0o777);
      const open = await openReader(server.url('r.csv.bz2'), { onWarning: (m) => warnings.push(m) });
      expect(open.indexStatus).toBe('none');
      await open.close();
      expect(warnings.at(-1)).toMatch(/is writable by every user/);
    } finally {
      await server.close();
    }
  });
});
