/**
 * Piscina worker of the whole-file harness (bench/decoders/harness.ts): decodes one unit with the named
 * candidate and moves the bytes back. Counts the CPU it spends per job so the harness can tell decode
 * time from everything around it.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import type { XzBlockTask } from '../../src/readers/xz/block.js';
import { decodeBzip2BlockWasm, loadBzip2Wasm, type Bzip2WasmTask } from '../../src/readers/bzip2/wasm.js';
import { decodeBz, decodeXz, prepare, type BzBlock, type BzCandidate, type XzCandidate } from './candidates.js';

export type HarnessJob =
  | { format: 'bz'; candidate: BzCandidate; block: BzBlock }
  | { format: 'bz-discover'; task: Bzip2WasmTask }
  | { format: 'xz'; candidate: XzCandidate; block: XzBlockTask };

export interface HarnessResult {
  bytes: Uint8Array;
  /** For discovery jobs: where the block ended, relative to the task's data. */
  endBit: number;
  crc: number;
  /** CPU ms of this worker thread's process during the decode (all threads: an upper bound). */
  decodeMs: number;
}

const ready = prepare();

export default async function run(job: HarnessJob): Promise<unknown> {
  await ready;
  const t0 = performance.now();
  let result: HarnessResult;
  if (job.format === 'bz') result = { bytes: decodeBz(job.candidate, job.block), endBit: 0, crc: 0, decodeMs: 0 };
  else if (job.format === 'xz') result = { bytes: await decodeXz(job.candidate, job.block), endBit: 0, crc: 0, decodeMs: 0 };
  else {
    const decoded = decodeBzip2BlockWasm(await loadBzip2Wasm(), job.task);
    result = { bytes: decoded.bytes, endBit: decoded.endBit, crc: decoded.crc, decodeMs: 0 };
  }
  result.decodeMs = performance.now() - t0;
  // Moved, not copied, as seekdata's worker does (a view into a larger buffer moves that whole buffer).
  const buffer = result.bytes.buffer;
  return buffer instanceof ArrayBuffer ? move({ [transferableSymbol]: [buffer], [valueSymbol]: result }) : result;
}
