/**
 * Where the time of a remote chunked-shuffle epoch goes (`npx tsx bench/remote-profile.ts`): the same
 * collection and proxy as bench/remote-dataset.ts, one epoch from local disk and one from S3 at
 * BENCH_IN_FLIGHT (16) requests in flight, each measured for: requests in flight over time (sampled
 * every ms from the shared Limiter), the time each request holds its slot (GET sent → body read), bytes
 * per GET, the CPU time of this process (main thread + decode workers + the latency proxy, which runs
 * here), how busy the main thread's event loop was, and the CPU time of the s3rver process.
 *
 * Environment: BENCH_SHARDS (100), BENCH_ROWS (20,000), BENCH_LATENCY_MS (20), BENCH_IN_FLIGHT (16),
 * BENCH_RUNS (2: local and S3 epochs, interleaved), BENCH_READ_AHEAD (datasets' readAhead, default max(4, in
 * flight)), BENCH_READ_AHEAD_BYTES (the remote read-ahead budget; 0 = off).
 */
import { readdirSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { closeS3Clients, closeSharedPool, configureRemoteRequests, Limiter, openCollection, ShuffledBatchDataset, type CollectionOptions, type IndexedCollection } from '../src/index.js';
import { run, tempDir } from '../test/support/fixtures.js';
import { datasetFixture } from '../test/support/dataset-fixture.js';
import { startFaultProxy, startS3, useTestCredentials } from '../test/support/s3.js';
import { fmt, machine, median, table } from './common.js';

const SHARDS = Number(process.env.BENCH_SHARDS ?? 100);
const ROWS = Number(process.env.BENCH_ROWS ?? 20_000);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 20);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 16);
const RUNS = Number(process.env.BENCH_RUNS ?? 2);
const BUCKET = 'seekdata-bench-profile';

/** A limiter that records how long each request holds its slot, and samples the slots in use. */
class TimedLimiter extends Limiter {
  readonly holds: number[] = [];
  override async run<T>(task: () => Promise<T>): Promise<T> {
    return super.run(async () => {
      const t = performance.now();
      try {
        return await task();
      } finally {
        this.holds.push(performance.now() - t);
      }
    });
  }
}

/** CPU seconds (user + system) of a process, from /proc. */
function procCpu(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function s3rverPid(): number {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${name}/cmdline`, 'utf8').includes('s3rver-main')) return Number(name);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error('s3rver process not found');
}

const pct = (values: number[], p: number): number => {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

interface Profile {
  label: string;
  ms: number;
  records: number;
  cpuSelf: number;
  cpuServer: number;
  loopBusy: number;
  meanInFlight?: number;
  fullShare?: number;
  idleShare?: number;
  requests?: number;
  holdP50?: number;
  holdP90?: number;
  bytesPerGet?: number;
}

async function profile(label: string, open: () => Promise<IndexedCollection>, serverPid: number, limiter: TimedLimiter | undefined): Promise<Profile> {
  const data = await open();
  try {
    const before = data.remoteStats();
    const samples: number[] = [];
    const sampler = limiter === undefined ? undefined : setInterval(() => samples.push(limiter.inFlight), 1);
    const cpu0 = process.cpuUsage();
    const server0 = procCpu(serverPid);
    const elu0 = performance.eventLoopUtilization();
    const started = performance.now();
    const ds = new ShuffledBatchDataset(data, { features: ['a', 'b'], labels: 'label', batchSize: 1024, shuffle: 'chunked', seed: 1, missing: 'mean', onMalformed: 'skip', onWarning: () => undefined });
    let records = 0;
    for await (const batch of ds) records += batch.records.length;
    const ms = performance.now() - started;
    if (sampler !== undefined) clearInterval(sampler);
    const cpu = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0);
    const after = data.remoteStats();
    const out: Profile = { label, ms, records, cpuSelf: (cpu.user + cpu.system) / 1e6, cpuServer: procCpu(serverPid) - server0, loopBusy: elu.utilization };
    if (limiter !== undefined) {
      const requests = after.requests - before.requests;
      Object.assign(out, {
        meanInFlight: samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length),
        fullShare: samples.filter((n) => n >= limiter.max).length / Math.max(1, samples.length),
        idleShare: samples.filter((n) => n === 0).length / Math.max(1, samples.length),
        requests,
        holdP50: pct(limiter.holds, 0.5),
        holdP90: pct(limiter.holds, 0.9),
        bytesPerGet: (after.bytesDownloaded - before.bytesDownloaded) / Math.max(1, requests),
      });
    }
    process.stderr.write(`${label}: ${fmt(ms, 0)} ms\n`);
    return out;
  } finally {
    await data.close();
  }
}

async function main(): Promise<void> {
  useTestCredentials();
  if (process.env.BENCH_READ_AHEAD_BYTES !== undefined) configureRemoteRequests({ readAheadBytes: Number(process.env.BENCH_READ_AHEAD_BYTES) });
  const work = tempDir('seekdata-bench-remote-profile-');
  process.env.SEEKDATA_CACHE_DIR = join(work.dir, 'index-cache');
  const s3 = await startS3();
  const proxy = await startFaultProxy(s3.port, { latencyMs: LATENCY_MS });
  try {
    const serverPid = s3rverPid();
    await s3.createBucket(BUCKET);
    const local = join(work.dir, 'local');
    mkdirSync(local);
    for (let k = 0; k < SHARDS; k++) {
      const name = `part-${String(k).padStart(5, '0')}.csv.gz`;
      const body = run('gzip', ['-c', '-6'], datasetFixture(ROWS, k + 1).csv);
      await s3.put(BUCKET, `shards/${name}`, body);
      writeFileSync(join(local, name), body);
    }
    const base: CollectionOptions = { records: 'csv', gzipSpacingBytes: 2 ** 18 };
    const glob = `s3://${BUCKET}/shards/*.csv.gz`;
    await (await openCollection(join(local, '*.csv.gz'), base)).close();
    await (await openCollection(glob, { ...base, endpoint: s3.endpoint })).close();
    await profile('warm-up', () => openCollection(join(local, '*.csv.gz'), base), serverPid, undefined);
    const results: Profile[] = [];
    for (let r = 0; r < RUNS; r++) {
      results.push(await profile('local disk', () => openCollection(join(local, '*.csv.gz'), base), serverPid, undefined));
      const limiter = new TimedLimiter(IN_FLIGHT);
      results.push(await profile(`S3, ${IN_FLIGHT} in flight`, () => openCollection(glob, { ...base, endpoint: proxy.url, limiter, readAhead: Number(process.env.BENCH_READ_AHEAD ?? Math.max(4, IN_FLIGHT)) }), serverPid, limiter));
    }
    console.log(`${SHARDS} shards x ${ROWS} rows, ${LATENCY_MS} ms/request proxy; ${machine()}; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
    const o = (v: number | undefined, d = 1): string => (v === undefined ? '' : fmt(v, d));
    console.log(
      table(
        ['epoch', 'ms', 'CPU s (this process)', 'main loop busy', 'CPU s (s3rver)', 'mean in flight', 'time at limit', 'time at 0', 'GETs', 'slot held p50 / p90 ms', 'KiB / GET'],
        results.map((p) => [p.label, fmt(p.ms, 0), fmt(p.cpuSelf, 2), `${fmt(p.loopBusy * 100, 0)}%`, fmt(p.cpuServer, 2), o(p.meanInFlight), p.fullShare === undefined ? '' : `${fmt(p.fullShare * 100, 0)}%`, p.idleShare === undefined ? '' : `${fmt(p.idleShare * 100, 0)}%`, p.requests ?? '', p.holdP50 === undefined ? '' : `${fmt(p.holdP50, 0)} / ${fmt(p.holdP90 ?? 0, 0)}`, o(p.bytesPerGet === undefined ? undefined : p.bytesPerGet / 1024, 0)]),
      ),
    );
    const localMs = results.filter((p) => p.label === 'local disk').map((p) => p.ms);
    const remoteMs = results.filter((p) => p.label !== 'local disk').map((p) => p.ms);
    console.log(`median local ${fmt(median(localMs), 0)} ms, median S3 ${fmt(median(remoteMs), 0)} ms: ${fmt(median(localMs) / median(remoteMs), 2)}x local`);
    // CPU time is steadier than wall time under load: with both cores busy, the epoch's speed is bounded by it.
    const cpuLocal = median(results.filter((p) => p.label === 'local disk').map((p) => p.cpuSelf));
    const cpuRemote = median(results.filter((p) => p.label !== 'local disk').map((p) => p.cpuSelf + p.cpuServer));
    console.log(`median CPU s per epoch: local ${fmt(cpuLocal, 2)}, S3 ${fmt(cpuRemote, 2)} (this process + s3rver): local / S3 = ${fmt(cpuLocal / cpuRemote, 2)}`);
  } finally {
    await closeS3Clients();
    await closeSharedPool();
    await proxy.close();
    await s3.close();
    work.cleanup();
  }
}

await main();
