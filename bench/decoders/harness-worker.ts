/**
 * Piscina worker of the whole-file harness (bench/decoders/harness.ts): decodes one unit with the named
 * candidate and moves the bytes back. Counts the CPU it spends per job so the harness can tell decode
 * time from everything around it.
 */
import { threadId } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import type { XzBlockTask } from '../../src/readers/xz/block.js';
import type { Bzip2BlockTask } from '../../src/readers/bzip2/block.js';
import { decodeBzip2BlockWasm, loadBzip2Wasm, type Bzip2Wasm } from '../../src/readers/bzip2/wasm.js';
import { decodeBz, decodeXz, decodeXzSync, prepare, type BzBlock, type BzCandidate, type XzCandidate } from './candidates.js';

export type HarnessJob =
  | { format: 'bz'; candidate: BzCandidate; block: BzBlock }
  | { format: 'bz-discover'; task: Bzip2BlockTask }
  | { format: 'xz'; candidate: XzCandidate; block: XzBlockTask };

export interface HarnessResult {
  bytes: Uint8Array;
  /** For discovery jobs: where the block ended, relative to the task's data. */
  endBit: number;
  crc: number;
  /** Wall ms of the decode inside the worker. */
  decodeMs: number;
  /** Absolute times (performance.timeOrigin + now, ms) when the worker started and ended the job. */
  t0: number;
  t1: number;
  /** The worker thread that ran the job. */
  thread: number;
}

// Compiled once per worker. Not with a top-level await: Piscina first tries require() on the entry, and
// under tsx that leaves a module with a top-level await unloadable (ERR_UNKNOWN_FILE_EXTENSION).
let bz2: Bzip2Wasm | undefined;
const ready = prepare().then(async () => {
  bz2 = await loadBzip2Wasm();
});

/**
 * Synchronous once ready, like seekdata's own worker (an async handler would let a second queued job
 * start before the first one's result is posted when Piscina gives a worker more than one task at a time).
 */
export default function run(job: HarnessJob): unknown {
  if (bz2 === undefined) return ready.then(() => runReady(job));
  return runReady(job);
}

function runReady(job: HarnessJob): unknown {
  const t0 = performance.now();
  if (job.format === 'bz') return finish(decodeBz(job.candidate, job.block), 0, 0, t0);
  if (job.format === 'xz') {
    const c = job.candidate;
    if (c === 'xz-decompress') return decodeXz(c, job.block).then((bytes) => finish(bytes, 0, 0, t0));
    return finish(decodeXzSync(c, job.block), 0, 0, t0);
  }
  if (bz2 === undefined) throw new Error('libbzip2 not loaded');
  const decoded = decodeBzip2BlockWasm(bz2, job.task);
  return finish(decoded.bytes, decoded.endBit, decoded.crc, t0);
}

function finish(bytes: Uint8Array, endBit: number, crc: number, t0: number): unknown {
  const t1 = performance.now();
  const result: HarnessResult = { bytes, endBit, crc, decodeMs: t1 - t0, t0: performance.timeOrigin + t0, t1: performance.timeOrigin + t1, thread: threadId };
  // Moved, not copied, as seekdata's worker does (a view into a larger buffer moves that whole buffer).
  const buffer = bytes.buffer;
  return buffer instanceof ArrayBuffer ? move({ [transferableSymbol]: [buffer], [valueSymbol]: result }) : result;
}
