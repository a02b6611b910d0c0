/**
 * A lean whole-file decode harness: the shape of seekdata's sequential scan (scanKnown: decode up to
 * `lookahead` units ahead in a Piscina pool, consume in order) with a chosen decoder in the workers, and
 * nothing else. Next to the real reader in the same run it shows what the decoder costs and what the
 * layers around it cost. Also: bzip2 discovery (the index pass) through the real scanBzip2 with WASM jobs.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { scanBzip2 } from '../../src/readers/bzip2/scan.js';
import { FileSource } from '../../src/sources/file-source.js';
import type { UnitTable } from '../../src/readers/units.js';
import { padded4 } from '../../src/readers/xz/container.js';
import { decodeBz, decodeXz, type BzCandidate, type XzCandidate } from './candidates.js';
import type { HarnessJob, HarnessResult } from './harness-worker.js';

/** A pool like seekdata's (src/workers/pool.ts); `tasksPerWorker` > 1 posts the next job to a busy worker. */
export function harnessPool(size: number, tasksPerWorker = 1): Piscina {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return new Piscina({
    filename: new URL('./harness-worker.ts', import.meta.url).href,
    minThreads: size,
    maxThreads: size,
    idleTimeout: 5_000,
    concurrentTasksPerWorker: tasksPerWorker,
    execArgv: ['--import', tsx],
  });
}

export interface HarnessOptions {
  /** Units decoded ahead of the consumer. */
  lookahead: number;
  /** Move the compressed input to the worker instead of copying it. */
  transferInput: boolean;
}

export interface HarnessOutcome {
  bytes: number;
  units: number;
  /** Sum of the decode times measured inside the workers (wall, ms). */
  decodeMs: number;
  /** Per job, when it was posted and its result received (absolute ms), and the worker's own timings. */
  jobs: Array<{ posted: number; received: number; result: HarnessResult }>;
}

type Runner = (job: HarnessJob, transfer: ArrayBuffer[]) => Promise<HarnessResult>;

/** Runs jobs in this thread (parallelism 1), as seekdata's inline runner does. */
export const inlineHarness: Runner = async (job) => {
  const t0 = performance.now();
  const bytes = job.format === 'bz' ? decodeBz(job.candidate, job.block) : job.format === 'xz' ? await decodeXz(job.candidate, job.block) : new Uint8Array(0);
  const t1 = performance.now();
  return { bytes, endBit: 0, crc: 0, decodeMs: t1 - t0, t0: performance.timeOrigin + t0, t1: performance.timeOrigin + t1, thread: 0 };
};

export function poolRunner(pool: Piscina): Runner {
  return (job, transfer) => pool.run(job, transfer.length > 0 ? { transferList: transfer } : {}) as Promise<HarnessResult>;
}

/** Every unit of a file with a known chunk map, decoded `lookahead` ahead and consumed in order. */
export async function decodeKnown(
  path: string,
  units: UnitTable,
  candidate: BzCandidate | XzCandidate,
  run: Runner,
  options: HarnessOptions,
  consume: (bytes: Uint8Array) => void = () => {},
): Promise<HarnessOutcome> {
  const source = await FileSource.open(path);
  const queue: Array<Promise<HarnessResult>> = [];
  let next = 0;
  const out: HarnessOutcome = { bytes: 0, units: units.count, decodeMs: 0, jobs: [] };
  const now = (): number => performance.timeOrigin + performance.now();
  const posted: number[] = [];
  const job = async (u: number): Promise<HarnessResult> => {
    if (units.format === 'bzip2') {
      const first = Math.floor(units.cStart[u] / 8);
      const end = Math.ceil(units.cEnd[u] / 8);
      const data = await source.read(first, end - first);
      const block = { data, bitOffset: units.cStart[u] - first * 8, endBit: units.cEnd[u] - first * 8, crc: units.param[u], length: units.dStart[u + 1] - units.dStart[u], base: first };
      posted[u] = now();
      return run({ format: 'bz', candidate: candidate as BzCandidate, block }, options.transferInput ? movable(data) : []);
    }
    const offset = units.cStart[u];
    const data = await source.read(offset, padded4(units.param[u]));
    const block = { data, offset, unpaddedSize: units.param[u], uncompressedSize: units.dStart[u + 1] - units.dStart[u], checkType: units.kind[u], file: path };
    posted[u] = now();
    return run({ format: 'xz', candidate: candidate as XzCandidate, block }, options.transferInput ? movable(data) : []);
  };
  try {
    for (let u = 0; ; u++) {
      while (next < units.count && queue.length < options.lookahead) queue.push(job(next++));
      const head = queue.shift();
      if (head === undefined) break;
      const result = await head;
      out.jobs.push({ posted: posted[u], received: now(), result });
      out.bytes += result.bytes.length;
      out.decodeMs += result.decodeMs;
      consume(result.bytes);
    }
  } finally {
    await source.close();
  }
  return out;
}

/** bzip2 discovery (the index pass's decode) through seekdata's own scanBzip2, with WASM decode jobs. */
export async function discoverWasm(path: string, pool: Piscina, lookahead: number): Promise<HarnessOutcome> {
  const source = await FileSource.open(path);
  const out: HarnessOutcome = { bytes: 0, units: 0, decodeMs: 0, jobs: [] };
  try {
    const scan = scanBzip2({
      source,
      // The task's data ends 8 bytes past the next magic candidate: the WASM decoder tries the candidates
      // it finds in that range (the next magic first), so scanBzip2 needs no change.
      decode: (task) => pool.run({ format: 'bz-discover', task } satisfies HarnessJob) as Promise<HarnessResult>,
      lookahead,
    });
    for await (const { result } of scan) {
      out.bytes += result.bytes.length;
      out.units++;
      out.decodeMs += result.decodeMs;
    }
  } finally {
    await source.close();
  }
  return out;
}

function movable(bytes: Uint8Array): ArrayBuffer[] {
  return bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? [bytes.buffer] : [];
}
