/**
 * The shared retry policy under a hostile network: a fault-injecting proxy in front of s3rver (and in front
 * of a plain HTTP range server) drops connections, answers 503 / SlowDown / 500, stalls and cuts bodies.
 * Every read still returns exactly the right bytes and every fault costs one counted retry; with faults
 * beyond the budget the error is a SOURCE_ERROR naming the object, the range and the attempts; 4xx and
 * integrity failures are never retried; requests in flight stay within the limits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncomingMessage } from 'node:http';
import { HttpSource, Limiter, S3Source, type ByteSource, type RemoteStats } from '../src/index.js';
import { prng, startRangeServer, type RangeServer } from './support/fixtures.js';
import { everyNth, startFaultProxy, startS3, useTestCredentials, type FaultProxy, type S3Server } from './support/s3.js';

const BUCKET = 'seekdata-faults';
const KEY = 'shard/part-00000.bin';
const data = Uint8Array.from({ length: 2_000_000 }, (_, i) => (i * 97 + (i >> 11) * 7) & 0xff);
let s3: S3Server;
let s3Proxy: FaultProxy;
let http: RangeServer;
let httpProxy: FaultProxy;

beforeAll(async () => {
  useTestCredentials();
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  await s3.put(BUCKET, KEY, data);
  s3Proxy = await startFaultProxy(s3.port);
  http = await startRangeServer({ 'part.bin': data });
  httpProxy = await startFaultProxy(Number(new URL(http.url('part.bin')).port));
});
afterAll(async () => {
  await s3Proxy.close();
  await httpProxy.close();
  await http.close();
  await s3.close();
});

/** Ranged GETs only (the opening request of each source is left alone unless a test says otherwise). */
const rangedGet = (req: IncomingMessage): boolean => req.method === 'GET' && req.headers.range !== undefined && req.headers.range !== 'bytes=0-0';
const fast = { baseDelayMs: 5, maxDelayMs: 50 };
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string; compressedOffset?: number; cause?: unknown }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('expected a rejection');
}

interface Subject {
  label: string;
  proxy: () => FaultProxy;
  open: (extra: object) => Promise<ByteSource & { stats: RemoteStats }>;
  name: () => string;
}

const subjects: Subject[] = [
  {
    label: 'S3',
    proxy: () => s3Proxy,
    open: (extra) => S3Source.open(`s3://${BUCKET}/${KEY}`, { endpoint: s3Proxy.url, timeoutMs: 1500, ...extra }),
    name: () => `s3://${BUCKET}/${KEY}`,
  },
  {
    label: 'HTTP',
    proxy: () => httpProxy,
    open: (extra) => HttpSource.open(`${httpProxy.url}/part.bin`, { timeoutMs: 1500, ...extra }),
    name: () => `${httpProxy.url}/part.bin`,
  },
];

/** Reads the whole object in 64 KiB ranges, `batch` ranges at a time through readRanges, in a shuffled order. */
async function readAll(source: ByteSource & { readRanges?: ByteSource['readRanges'] }, batch: number): Promise<void> {
  const ranges: Array<[number, number]> = [];
  for (let offset = 0; offset < data.length; offset += 65_536) ranges.push([offset, Math.min(65_536, data.length - offset)]);
  const rand = prng(9);
  for (let i = ranges.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [ranges[i], ranges[j]] = [ranges[j], ranges[i]];
  }
  for (let i = 0; i < ranges.length; i += batch) {
    const some = ranges.slice(i, i + batch);
    const answers = source.readRanges === undefined ? [] : await source.readRanges(some);
    answers.forEach((bytes, k) => expect(same(bytes, data.subarray(some[k][0], some[k][0] + some[k][1]))).toBe(true));
  }
}

describe.each(subjects)('$label behind a faulty network', (subject) => {
  it('drops, 503, SlowDown, 500, stalls and cut bodies: exactly the right bytes, one counted retry per fault', async () => {
    const proxy = subject.proxy();
    proxy.setPlan({ fault: everyNth(3, ['drop', '503', 'slowdown', '500', 'stall', 'cut'], rangedGet) });
    const before = proxy.faults;
    try {
      const source = await subject.open({ retry: fast, coalesce: { maxGapBytes: 0, maxRequestBytes: 65_536 } });
      await readAll(source, 4);
      const faults = proxy.faults - before;
      expect(faults).toBeGreaterThanOrEqual(10);
      for (const kind of ['drop', '503', 'slowdown', '500', 'stall', 'cut'] as const) expect(proxy.injected[kind]).toBeGreaterThan(0);
      // Each fault is one failed try and so one retry (a machine slow enough to time out a healthy answer adds more).
      expect(source.stats.retries).toBeGreaterThanOrEqual(faults);
      expect(source.stats.bytesReturned).toBe(data.length);
      expect(source.stats.bytesDownloaded).toBe(data.length);
    } finally {
      proxy.setPlan({});
    }
  });

  it('faults beyond the retry budget: a SOURCE_ERROR naming the object, the range and the attempts', async () => {
    const proxy = subject.proxy();
    const source = await subject.open({ retry: { ...fast, maxAttempts: 4 } });
    proxy.setPlan({ fault: (_n, req) => (rangedGet(req) ? '503' : 'pass') });
    try {
      const error = await failure(source.read(100_000, 5000));
      expect(error.code).toBe('SOURCE_ERROR');
      expect(error.message).toContain(subject.name());
      expect(error.message).toContain('bytes 100000-104999');
      expect(error.message).toMatch(/503/);
      expect(error.message).toMatch(/gave up after 4 attempts/);
      expect(error.compressedOffset).toBe(100_000);
      expect(source.stats.retries).toBe(3);
      // The per-source budget: 2 retries owed at most, then no more retries at all until requests succeed.
      const thrifty = await subject.open({ retry: { ...fast, maxAttempts: 10, budget: 2 } });
      const spent = await failure(thrifty.read(0, 10));
      expect(spent.code).toBe('SOURCE_ERROR');
      expect(spent.message).toMatch(/retry budget is spent/);
      expect(thrifty.stats.retries).toBe(2);
      // Each try also at most maxTotalDelayMs of sleeping: a short one ends early.
      const hurried = await subject.open({ retry: { maxAttempts: 50, baseDelayMs: 40, maxDelayMs: 40, maxTotalDelayMs: 100 } });
      const late = await failure(hurried.read(0, 10));
      expect(late.message).toMatch(/ms of backoff \(retry.maxTotalDelayMs\)/);
      expect(hurried.stats.retries).toBeLessThan(50);
    } finally {
      proxy.setPlan({});
    }
  });

  it('a 403 is not retried; the opening request is retried like the others', async () => {
    const proxy = subject.proxy();
    // The first two requests (the opening one and its first retry) fail.
    let calls = 0;
    const plan = everyNth(1, ['503', 'drop']);
    proxy.setPlan({ fault: (n, req) => (calls++ < 2 ? plan(n, req) : 'pass') });
    try {
      const source = await subject.open({ retry: fast });
      expect(source.size).toBe(data.length);
      expect(source.stats.retries).toBe(2);
    } finally {
      proxy.setPlan({});
    }
  });

  it('requests in flight stay within the source limit and a shared limiter', async () => {
    const shared = new Limiter(3);
    const sources = await Promise.all([subject.open({ limiter: shared, maxInFlight: 2 }), subject.open({ limiter: shared, maxInFlight: 2 })]);
    let peak = 0;
    const timer = setInterval(() => (peak = Math.max(peak, shared.inFlight)), 1);
    const proxy = subject.proxy();
    proxy.setPlan({ latencyMs: 30 });
    try {
      const reads = sources.flatMap((source) => Array.from({ length: 8 }, (_, k) => source.read(k * 100_000, 1000)));
      const got = await Promise.all(reads);
      got.forEach((bytes, i) => expect(same(bytes, data.subarray((i % 8) * 100_000, (i % 8) * 100_000 + 1000))).toBe(true));
    } finally {
      clearInterval(timer);
      proxy.setPlan({});
    }
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(3);
  });
});

describe('never retried', () => {
  it('S3: wrong credentials (403) are one request, an HTTP_ERROR', async () => {
    const before = s3Proxy.requests;
    const error = await failure(S3Source.open(`s3://${BUCKET}/${KEY}`, { endpoint: s3Proxy.url, credentials: { accessKeyId: 'AKIAWRONGWRONGWRONG1', secretAccessKey: 'wrong-secret-wrong-secret-wrong' } }));
    expect(error.code).toBe('HTTP_ERROR');
    expect(error.message).toMatch(/access denied/);
    expect(s3Proxy.requests - before).toBe(1);
  });

  it('HTTP: a 404 at open and a body longer than asked are not retried', async () => {
    const before = http.requests;
    expect((await failure(HttpSource.open(http.url('missing.bin')))).code).toBe('NOT_FOUND');
    expect(http.requests - before).toBe(1);
    const source = await HttpSource.open(http.url('long/part.bin'));
    const error = await failure(source.read(1000, 100));
    expect(error.code).toBe('HTTP_ERROR');
    expect(source.stats.retries).toBe(0);
  });
});
