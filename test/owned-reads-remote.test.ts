/**
 * HTTP and S3 sources hand out arrays of the caller's own (a download, a copy out of a shared request or of
 * read-ahead, a disk-cache entry read anew), so they say `ownsReads` and the readers move their units to the
 * workers instead of copying them. The bytes must stay right through the disk cache (filled, then read back)
 * and read-ahead (held ranges taken by the reads), over repeated passes.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeS3Clients, closeSharedPool, configureRemoteRequests, HttpSource, openReader, S3Source } from '../src/index.js';
import type { ByteSource } from '../src/sources/source.js';
import { bzip2, makeText, startRangeServer, tempDir, xz, type RangeServer } from './support/fixtures.js';
import { readAllDigest, recordingPool, sha, uncopied } from './support/owned-reads.js';
import { startS3, useTestCredentials, type S3Server } from './support/s3.js';

const tmp = tempDir('seekdata-owned-remote-');
const text = makeText(2 << 20, 9);
const files: Record<string, Buffer> = { 'd.txt.xz': xz(text, '--block-size=262144'), 'd.txt.bz2': bzip2(text, 1) };
const BUCKET = 'owned';
const savedEnv = { ...process.env };
let http: RangeServer;
let s3: S3Server;

beforeAll(async () => {
  useTestCredentials();
  http = await startRangeServer(files);
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  for (const [name, bytes] of Object.entries(files)) await s3.put(BUCKET, name, bytes);
});
afterAll(async () => {
  configureRemoteRequests({ readAheadBytes: 64 << 20 });
  await closeS3Clients();
  await closeSharedPool();
  await http.close();
  await s3.close();
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
  Object.assign(process.env, savedEnv);
  tmp.cleanup();
});

describe('remote reads are moved to the workers', () => {
  it('HttpSource and S3Source say their reads are owned; an object spread from one does not', async () => {
    const source = await HttpSource.open(http.url('d.txt.xz'));
    const object = await S3Source.open(`s3://${BUCKET}/d.txt.xz`, { endpoint: s3.endpoint });
    try {
      expect(source.ownsReads).toBe(true);
      expect(object.ownsReads).toBe(true);
      expect((({ ...source }) as ByteSource).ownsReads).toBeUndefined();
    } finally {
      await source.close();
      await object.close();
    }
  });

  for (const name of Object.keys(files)) {
    it(`${name} over HTTP: units moved, bytes right, through the disk cache (filled, then read back) and read-ahead`, async () => {
      const cacheDir = join(tmp.dir, `cache-${name}`);
      for (let pass = 0; pass < 3; pass++) {
        const source = await HttpSource.open(http.url(name), { remoteCacheDir: cacheDir });
        const { runner, jobs } = recordingPool();
        expect(await readAllDigest(source, runner, { index: false })).toBe(sha(text));
        expect(jobs.length).toBeGreaterThan(1);
        // Downloads are moved (or copied once into bzip2's shared scan windows, which are posted without a
        // copy); answers read back from the disk cache are views of their entry's file, copied.
        if (pass === 0) expect(jobs.filter((j) => !uncopied(j))).toEqual([]);
      }
      // Read-ahead: every unit's range held before the reads take them.
      configureRemoteRequests({ readAheadBytes: 64 << 20 });
      const source = await HttpSource.open(http.url(name));
      const probe = await openReader(http.url(name), { index: false });
      const ranges = Array.from({ length: probe.units.count }, (_, u) => {
        const first = Math.floor(probe.units.cStart[u] / (name.endsWith('.bz2') ? 8 : 1));
        const end = name.endsWith('.bz2') ? Math.min(probe.size, Math.ceil(probe.units.cEnd[u] / 8)) : probe.units.cEnd[u];
        return [first, end - first] as const;
      });
      await probe.close();
      await source.prefetch(ranges);
      const { runner, jobs } = recordingPool();
      expect(await readAllDigest(source, runner, { index: false })).toBe(sha(text));
      expect(jobs.some(uncopied)).toBe(true);
    });
  }

  it('an S3 object: units moved, bytes right over two passes', async () => {
    for (let pass = 0; pass < 2; pass++) {
      const source = await S3Source.open(`s3://${BUCKET}/d.txt.xz`, { endpoint: s3.endpoint });
      const { runner, jobs } = recordingPool();
      expect(await readAllDigest(source, runner, { index: false })).toBe(sha(text));
      expect(jobs.length).toBeGreaterThan(1);
      expect(jobs.filter((j) => !j.moved)).toEqual([]);
    }
  });
});
