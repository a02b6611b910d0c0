/**
 * Sequential scans of a file whose chunk map is known: every decoded chunk in order, decoding up to
 * `lookahead` chunks at once in the worker pool (each with the caller's step, run in the same job), with
 * memory bounded by that window. (A file without a chunk map is scanned by its format's discovery.)
 */
import { SeekdataError } from '../errors.js';
import type { StepCall } from '../workers/registry.js';
import { settle, unwrap, type Settled } from '../util.js';
import { isBigUnit, type ChunkDecoder, type DecodedChunk } from './chunks.js';
import type { ScannedChunk } from './format.js';

export type { ScannedChunk } from './format.js';

/** Decodes a sequential scan keeps in flight per worker: with two jobs queued on each worker (pool.ts), four keep them busy. */
export const LOOKAHEAD_PER_WORKER = 4;
/** Decoded bytes a scan may have in flight, unless that is fewer than two chunks per worker (the bound before). */
export const LOOKAHEAD_BYTES = 256 << 20;

/**
 * How many chunks a sequential scan decodes ahead of its consumer: 2 in the calling thread (parallelism
 * 1: only reads overlap the decode), else `LOOKAHEAD_PER_WORKER` per worker, fewer for big chunks
 * (`largestChunk` decompressed bytes) so that at most `LOOKAHEAD_BYTES` are in flight — but never fewer
 * than two per worker. Measured: bench/decoders/RESULTS.md §3, bench/RESULTS.md.
 */
export function scanLookahead(parallelism: number, largestChunk = 0): number {
  if (parallelism <= 1) return 2;
  const byBytes = largestChunk > 0 ? Math.floor(LOOKAHEAD_BYTES / largestChunk) : Infinity;
  return Math.max(parallelism * 2, Math.min(parallelism * LOOKAHEAD_PER_WORKER, byBytes));
}

/** Every chunk of a file whose chunk map is known, in order, from decompressed offset `from`. */
export async function* scanKnown(
  decoder: ChunkDecoder,
  options: {
    lookahead: number;
    signal?: AbortSignal | undefined;
    stepFor?: ((offset: number) => StepCall | undefined) | undefined;
    /** Chunks already decoded (or being decoded) and checked: the scan runs only the step on their bytes. */
    decoded?: ReadonlyMap<number, Promise<Settled<Uint8Array>>> | undefined;
    /**
     * Whether the job of the chunk at a decompressed offset returns its bytes (default: always). When not,
     * the yielded `bytes` are empty: for a step that returns what its caller needs of them.
     */
    keepBytes?: ((offset: number) => boolean) | undefined;
  },
  from = 0,
): AsyncGenerator<ScannedChunk> {
  const { source, units } = decoder;
  const layout = decoder.layout;
  const queue: Array<{ chunk: number; done: Promise<Settled<DecodedChunk>> }> = [];
  let next = 0;
  while (next < layout.count && layout.start[next + 1] <= from) next++;
  const fill = (): void => {
    while (next < layout.count && queue.length < options.lookahead) {
      const chunk = next++;
      const work = { step: options.stepFor?.(layout.start[chunk]), keepBytes: options.keepBytes?.(layout.start[chunk]) };
      const ready = options.decoded?.get(chunk);
      const done = settle(ready === undefined ? decoder.decodeWith(chunk, options.signal, work) : ready.then((bytes) => decoder.decodeWith(chunk, options.signal, work, unwrap(bytes))));
      queue.push({ chunk, done });
      // Pieces of one big unit decode one after another anyway: do not queue them ahead.
      if (isBigUnit(units, layout.unit[chunk], layout.big)) break;
    }
  };
  const inBits = decoder.format.offsetsInBits;
  for (;;) {
    fill();
    const head = queue.shift();
    if (head === undefined) return;
    const settled = await head.done;
    if (options.signal?.aborted) throw new SeekdataError('ABORTED', `${source.name}: scan aborted`, { file: source.name, cause: options.signal.reason });
    const decoded = unwrap(settled);
    const u = layout.unit[head.chunk];
    const compressedEnd = inBits ? Math.ceil(units.cEnd[u] / 8) : units.cEnd[u];
    const chunk = head.chunk;
    const whole = async (): Promise<Uint8Array> => (await decoder.decodeWith(chunk, options.signal, {})).bytes;
    yield { offset: layout.start[chunk], bytes: decoded.bytes, compressedDone: compressedEnd, step: decoded.step, whole };
  }
}
