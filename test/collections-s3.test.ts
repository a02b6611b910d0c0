/**
 * Collections on real servers: shards in five formats in an s3rver bucket (the real AWS SDK talking to it),
 * the same shards on local disk and behind an HTTP range server. The three give the same batches for one
 * seed; three processes (rank 0..2 from SEEKDATA_RANK / SEEKDATA_WORLD_SIZE) draw every record exactly once
 * with equal batch counts; behind a fault-injecting proxy every epoch is still exact and the retries are
 * counted; `seekdata index 's3://…/*' --upload` puts the indexes beside the objects for other hosts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { closeS3Clients, closeSharedPool, listS3, openCollection, ShuffledBatchDataset, type Batch, type IndexedCollection, type CollectionOptions } from '../src/index.js';
import { cli } from './support/cli.js';
import { startRangeServer, tempDir, type RangeServer } from './support/fixtures.js';
import { runTsx } from './support/process.js';
import { everyNth, startFaultProxy, startS3, useTestCredentials, type FaultProxy, type S3Server } from './support/s3.js';
import { collectionShards } from './support/collection-fixture.js';

const BUCKET = 'seekdata-collections';
const PREFIX = 'events/';
const tmp = tempDir('seekdata-collections-s3-');
const dir = join(tmp.dir, 'local');
mkdirSync(dir);
// 3,300 records: a multiple of 3, so three ranks draw each record exactly once (no padding).
const SIZES = [600, 400, 900, 300, 700, 400];
const { shards } = collectionShards(SIZES, 11);
const rows = shards.flatMap((s) => s.rows);
const N = rows.length;
const glob = `s3://${BUCKET}/${PREFIX}part-*`;
let s3: S3Server;
let proxy: FaultProxy;
let http: RangeServer;
const savedEnv = { ...process.env };

beforeAll(async () => {
  useTestCredentials();
  process.env.SEEKDATA_CACHE_DIR = join(tmp.dir, 'cache');
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  for (const s of shards) {
    await s3.put(BUCKET, PREFIX + s.name, s.bytes);
    writeFileSync(join(dir, s.name), s.bytes);
  }
  // Not a member: the glob matches part-* only.
  await s3.put(BUCKET, `${PREFIX}README.txt`, Buffer.from('not data\n'));
  proxy = await startFaultProxy(s3.port);
  http = await startRangeServer(Object.fromEntries(shards.map((s) => [s.name, s.bytes])));
});
afterAll(async () => {
  await closeS3Clients();
  await closeSharedPool();
  await proxy.close();
  await http.close();
  await s3.close();
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
  Object.assign(process.env, savedEnv);
  tmp.cleanup();
});

const open: CollectionOptions = { records: 'csv', parallelism: 1 };

async function epoch(data: IndexedCollection, shuffle: 'exact' | 'chunked', seed: number): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of new ShuffledBatchDataset(data, { features: ['b'], labels: 'label', batchSize: 128, seed, shuffle })) out.push(b);
  return out;
}

const plain = (batches: Batch[]): Array<{ records: number[]; xs: number[] }> => batches.map((b) => ({ records: [...b.records], xs: [...b.xs] }));

describe('an s3:// collection', () => {
  it('lists the glob, numbers records across the objects and matches local and HTTP collections batch for batch', async () => {
    const remote = await openCollection(glob, { ...open, endpoint: s3.endpoint });
    const local = await openCollection(join(dir, 'part-*'), open);
    const web = await openCollection(
      shards.map((s) => http.url(s.name)),
      open,
    );
    try {
      expect(remote.files.map((f) => f.name)).toEqual(shards.map((s) => `s3://${BUCKET}/${PREFIX}${s.name}`));
      expect(remote.records.count).toBe(N);
      expect(Buffer.from(remote.records.content(await remote.records.get(SIZES[0]))).toString()).toBe(shards[1].lines[0]);
      for (const shuffle of ['chunked', 'exact'] as const) {
        const fromS3 = plain(await epoch(remote, shuffle, 5));
        expect(fromS3.flatMap((b) => b.records).sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i));
        for (const b of fromS3) b.records.forEach((r, j) => expect(b.xs[j]).toBe(rows[r].b));
        expect(plain(await epoch(local, shuffle, 5))).toEqual(fromS3);
        expect(plain(await epoch(web, shuffle, 5))).toEqual(fromS3);
      }
    } finally {
      await Promise.all([remote.close(), local.close(), web.close()]);
    }
  });

  it('three processes with rank 0..2 of 3 (from the environment) draw every record exactly once, in equal batch counts', async () => {
    for (const shuffle of ['chunked', 'exact']) {
      const results = await Promise.all(
        [0, 1, 2].map(async (rank) => {
          const env = { ...process.env, SEEKDATA_RANK: String(rank), SEEKDATA_WORLD_SIZE: '3' };
          const run = await runTsx(['test/support/collection-rank-child.ts', s3.endpoint, glob, shuffle, '9'], env);
          expect(run.stderr.replace(/.*NodeVersionSupportWarning.*\n?/g, '')).not.toMatch(/Error/);
          expect(run.code).toBe(0);
          return JSON.parse(run.stdout.toString().trim().split('\n').at(-1) ?? '') as { rank: number; worldSize: number; batches: number; records: number[] };
        }),
      );
      expect(results.map((r) => [r.rank, r.worldSize])).toEqual([
        [0, 3],
        [1, 3],
        [2, 3],
      ]);
      expect(new Set(results.map((r) => r.batches)).size).toBe(1);
      const union = results.flatMap((r) => r.records).sort((a, b) => a - b);
      expect(union).toEqual(Array.from({ length: N }, (_, i) => i));
    }
  }, 180_000);

  it('behind a faulty network every epoch is exact and the retries are counted; beyond the budget a typed error names the object', async () => {
    const rangedGet = (req: IncomingMessage): boolean => req.method === 'GET' && req.headers.range !== undefined && req.headers.range !== 'bytes=0-0';
    const fast = { baseDelayMs: 5, maxDelayMs: 50 };
    const clean = await openCollection(glob, { ...open, endpoint: s3.endpoint });
    const truth = plain(await epoch(clean, 'chunked', 2));
    await clean.close();
    proxy.setPlan({ fault: everyNth(4, ['drop', '503', 'slowdown', 'stall', 'cut'], rangedGet) });
    const before = proxy.faults;
    try {
      const data = await openCollection(glob, { ...open, endpoint: proxy.url, retry: fast, timeoutMs: 1500 });
      try {
        for (let e = 0; e < 2; e++) expect(plain(await epoch(data, 'chunked', 2))).toEqual(truth);
        const faults = proxy.faults - before;
        expect(faults).toBeGreaterThan(0);
        expect(data.remoteStats().retries).toBeGreaterThanOrEqual(faults);
      } finally {
        await data.close();
      }
      // Opened on a clean network; then every ranged GET fails.
      proxy.setPlan({});
      const doomed = await openCollection(glob, { ...open, endpoint: proxy.url, retry: { ...fast, maxAttempts: 3 }, timeoutMs: 1500 });
      try {
        proxy.setPlan({ fault: (_n, req) => (rangedGet(req) ? '503' : 'pass') });
        const error = (await epoch(doomed, 'chunked', 2).catch((e: unknown) => e)) as { code?: string; message?: string };
        expect(error.code).toBe('SOURCE_ERROR');
        expect(error.message).toMatch(new RegExp(`s3://${BUCKET}/${PREFIX}part-0000\\d`));
      } finally {
        proxy.setPlan({});
        await doomed.close();
      }
    } finally {
      proxy.setPlan({});
    }
  });

  it("`seekdata index 's3://…/*' --upload` puts each index beside its object; a host with an empty cache then downloads them", async () => {
    process.env.AWS_ENDPOINT_URL = s3.endpoint;
    try {
      const run = await cli('index', glob, '--records', 'csv', '--time-column', 'time', '--upload', '-p', '1', '-q');
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const keys = (await listS3(`s3://${BUCKET}/${PREFIX}`, { endpoint: s3.endpoint })).map((o) => o.key);
      for (const s of shards) expect(keys).toContain(`${PREFIX}${s.name}.sdx`);
      process.env.SEEKDATA_CACHE_DIR = join(tmp.dir, 'other-host-cache');
      const other = await openCollection(glob, { ...open, endpoint: s3.endpoint });
      try {
        // Found beside the objects: loaded, none built; the listing does not take the .sdx files as members.
        expect(other.report.indexes).toMatchObject({ loaded: shards.length, built: 0 });
        expect(other.files.length).toBe(shards.length);
        expect(other.time).toBeDefined();
      } finally {
        await other.close();
      }
    } finally {
      delete process.env.AWS_ENDPOINT_URL;
      process.env.SEEKDATA_CACHE_DIR = join(tmp.dir, 'cache');
    }
  });
});
