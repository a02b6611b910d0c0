/**
 * Object storage at the source level (npm run bench:remote): a collection of objects in a local S3 API
 * server (s3rver) behind a proxy that adds latency to every request (20 ms by default), read chunk by chunk
 * (1 MiB ranges) with 1, 4 and 16 requests in flight, next to the same bytes read from local disk; the
 * bytes downloaded per byte used; whole objects asked for at once (readRanges, coalesced); and a second
 * pass with the disk cache on. The objects are pseudo-random bytes (incompressible, like compressed shards).
 *
 * Environment: BENCH_OBJECTS (100), BENCH_OBJECT_MB (2), BENCH_LATENCY_MS (20).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeS3Clients, FileSource, Limiter, S3Source, type ByteSource, type RemoteStats } from '../src/index.js';
import { tempDir } from '../test/support/fixtures.js';
import { startFaultProxy, startS3, useTestCredentials } from '../test/support/s3.js';
import { fmt, machine, saveResult, table } from './common.js';

const OBJECTS = Number(process.env.BENCH_OBJECTS ?? 100);
const OBJECT_BYTES = Math.round(Number(process.env.BENCH_OBJECT_MB ?? 2) * 2 ** 20);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 20);
const CHUNK = 2 ** 20;
const BUCKET = 'seekdata-bench';

interface Pass {
  label: string;
  inFlight: number;
  ms: number;
  bytes: number;
  stats: RemoteStats | undefined;
}

/** Reads every chunk of every source, `inFlight` reads at a time (a pool of readers pulling from one queue). */
async function readChunks(sources: ByteSource[], inFlight: number): Promise<number> {
  const jobs: Array<[ByteSource, number]> = [];
  for (const source of sources) for (let offset = 0; offset < source.size; offset += CHUNK) jobs.push([source, offset]);
  let next = 0;
  let bytes = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < jobs.length) {
        const [source, offset] = jobs[next++];
        const got = await source.read(offset, Math.min(CHUNK, source.size - offset));
        bytes += got.length;
      }
    }),
  );
  return bytes;
}

/** Asks for all chunks of each object at once (readRanges: coalesced into requests of up to 16 MiB). */
async function readWholeObjects(sources: S3Source[], inFlight: number): Promise<number> {
  let next = 0;
  let bytes = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < sources.length) {
        const source = sources[next++];
        const ranges: Array<[number, number]> = [];
        for (let offset = 0; offset < source.size; offset += CHUNK) ranges.push([offset, Math.min(CHUNK, source.size - offset)]);
        const pieces = await source.readRanges(ranges);
        for (const piece of pieces) bytes += piece.length;
      }
    }),
  );
  return bytes;
}

const sum = (sources: S3Source[]): RemoteStats =>
  sources.map((s) => s.stats).reduce((a, b) => ({
    requests: a.requests + b.requests,
    retries: a.retries + b.retries,
    bytesDownloaded: a.bytesDownloaded + b.bytesDownloaded,
    bytesReturned: a.bytesReturned + b.bytesReturned,
    cacheHits: a.cacheHits + b.cacheHits,
    cacheBytes: a.cacheBytes + b.cacheBytes,
    readAheadBytes: a.readAheadBytes + b.readAheadBytes,
  }));

async function timed(label: string, inFlight: number, run: () => Promise<{ bytes: number; stats: RemoteStats | undefined }>): Promise<Pass> {
  const started = performance.now();
  const { bytes, stats } = await run();
  const pass = { label, inFlight, ms: performance.now() - started, bytes, stats };
  process.stderr.write(`${label} (${inFlight} in flight): ${fmt(pass.ms, 0)} ms\n`);
  return pass;
}

async function main(): Promise<void> {
  useTestCredentials();
  const work = tempDir('seekdata-bench-remote-');
  const s3 = await startS3();
  const proxy = await startFaultProxy(s3.port, { latencyMs: LATENCY_MS });
  try {
    await s3.createBucket(BUCKET);
    const local = join(work.dir, 'local');
    mkdirSync(local);
    const keys = Array.from({ length: OBJECTS }, (_, i) => `shards/part-${String(i).padStart(5, '0')}.bin`);
    process.stderr.write(`uploading ${OBJECTS} objects of ${fmt(OBJECT_BYTES / 2 ** 20)} MiB...\n`);
    for (const key of keys) {
      const body = randomBytes(OBJECT_BYTES);
      await s3.put(BUCKET, key, body);
      writeFileSync(join(local, key.replace('/', '_')), body);
    }
    const openAll = (options: object): Promise<S3Source[]> => {
      const limiter = new Limiter(Math.max(1, (options as { maxInFlight?: number }).maxInFlight ?? 16));
      return Promise.all(keys.map((key) => S3Source.open(`s3://${BUCKET}/${key}`, { endpoint: proxy.url, limiter, ...options })));
    };
    const passes: Pass[] = [];
    for (const inFlight of [1, 4, 16]) {
      const files = await Promise.all(keys.map((key) => FileSource.open(join(local, key.replace('/', '_')))));
      passes.push(await timed('local disk, chunk reads', inFlight, async () => ({ bytes: await readChunks(files, inFlight), stats: undefined })));
      await Promise.all(files.map((f) => f.close()));
      const sources = await openAll({ maxInFlight: inFlight });
      passes.push(await timed('S3, chunk reads', inFlight, async () => ({ bytes: await readChunks(sources, inFlight), stats: sum(sources) })));
    }
    const whole = await openAll({ maxInFlight: 16 });
    passes.push(await timed('S3, readRanges per object (coalesced)', 16, async () => ({ bytes: await readWholeObjects(whole, 16), stats: sum(whole) })));
    const cacheDir = join(work.dir, 'cache');
    const cold = await openAll({ maxInFlight: 16, remoteCacheDir: cacheDir });
    passes.push(await timed('S3 + disk cache, 1st pass', 16, async () => ({ bytes: await readChunks(cold, 16), stats: sum(cold) })));
    const warm = await openAll({ maxInFlight: 16, remoteCacheDir: cacheDir });
    passes.push(await timed('S3 + disk cache, 2nd pass', 16, async () => ({ bytes: await readChunks(warm, 16), stats: sum(warm) })));

    const localMs = new Map(passes.filter((p) => p.stats === undefined).map((p) => [p.inFlight, p.ms]));
    const rows = passes.map((p) => {
      const requests = p.stats === undefined ? '' : String(p.stats.requests - OBJECTS); // less the HeadObject of each open
      const ratio = p.stats === undefined ? '' : fmt(p.stats.bytesDownloaded / p.bytes, 3);
      const vsLocal = p.stats === undefined ? '1.00' : fmt((localMs.get(p.inFlight) ?? p.ms) / p.ms, 2);
      return [p.label, p.inFlight, fmt(p.bytes / 2 ** 20 / (p.ms / 1000), 0), fmt(p.ms, 0), requests, ratio, vsLocal];
    });
    const header = `${OBJECTS} objects x ${fmt(OBJECT_BYTES / 2 ** 20)} MiB, 1 MiB chunks, s3rver behind a ${LATENCY_MS} ms/request proxy; ${machine()}`;
    console.log(header);
    console.log(table(['pass', 'in flight', 'MiB/s', 'ms', 'GETs', 'downloaded / used', 'x local disk'], rows));
    saveResult('remote', { objects: OBJECTS, objectBytes: OBJECT_BYTES, latencyMs: LATENCY_MS, passes: passes.map(({ label, inFlight, ms, bytes, stats }) => ({ label, inFlight, ms, bytes, stats })) });
  } finally {
    await closeS3Clients();
    await proxy.close();
    await s3.close();
    work.cleanup();
  }
}

await main();
