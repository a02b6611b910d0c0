/**
 * Streaming decode with bounded memory: libzstd's ZSTD_decompressStream compiled to WebAssembly
 * (zstddec 0.3.4, `zstddec/stream`). Memory is the frame's window (at most 128 MiB, libzstd's default
 * limit; 2-8 MiB for ordinary levels) plus one input slice and one 128 KiB output buffer. libzstd checks
 * the frame's content size and checksum (when present) as it reaches them.
 *
 * zstddec's generator pulls compressed slices from a synchronous iterable, so `WasmFrameDecoder` lets the
 * caller push a slice before each step (a step pulls at most one slice: a non-empty slice always yields
 * before the next is pulled). Two of its habits are worked around here:
 * - it ignores libzstd's error codes and spins on the same input forever: a step that neither pulls input
 *   nor yields output `STALL_STEPS` times in a row is corrupt data (a valid stream always does one or the
 *   other);
 * - abandoning its generator leaks the decoder's WebAssembly memory: `dispose` ends the input and runs
 *   the generator to its end (at most one input slice of work), which frees it.
 */
import { ZSTDDecoder } from 'zstddec/stream';
import { SeekdataError } from '../../errors.js';

const STALL_STEPS = 16;

let decoder: ZSTDDecoder | undefined;
let loading: Promise<void> | undefined;

/** Compiles the WebAssembly module once per thread. */
export async function wasmZstdReady(): Promise<void> {
  if (decoder !== undefined) return;
  const d = new ZSTDDecoder();
  loading ??= d.init();
  await loading;
  decoder = d;
}

export class WasmFrameDecoder {
  private readonly queue: Uint8Array[] = [];
  private ended = false;
  private finished = false;
  private broken = false;
  private pulls = 0;
  private stalls = 0;
  private readonly steps: Generator<Uint8Array>;
  /** Decoded bytes produced so far. */
  produced = 0;

  constructor(
    private readonly file: string,
    /** Compressed offset of the frame, for messages. */
    private readonly offset: number,
  ) {
    if (decoder === undefined) throw new Error('zstd: await wasmZstdReady() first');
    const input: Iterable<Uint8Array> = {
      [Symbol.iterator]: () => ({
        next: (): IteratorResult<Uint8Array> => {
          const value = this.queue.shift();
          if (value === undefined) return { done: true, value: undefined };
          this.pulls++;
          return { done: false, value };
        },
      }),
    };
    this.steps = decoder.decodeStreaming(input);
  }

  /** True when the next step needs a slice pushed (or `end()` called) first. */
  get needsInput(): boolean {
    return this.queue.length === 0 && !this.ended;
  }

  get done(): boolean {
    return this.finished;
  }

  push(slice: Uint8Array): void {
    if (this.ended) throw new Error('zstd: push after end');
    if (slice.length > 0) this.queue.push(slice);
  }

  /** No more input: the next steps finish the stream and check that the frame was complete. */
  end(): void {
    this.ended = true;
  }

  /** One decoder call: decoded bytes (possibly none), or null once the stream has ended cleanly. */
  step(): Uint8Array | null {
    if (this.finished) return null;
    if (this.broken) throw this.corrupt('the decoder already failed');
    if (this.needsInput) throw new Error('zstd: step without input');
    const pulls = this.pulls;
    let result: IteratorResult<Uint8Array>;
    try {
      result = this.steps.next();
    } catch (error) {
      this.finished = true;
      throw this.corrupt('the frame is damaged or incomplete', error);
    }
    if (result.done === true) {
      this.finished = true;
      return null;
    }
    const out = result.value;
    this.produced += out.length;
    if (out.length === 0 && this.pulls === pulls) {
      if (++this.stalls >= STALL_STEPS) {
        this.broken = true;
        throw this.corrupt('the decoder stopped making progress');
      }
    } else {
      this.stalls = 0;
    }
    return out;
  }

  /** Frees the decoder's WebAssembly memory (ends the input and runs the rest of the current slice). */
  dispose(): void {
    if (this.finished || this.broken) return;
    this.queue.length = 0;
    this.ended = true;
    try {
      while (this.step() !== null) {
        // draining
      }
    } catch {
      // An incomplete or damaged stream ends with an error once its memory is freed; a stalled one
      // cannot be freed (zstddec offers no way to) and is left to the WebAssembly heap.
    }
  }

  private corrupt(reason: string, cause?: unknown): SeekdataError {
    return new SeekdataError(
      'CORRUPT_DATA',
      `${this.file}: zstd frame at byte ${this.offset}: ${reason} after ${this.produced} decoded bytes (corrupt data)`,
      { file: this.file, compressedOffset: this.offset, cause },
    );
  }
}
