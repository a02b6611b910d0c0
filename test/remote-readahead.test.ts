/**
 * Read-ahead of remote sources, on a real S3 API server (s3rver, the real AWS SDK) behind the fault proxy:
 * ranges hinted with `prefetch` come in one coalesced GET and are served from it, byte for byte; the
 * shared byte budget bounds what is held and is given back once the ranges are read; faults, retries, a
 * replaced object (STALE_SOURCE) and a spent retry budget behave as without read-ahead; and a chunked
 * epoch over an s3:// collection (gzip and xz shards of several chunks) fetches each file's chunks in
 * fewer GETs than chunks (and fills the disk cache, so a second epoch downloads nothing), while yielding
 * exactly the batches of the same collection on local disk.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeS3Clients, closeSharedPool, configureRemoteRequests, HttpSource, Limiter, openCollection, S3Source, SeekdataError, ShuffledBatchDataset, type Batch, type CollectionOptions, type IndexedCollection } from '../src/index.js';
import { sharedReadAhead } from '../src/sources/read-ahead.js';
import { run, startRangeServer, tempDir } from './support/fixtures.js';
import { datasetFixture } from './support/dataset-fixture.js';
import { startFaultProxy, startS3, useTestCredentials, type FaultProxy, type S3Server } from './support/s3.js';

const BUCKET = 'seekdata-readahead';
const tmp = tempDir('seekdata-remote-readahead-');
const local = join(tmp.dir, 'local');
mkdirSync(local);
// Two gzip shards (checkpoints every 64 KiB of CSV: 4 chunks each) and two xz shards (16 KiB blocks).
const shards = [
  { name: 'part-0.csv.gz', bytes: run('gzip', ['-c', '-6'], datasetFixture(6000, 1).csv) },
  { name: 'part-1.csv.xz', bytes: run('xz', ['-c', '--block-size=16KiB'], datasetFixture(3000, 2).csv) },
  { name: 'part-2.csv.gz', bytes: run('gzip', ['-c', '-6'], datasetFixture(5000, 3).csv) },
  { name: 'part-3.csv.xz', bytes: run('xz', ['-c', '--block-size=16KiB'], datasetFixture(2500, 4).csv) },
];
const blob = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919 + (i >> 8)) & 0xff));
let s3: S3Server;
let proxy: FaultProxy;
const savedEnv = { ...process.env };

beforeAll(async () => {
  useTestCredentials();
  process.env.SEEKDATA_CACHE_DIR = join(tmp.dir, 'index-cache');
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  for (const s of shards) {
    await s3.put(BUCKET, `shards/${s.name}`, s.bytes);
    writeFileSync(join(local, s.name), s.bytes);
  }
  await s3.put(BUCKET, 'blob.bin', blob);
  proxy = await startFaultProxy(s3.port);
});
afterEach(() => {
  proxy.setPlan({});
  configureRemoteRequests({ readAheadBytes: 64 << 20 });
});
afterAll(async () => {
  await closeS3Clients();
  await closeSharedPool();
  await proxy.close();
  await s3.close();
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
  Object.assign(process.env, savedEnv);
  tmp.cleanup();
});

const gets = (f: FaultProxy, from: number): number => f.seen.slice(from).filter((r) => r.method === 'GET').length;
const ranges: Array<readonly [number, number]> = [
  [10_000, 30_000],
  [40_000, 25_000],
  [65_000, 50_000],
];

/** `measure` with read-ahead off, then on again (the default budget, 64 MiB). */
async function offThenOn<T>(measure: () => Promise<T>): Promise<{ off: T; on: T }> {
  configureRemoteRequests({ readAheadBytes: 0 });
  const off = await measure();
  configureRemoteRequests({ readAheadBytes: 64 << 20 });
  return { off, on: await measure() };
}

describe('S3Source.prefetch', () => {
  it('fetches hinted ranges in one coalesced GET and serves the reads from it, byte for byte', async () => {
    const source = await S3Source.open(`s3://${BUCKET}/blob.bin`, { endpoint: proxy.url });
    try {
      const seen = proxy.seen.length;
      await source.prefetch(ranges);
      const got = await Promise.all(ranges.map(([o, l]) => source.read(o, l)));
      got.forEach((bytes, i) => expect(Buffer.from(bytes).equals(blob.subarray(ranges[i][0], ranges[i][0] + ranges[i][1]))).toBe(true));
      expect(gets(proxy, seen)).toBe(1);
      // One span from the first range's start to the last one's end (the 10 KB gap is under maxGapBytes).
      expect(proxy.seen.slice(seen).find((r) => r.method === 'GET')?.headers.range).toBe('bytes=10000-114999');
      expect(source.stats.readAheadBytes).toBe(105_000);
      // Everything read: the budget is given back.
      expect(sharedReadAhead().held).toBe(0);
      // Each answer owns its memory (a worker may take it): moving one leaves the others whole.
      structuredClone(got[0], { transfer: [got[0].buffer as ArrayBuffer] });
      expect(Buffer.from(got[1]).equals(blob.subarray(40_000, 65_000))).toBe(true);
    } finally {
      await source.close();
    }
  });

  it('a read right after its hint waits for the hinted request (with the disk cache on too): one GET, nothing left held', async () => {
    const source = await S3Source.open(`s3://${BUCKET}/blob.bin`, { endpoint: proxy.url, remoteCacheDir: join(tmp.dir, 'blob-cache') });
    try {
      const seen = proxy.seen.length;
      const hinted = source.prefetch(ranges);
      const got = await Promise.all(ranges.map(([o, l]) => source.read(o, l)));
      await hinted;
      got.forEach((bytes, i) => expect(Buffer.from(bytes).equals(blob.subarray(ranges[i][0], ranges[i][0] + ranges[i][1]))).toBe(true));
      expect(gets(proxy, seen)).toBe(1);
      expect(sharedReadAhead().held).toBe(0);
      // The ranges read are in the disk cache now: hinting them again sends nothing.
      const again = proxy.seen.length;
      await source.prefetch(ranges);
      await Promise.all(ranges.map(([o, l]) => source.read(o, l)));
      expect(gets(proxy, again)).toBe(0);
      expect(source.stats.cacheHits).toBe(3);
      expect(sharedReadAhead().held).toBe(0);
    } finally {
      await source.close();
    }
  });

  it('holds no more than the shared budget: hints that do not fit are read on demand', async () => {
    configureRemoteRequests({ readAheadBytes: 50_000 });
    const source = await S3Source.open(`s3://${BUCKET}/blob.bin`, { endpoint: proxy.url, coalesce: { maxRequestBytes: 30_000 } });
    try {
      const seen = proxy.seen.length;
      // Three requests (none fits with another in 30,000 bytes): the first fits the budget, the second not (55,000).
      await source.prefetch(ranges);
      expect(sharedReadAhead().held).toBe(30_000);
      const got = await Promise.all(ranges.map(([o, l]) => source.read(o, l)));
      got.forEach((bytes, i) => expect(Buffer.from(bytes).equals(blob.subarray(ranges[i][0], ranges[i][0] + ranges[i][1]))).toBe(true));
      expect(source.stats.readAheadBytes).toBe(30_000);
      expect(gets(proxy, seen)).toBe(3);
      expect(sharedReadAhead().held).toBe(0);
    } finally {
      await source.close();
    }
  });

  it('gives back what a closed source held, and turns off with readAheadBytes 0', async () => {
    const source = await S3Source.open(`s3://${BUCKET}/blob.bin`, { endpoint: proxy.url });
    await source.prefetch(ranges);
    expect(sharedReadAhead().held).toBe(105_000);
    await source.close();
    expect(sharedReadAhead().held).toBe(0);
    configureRemoteRequests({ readAheadBytes: 0 });
    const again = await S3Source.open(`s3://${BUCKET}/blob.bin`, { endpoint: proxy.url });
    try {
      const seen = proxy.seen.length;
      await again.prefetch(ranges);
      expect(gets(proxy, seen)).toBe(0);
      expect(() => configureRemoteRequests({ readAheadBytes: -1 })).toThrow(/options\.readAheadBytes must be a non-negative integer, got -1/);
    } finally {
      await again.close();
    }
  });

  it('retries a read-ahead through 503 / SlowDown faults and still serves the exact bytes', async () => {
    const source = await S3Source.open(`s3://${BUCKET}/blob.bin`, { endpoint: proxy.url, retry: { baseDelayMs: 1 } });
    try {
      let n = 0;
      proxy.setPlan({ fault: (_k, req) => (req.method === 'GET' && n++ < 2 ? (n === 1 ? '503' : 'slowdown') : 'pass') });
      await source.prefetch(ranges);
      const got = await Promise.all(ranges.map(([o, l]) => source.read(o, l)));
      got.forEach((bytes, i) => expect(Buffer.from(bytes).equals(blob.subarray(ranges[i][0], ranges[i][0] + ranges[i][1]))).toBe(true));
      expect(source.stats.retries).toBe(2);
      expect(source.stats.readAheadBytes).toBe(105_000);
    } finally {
      await source.close();
    }
  });

  it('a read-ahead that fails for good leaves the read to fail with its own typed error naming the object', async () => {
    const source = await S3Source.open(`s3://${BUCKET}/blob.bin`, { endpoint: proxy.url, retry: { maxAttempts: 2, baseDelayMs: 1 } });
    try {
      proxy.setPlan({ fault: (_k, req) => (req.method === 'GET' ? '503' : 'pass') });
      await source.prefetch(ranges);
      const error = await source.read(40_000, 25_000).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SeekdataError);
      expect((error as SeekdataError).code).toBe('SOURCE_ERROR');
      expect((error as SeekdataError).message).toContain(`s3://${BUCKET}/blob.bin`);
      expect((error as SeekdataError).message).toContain('bytes 40000-64999');
      expect(sharedReadAhead().held).toBe(0);
    } finally {
      await source.close();
    }
  });

  it('an object replaced after open is STALE_SOURCE on the read, never its new bytes', async () => {
    await s3.put(BUCKET, 'changing.bin', blob);
    const source = await S3Source.open(`s3://${BUCKET}/changing.bin`, { endpoint: proxy.url });
    try {
      await s3.put(BUCKET, 'changing.bin', Buffer.from(blob).reverse());
      await source.prefetch(ranges);
      const error = await source.read(10_000, 30_000).catch((e: unknown) => e);
      expect((error as SeekdataError).code).toBe('STALE_SOURCE');
      expect(source.stats.readAheadBytes).toBe(0);
    } finally {
      await source.close();
    }
  });
});

describe('requests in flight', () => {
  it('the SDK client does not cap them below the limiters (its default is 50 sockets per host)', async () => {
    const source = await S3Source.open(`s3://${BUCKET}/blob.bin`, { endpoint: proxy.url, maxInFlight: 60, limiter: new Limiter(60) });
    try {
      // Every answer is held back 3 s: all 60 requests must reach the proxy before the first answer comes.
      proxy.setPlan({ latencyMs: 3000 });
      const seen = proxy.requests;
      let seenAtFirstAnswer = -1;
      await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          source.read(i * 1000, 1000).then((bytes) => {
            if (seenAtFirstAnswer < 0) seenAtFirstAnswer = proxy.requests - seen;
            expect(Buffer.from(bytes).equals(blob.subarray(i * 1000, i * 1000 + 1000))).toBe(true);
          }),
        ),
      );
      expect(seenAtFirstAnswer).toBe(60);
    } finally {
      await source.close();
    }
  });
});

describe('HttpSource.prefetch', () => {
  it('coalesces hinted ranges into one ranged GET and serves them; a replaced file is STALE_SOURCE on the read', async () => {
    const server = await startRangeServer({ 'blob.bin': blob });
    try {
      const source = await HttpSource.open(server.url('blob.bin'));
      try {
        const seen = server.requests;
        await source.prefetch(ranges);
        const got = await Promise.all(ranges.map(([o, l]) => source.read(o, l)));
        got.forEach((bytes, i) => expect(Buffer.from(bytes).equals(blob.subarray(ranges[i][0], ranges[i][0] + ranges[i][1]))).toBe(true));
        expect(server.requests - seen).toBe(1);
        expect(server.seen[server.seen.length - 1].range).toBe('bytes=10000-114999');
        expect(source.stats.readAheadBytes).toBe(105_000);
        server.replace('blob.bin', Buffer.from(blob).reverse());
        await source.prefetch([[120_000, 10_000]]);
        const error = await source.read(120_000, 10_000).catch((e: unknown) => e);
        expect((error as SeekdataError).code).toBe('STALE_SOURCE');
        expect(sharedReadAhead().held).toBe(0);
      } finally {
        await source.close();
      }
    } finally {
      await server.close();
    }
  });
});

describe('a chunked epoch over an s3:// collection', () => {
  const options: CollectionOptions = { records: 'csv', gzipSpacingBytes: 1 << 16, parallelism: 1 };
  const glob = `s3://${BUCKET}/shards/part-*`;

  async function epoch(data: IndexedCollection, shuffle: 'chunked' | false = 'chunked'): Promise<Batch[]> {
    const out: Batch[] = [];
    const ds = new ShuffledBatchDataset(data, { features: ['b'], labels: 'label', batchSize: 256, shuffle, seed: 5, windowChunks: 3, onMalformed: 'skip', missing: 'mean', onWarning: () => undefined });
    for await (const b of ds) out.push(b);
    return out;
  }
  const plain = (batches: Batch[]): Array<{ records: number[]; xs: number[]; ys: number[] }> => batches.map((b) => ({ records: [...b.records], xs: [...b.xs], ys: b.ys === undefined ? [] : [...b.ys] }));
  const chunksOf = (data: IndexedCollection): number => data.files.reduce((n, f) => n + f.reader.layout.count, 0);

  it('fetches the chunks of each file in far fewer GETs than without read-ahead, each byte once, with the batches of local disk', async () => {
    const truth = await openCollection(join(local, 'part-*'), options);
    const localBatches = plain(await epoch(truth));
    await truth.close();
    // Indexes built (into the index cache) before the measured epochs.
    await (await openCollection(glob, { ...options, endpoint: s3.endpoint })).close();
    const measure = async (): Promise<{ requests: number; chunks: number; downloaded: number; readAhead: number; held: number }> => {
      const data = await openCollection(glob, { ...options, endpoint: proxy.url });
      try {
        const before = data.remoteStats();
        expect(plain(await epoch(data))).toEqual(localBatches);
        const after = data.remoteStats();
        // Held now: what the epoch had fetched ahead and not read (all of it was read: nothing).
        return { requests: after.requests - before.requests, chunks: chunksOf(data), downloaded: after.bytesDownloaded - before.bytesDownloaded, readAhead: after.readAheadBytes - before.readAheadBytes, held: sharedReadAhead().held };
      } finally {
        await data.close();
      }
    };
    const { off, on } = await offThenOn(measure);
    expect(off.chunks).toBeGreaterThanOrEqual(20);
    // Without read-ahead every chunk is a GET of its own (and a loaded index's tail checks read some more).
    expect(off.requests).toBeGreaterThanOrEqual(off.chunks);
    expect(off.readAhead).toBe(0);
    // With it, each file's chunks come in a few large GETs.
    expect(on.requests).toBeLessThan(off.requests / 2);
    expect(on.readAhead).toBeGreaterThan(0);
    const compressed = shards.reduce((n, s) => n + s.bytes.length, 0);
    expect(on.downloaded).toBeLessThanOrEqual(1.1 * compressed);
    expect(on.held).toBe(0);
  });

  it('with the disk cache on, the read-ahead fills it and the second epoch downloads nothing', async () => {
    const truth = await openCollection(join(local, 'part-*'), options);
    const localBatches = plain(await epoch(truth));
    await truth.close();
    const cached = { ...options, endpoint: proxy.url, remoteCacheDir: join(tmp.dir, 'chunk-cache') };
    for (const round of [1, 2]) {
      const data = await openCollection(glob, cached);
      try {
        const before = data.remoteStats();
        expect(plain(await epoch(data))).toEqual(localBatches);
        const after = data.remoteStats();
        if (round === 1) {
          expect(after.readAheadBytes - before.readAheadBytes).toBeGreaterThan(0);
          // Each byte downloaded once (a read racing its hint would download its chunk twice).
          expect(after.bytesDownloaded - before.bytesDownloaded).toBeLessThanOrEqual(1.1 * shards.reduce((n, s) => n + s.bytes.length, 0));
          expect(sharedReadAhead().held).toBe(0);
        } else {
          expect(after.requests - before.requests).toBe(0);
          expect(after.readAheadBytes - before.readAheadBytes).toBe(0);
          expect(after.cacheHits - before.cacheHits).toBeGreaterThanOrEqual(chunksOf(data));
        }
      } finally {
        await data.close();
      }
    }
  });

  it('reads the remote files of a collection ahead when a local file comes first (file order)', async () => {
    const sources = [join(local, shards[0].name), ...shards.slice(1).map((x) => `s3://${BUCKET}/shards/${x.name}`)];
    const truth = await openCollection(shards.map((x) => join(local, x.name)), options);
    const localBatches = plain(await epoch(truth, false));
    await truth.close();
    const measure = async (): Promise<{ requests: number; readAhead: number }> => {
      const data = await openCollection(sources, { ...options, endpoint: proxy.url });
      try {
        const before = data.remoteStats();
        expect(plain(await epoch(data, false))).toEqual(localBatches);
        const after = data.remoteStats();
        return { requests: after.requests - before.requests, readAhead: after.readAheadBytes - before.readAheadBytes };
      } finally {
        await data.close();
      }
    };
    const { off, on } = await offThenOn(measure);
    expect(on.readAhead).toBeGreaterThan(0);
    expect(on.requests).toBeLessThan(off.requests / 2);
  });

  it('stays exact behind a proxy answering 503 to every third GET', async () => {
    const truth = await openCollection(join(local, 'part-*'), options);
    const localBatches = plain(await epoch(truth));
    await truth.close();
    const data = await openCollection(glob, { ...options, endpoint: proxy.url, retry: { baseDelayMs: 1 } });
    try {
      let n = 0;
      proxy.setPlan({ fault: (_k, req) => (req.method === 'GET' && ++n % 3 === 0 ? '503' : 'pass') });
      const before = data.remoteStats();
      expect(plain(await epoch(data))).toEqual(localBatches);
      expect(data.remoteStats().retries - before.retries).toBeGreaterThan(0);
    } finally {
      await data.close();
    }
  });
});
