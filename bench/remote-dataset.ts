/**
 * Object storage at the dataset level (npm run bench:remote, after the source-level figures): a collection
 * of gzip CSV shards in a local S3 API server (s3rver) behind a proxy adding latency to every request (20 ms
 * by default); one chunked-shuffle epoch of a ShuffledBatchDataset over it with 1, 4 and 16 requests in
 * flight (a shared Limiter, and as many chunks read ahead), next to the same epoch from local disk; the
 * bytes downloaded per compressed byte the epoch used (every chunk once), the GETs per batch, and two epochs
 * with the disk cache (remoteCacheDir) on. Indexes are built before the timed epochs (on local disk, and in
 * the index cache for s3://), so each epoch reads data only.
 *
 * On a machine shared with other work, one epoch's wall time varies by tens of percent from one minute to the
 * next: the local and S3 epochs run in BENCH_ROUNDS rounds (local, S3 at 1, 4, 16 in flight, in turn), and the
 * table gives medians, each S3 epoch's ratio taken against the local epoch of its own round.
 *
 * Environment: BENCH_SHARDS (100), BENCH_ROWS (rows per shard, 20,000), BENCH_LATENCY_MS (20), BENCH_ROUNDS (3),
 * BENCH_READ_AHEAD_BYTES (the read-ahead budget, default 64 MiB; 0 = off, to compare).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeS3Clients, closeSharedPool, configureRemoteRequests, Limiter, openCollection, ShuffledBatchDataset, type CollectionOptions, type IndexedCollection, type RemoteStats } from '../src/index.js';
import { run, tempDir } from '../test/support/fixtures.js';
import { datasetFixture } from '../test/support/dataset-fixture.js';
import { startFaultProxy, startS3, useTestCredentials } from '../test/support/s3.js';
import { fmt, machine, median, saveResult, table } from './common.js';

const SHARDS = Number(process.env.BENCH_SHARDS ?? 100);
const ROWS = Number(process.env.BENCH_ROWS ?? 20_000);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BUCKET = 'seekdata-bench-datasets';
const BATCH = 1024;

interface Pass {
  label: string;
  inFlight: number | undefined;
  ms: number;
  records: number;
  batches: number;
  stats: RemoteStats | undefined;
  /** Round of the interleaved passes (undefined for the disk-cache passes). */
  round?: number;
}

async function epoch(data: IndexedCollection, seed: number): Promise<{ records: number; batches: number }> {
  const ds = new ShuffledBatchDataset(data, { features: ['a', 'b'], labels: 'label', batchSize: BATCH, shuffle: 'chunked', seed, missing: 'mean', onMalformed: 'skip', onWarning: () => undefined });
  let records = 0;
  let batches = 0;
  for await (const batch of ds) {
    records += batch.records.length;
    batches++;
  }
  return { records, batches };
}

const minus = (a: RemoteStats, b: RemoteStats): RemoteStats => ({
  requests: a.requests - b.requests,
  retries: a.retries - b.retries,
  bytesDownloaded: a.bytesDownloaded - b.bytesDownloaded,
  bytesReturned: a.bytesReturned - b.bytesReturned,
  cacheHits: a.cacheHits - b.cacheHits,
  cacheBytes: a.cacheBytes - b.cacheBytes,
  readAheadBytes: a.readAheadBytes - b.readAheadBytes,
});

async function timed(label: string, inFlight: number | undefined, open: () => Promise<IndexedCollection>, seed = 1): Promise<Pass> {
  const data = await open();
  try {
    const before = data.remoteStats();
    const started = performance.now();
    const { records, batches } = await epoch(data, seed);
    const ms = performance.now() - started;
    const stats = data.files[0].reader.remoteStats === undefined ? undefined : minus(data.remoteStats(), before);
    process.stderr.write(`${label}${inFlight === undefined ? '' : ` (${inFlight} in flight)`}: ${fmt(ms, 0)} ms, ${records} records\n`);
    return { label, inFlight, ms, records, batches, stats };
  } finally {
    await data.close();
  }
}

async function main(): Promise<void> {
  useTestCredentials();
  if (process.env.BENCH_READ_AHEAD_BYTES !== undefined) configureRemoteRequests({ readAheadBytes: Number(process.env.BENCH_READ_AHEAD_BYTES) });
  const work = tempDir('seekdata-bench-remote-datasets-');
  process.env.SEEKDATA_CACHE_DIR = join(work.dir, 'index-cache');
  const s3 = await startS3();
  const proxy = await startFaultProxy(s3.port, { latencyMs: LATENCY_MS });
  try {
    await s3.createBucket(BUCKET);
    const local = join(work.dir, 'local');
    mkdirSync(local);
    process.stderr.write(`writing ${SHARDS} gzip shards of ${ROWS} rows...\n`);
    let compressed = 0;
    for (let k = 0; k < SHARDS; k++) {
      const name = `part-${String(k).padStart(5, '0')}.csv.gz`;
      const body = run('gzip', ['-c', '-6'], datasetFixture(ROWS, k + 1).csv);
      compressed += body.length;
      await s3.put(BUCKET, `shards/${name}`, body);
      writeFileSync(join(local, name), body);
    }
    // Checkpoints every 256 KiB of CSV: a few chunks per shard for the shuffle to permute.
    const base: CollectionOptions = { records: 'csv', gzipSpacingBytes: 2 ** 18 };
    const glob = `s3://${BUCKET}/shards/*.csv.gz`;
    process.stderr.write('indexing (local, then s3:// into the index cache)...\n');
    await (await openCollection(join(local, '*.csv.gz'), base)).close();
    await (await openCollection(glob, { ...base, endpoint: s3.endpoint })).close();

    // A warm-up epoch (worker pool started, code compiled), not counted.
    await timed('warm-up (local disk)', undefined, () => openCollection(join(local, '*.csv.gz'), base), 99);
    const passes: Pass[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      passes.push({ ...(await timed('local disk', undefined, () => openCollection(join(local, '*.csv.gz'), base))), round });
      for (const inFlight of [1, 4, 16]) {
        passes.push({ ...(await timed('S3', inFlight, () => openCollection(glob, { ...base, endpoint: proxy.url, limiter: new Limiter(inFlight), readAhead: Math.max(4, inFlight) }))), round });
      }
    }
    const cacheDir = join(work.dir, 'chunk-cache');
    const cached = (): Promise<IndexedCollection> => openCollection(glob, { ...base, endpoint: proxy.url, limiter: new Limiter(16), readAhead: 16, remoteCacheDir: cacheDir });
    passes.push(await timed('S3 + disk cache, 1st epoch', 16, cached, 1));
    passes.push(await timed('S3 + disk cache, 2nd epoch', 16, cached, 2));

    // Medians over the rounds; an S3 epoch's ratio is against the local epoch of its round.
    const localOf = (p: Pass): number => passes.find((q) => q.round === p.round && q.label === 'local disk')?.ms ?? Number.NaN;
    const localMedian = median(passes.filter((p) => p.label === 'local disk').map((p) => p.ms));
    const groups = new Map<string, Pass[]>();
    for (const p of passes) {
      const key = `${p.label}\0${p.inFlight ?? ''}`;
      groups.set(key, [...(groups.get(key) ?? []), p]);
    }
    const rows = [...groups.values()].map((group) => {
      const p = group[0];
      const ms = median(group.map((q) => q.ms));
      const ratios = group.map((q) => (q.round === undefined ? localMedian / q.ms : localOf(q) / q.ms));
      return [
        p.label,
        p.inFlight ?? '',
        fmt(p.records / (ms / 1000), 0),
        fmt(ms, 0),
        group.length > 1 ? `${fmt(median(ratios), 2)} (${ratios.map((r) => fmt(r, 2)).join(' / ')})` : fmt(ratios[0], 2),
        p.stats === undefined ? '' : fmt(p.stats.bytesDownloaded / compressed, 3),
        p.stats === undefined ? '' : fmt(p.stats.requests / p.batches, 2),
        p.stats === undefined ? '' : String(p.stats.cacheHits),
      ];
    });
    console.log(`${SHARDS} gzip CSV shards x ${ROWS} rows (${fmt(compressed / 2 ** 20)} MiB compressed), chunked shuffle, batch ${BATCH}, s3rver behind a ${LATENCY_MS} ms/request proxy; ${machine()}; medians of ${ROUNDS} rounds, read-ahead budget ${process.env.BENCH_READ_AHEAD_BYTES ?? 'default (64 MiB)'}`);
    console.log(table(['epoch', 'in flight', 'records/s', 'ms', 'x local disk (each round)', 'downloaded / used', 'GETs / batch', 'cache hits'], rows));
    saveResult('remote-datasets', { shards: SHARDS, rows: ROWS, latencyMs: LATENCY_MS, rounds: ROUNDS, compressed, passes });
  } finally {
    await closeS3Clients();
    await closeSharedPool();
    await proxy.close();
    await s3.close();
    work.cleanup();
  }
}

await main();
