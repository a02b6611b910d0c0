/**
 * The remote disk cache: a second pass downloads nothing and gives the same bytes; a new version of the
 * object never meets old entries; a damaged or partial entry is never served; LRU eviction by bytes; safe
 * file modes; directories not the user's own are refused; several processes sharing one small cache (with
 * evictions racing their reads) all read exactly the right bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpSource, S3Source } from '../src/index.js';
import { startRangeServer, tempDir, type RangeServer } from './support/fixtures.js';
import { startS3, useTestCredentials, type S3Server } from './support/s3.js';

const BUCKET = 'seekdata-cache';
const data = Uint8Array.from({ length: 1_000_000 }, (_, i) => (i * 13 + (i >> 10)) & 0xff);
let s3: S3Server;
let http: RangeServer;
const tmp = tempDir('seekdata-s3-cache-');

beforeAll(async () => {
  useTestCredentials();
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  await s3.put(BUCKET, 'obj.bin', data);
  http = await startRangeServer({ 'obj.bin': data });
});
afterAll(async () => {
  await http.close();
  await s3.close();
  tmp.cleanup();
});

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));
const chunks = (size: number, step: number): Array<[number, number]> => Array.from({ length: Math.ceil(size / step) }, (_, i) => [i * step, Math.min(step, size - i * step)] as [number, number]);
const entries = (dir: string): string[] => readdirSync(dir).filter((n) => n.endsWith('.blk'));

describe('remote disk cache', () => {
  it('S3 and HTTP: the second pass (a new source, same cache) downloads nothing and gives the same bytes', async () => {
    for (const [label, open] of [
      ['s3', (dir: string) => S3Source.open(`s3://${BUCKET}/obj.bin`, { endpoint: s3.endpoint, remoteCacheDir: dir })],
      ['http', (dir: string) => HttpSource.open(http.url('obj.bin'), { remoteCacheDir: dir })],
    ] as const) {
      const dir = join(tmp.dir, `second-pass-${label}`);
      const ranges = chunks(data.length, 100_000);
      const first = await open(dir);
      const one = await first.readRanges(ranges);
      one.forEach((bytes, i) => expect(same(bytes, data.subarray(ranges[i][0], ranges[i][0] + ranges[i][1]))).toBe(true));
      expect(first.stats.bytesDownloaded).toBe(data.length);
      expect(first.stats.cacheHits).toBe(0);
      const second = await open(dir);
      const requestsAtOpen = second.stats.requests;
      const two = await second.readRanges(ranges);
      two.forEach((bytes, i) => expect(same(bytes, data.subarray(ranges[i][0], ranges[i][0] + ranges[i][1]))).toBe(true));
      expect(second.stats.bytesDownloaded).toBe(0);
      expect(second.stats.requests).toBe(requestsAtOpen);
      expect(second.stats.cacheHits).toBe(ranges.length);
      expect(second.stats.cacheBytes).toBe(data.length);
      // Entries: never world- or group-writable; the directory private.
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      for (const name of entries(dir)) expect(statSync(join(dir, name)).mode & 0o022).toBe(0);
      // File names hold no part of the object's name.
      expect(readdirSync(dir).join(' ')).not.toMatch(/obj|127\.0\.0\.1|seekdata-cache/);
    }
  });

  it('a new version of the object does not meet the old entries', async () => {
    const dir = join(tmp.dir, 'versions');
    await s3.put(BUCKET, 'changing.bin', data.subarray(0, 200_000));
    const old = await S3Source.open(`s3://${BUCKET}/changing.bin`, { endpoint: s3.endpoint, remoteCacheDir: dir });
    await old.read(0, 50_000);
    const changed = Uint8Array.from(data.subarray(0, 200_000), (b) => b ^ 0x5a);
    await s3.put(BUCKET, 'changing.bin', changed);
    const fresh = await S3Source.open(`s3://${BUCKET}/changing.bin`, { endpoint: s3.endpoint, remoteCacheDir: dir });
    expect(same(await fresh.read(0, 50_000), changed.subarray(0, 50_000))).toBe(true);
    expect(fresh.stats.cacheHits).toBe(0);
    // And the old source, whose entry is still there, is stale for anything it has not cached.
    await expect(old.read(60_000, 10)).rejects.toMatchObject({ code: 'STALE_SOURCE' });
  });

  it('a damaged, truncated or emptied entry is never served: it is fetched again', async () => {
    const dir = join(tmp.dir, 'damaged');
    const open = () => S3Source.open(`s3://${BUCKET}/obj.bin`, { endpoint: s3.endpoint, remoteCacheDir: dir });
    const ranges = chunks(300_000, 100_000);
    await (await open()).readRanges(ranges);
    const names = entries(dir).sort();
    expect(names.length).toBe(3);
    const flip = Buffer.from(readFileSync(join(dir, names[0])));
    flip[flip.length - 7] ^= 1;
    writeFileSync(join(dir, names[0]), flip);
    writeFileSync(join(dir, names[1]), readFileSync(join(dir, names[1])).subarray(0, 5000));
    writeFileSync(join(dir, names[2]), new Uint8Array(0));
    const again = await open();
    const got = await again.readRanges(ranges);
    got.forEach((bytes, i) => expect(same(bytes, data.subarray(ranges[i][0], ranges[i][0] + ranges[i][1]))).toBe(true));
    expect(again.stats.cacheHits).toBe(0);
    expect(again.stats.bytesDownloaded).toBe(300_000);
  });

  it('LRU by bytes: the directory stays within remoteCacheBytes, and a recently used entry outlives older ones', async () => {
    const dir = join(tmp.dir, 'lru');
    const budget = 350_000; // room for three 100 kB entries (and their headers)
    const source = await S3Source.open(`s3://${BUCKET}/obj.bin`, { endpoint: s3.endpoint, remoteCacheDir: dir, remoteCacheBytes: budget });
    await source.read(0, 100_000);
    await new Promise((ok) => setTimeout(ok, 20));
    await source.read(100_000, 100_000);
    await new Promise((ok) => setTimeout(ok, 20));
    await source.read(0, 100_000); // a hit: entry 0 is now the most recent
    expect(source.stats.cacheHits).toBe(1);
    await new Promise((ok) => setTimeout(ok, 20));
    const total = (): number => entries(dir).reduce((sum, n) => sum + statSync(join(dir, n)).size, 0);
    for (let k = 2; k < 4; k++) {
      await source.read(k * 100_000, 100_000);
      await new Promise((ok) => setTimeout(ok, 20));
      expect(total()).toBeLessThanOrEqual(budget);
    }
    // Entry 3 did not fit: the least recently used one (1) went, not the oldest written (0, used since).
    const reader = await S3Source.open(`s3://${BUCKET}/obj.bin`, { endpoint: s3.endpoint, remoteCacheDir: dir, remoteCacheBytes: budget });
    await reader.read(0, 100_000);
    expect(reader.stats.cacheHits).toBe(1);
    await reader.read(100_000, 100_000);
    expect(reader.stats.cacheHits).toBe(1);
    for (let k = 4; k < 10; k++) {
      await reader.read(k * 100_000, 100_000);
      expect(total()).toBeLessThanOrEqual(budget);
    }
  });

  it('refuses a directory owned by another user or writable by everyone', async () => {
    const open = (dir: string) => S3Source.open(`s3://${BUCKET}/obj.bin`, { endpoint: s3.endpoint, remoteCacheDir: dir });
    const everyone = join(tmp.dir, 'everyone');
    mkdirSync(everyone);
    chmodSync(everyone, 0o777);
    await expect(open(everyone)).rejects.toMatchObject({ code: 'IO_ERROR', message: /writable by every user/ });
    if (process.getuid?.() === 0) {
      const other = join(tmp.dir, 'other');
      mkdirSync(other, { mode: 0o700 });
      chownSync(other, 65534, 65534);
      await expect(open(other)).rejects.toMatchObject({ code: 'IO_ERROR', message: /owned by uid 65534/ });
    }
    await expect(S3Source.open(`s3://${BUCKET}/obj.bin`, { endpoint: s3.endpoint, remoteCacheBytes: 5 })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });

  it('three processes sharing one small cache that keeps evicting all read exactly the right bytes', async () => {
    const dir = join(tmp.dir, 'shared');
    const hashes = chunks(data.length, 32_768).map(([o, l]) => createHash('sha256').update(data.subarray(o, o + l)).digest('hex'));
    const hashesFile = join(tmp.dir, 'hashes.txt');
    writeFileSync(hashesFile, hashes.join('\n'));
    const budget = 400_000; // less than half the object: evictions race the reads
    const runs = await Promise.all(
      [1, 2, 3].map(
        (seed) =>
          new Promise<{ code: number | null; out: string; err: string }>((done) => {
            const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/s3-cache-child.ts', s3.endpoint, `s3://${BUCKET}/obj.bin`, dir, String(budget), String(seed), hashesFile], {
              env: process.env,
            });
            let out = '';
            let err = '';
            child.stdout.on('data', (d: Buffer) => (out += d.toString()));
            child.stderr.on('data', (d: Buffer) => (err += d.toString()));
            child.on('close', (code) => done({ code, out, err }));
          }),
      ),
    );
    for (const run of runs) {
      expect(run.err.replace(/\(node:\d+\) Warning: NodeVersionSupportWarning[\s\S]*?show where the warning was created\)\n?/g, '')).toBe('');
      expect(run.code).toBe(0);
      expect(run.out).toMatch(/^ok \d+ \d+/);
    }
    // Some reads were served from the shared cache.
    expect(runs.reduce((sum, run) => sum + Number(run.out.split(' ')[2]), 0)).toBeGreaterThan(0);
    const total = entries(dir).reduce((sum, n) => sum + statSync(join(dir, n)).size, 0);
    expect(total).toBeLessThanOrEqual(budget + 3 * 32_768 * 2);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  }, 180_000);
});
