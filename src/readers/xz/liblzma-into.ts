/**
 * node-liblzma's native engine driven directly, to decode a one-block stream in one call into an output
 * buffer we choose. `unxzSync` gives each block a zero-filled output buffer and then a second array for
 * the concat after it: two fresh MiB per MiB decoded, each page written for the first time. On this
 * machine class a first write to a page costs 1-15 µs (a page fault), so one block of 1 MiB paid 0.5-7 ms
 * over its ~10-20 ms of decoding. Decoding into the thread's reused scratch buffer pays none of it; a
 * caller that keeps the bytes copies them once into an array of their own.
 *
 * The engine is the one `unxzSync` uses (lzma_stream_decoder, every integrity check verified, the block's
 * sizes against the synthetic stream's index); its class is taken from an `Unxz` stream, so the addon is
 * the one node-liblzma loaded. The same engine streams the blocks read front to back (liblzma-stream.ts).
 */
import { Buffer } from 'node:buffer';

export interface Engine {
  codeSync(flush: number, input: Buffer, inOffset: number, inLength: number, output: Buffer, outOffset: number): [number, number, number];
  close(): void;
}
type EngineClass = new (mode: number, options: Record<string, unknown>) => Engine;

/** node-liblzma's STREAM_DECODE (src/bindings: STREAM_ENCODE = 0, STREAM_DECODE = 1). */
const STREAM_DECODE = 1;

/** Decodes a whole one-block xz stream into `out`; the decoded length, or undefined when liblzma did not end the stream cleanly. */
export type DecodeInto = (stream: Uint8Array, out: Uint8Array) => number | undefined;

/** node-liblzma's native engine (a liblzma stream decoder per instance) and the liblzma constants it takes and returns. */
export interface LiblzmaEngine {
  /** A new lzma_stream_decoder (every integrity check verified). */
  create(): Engine;
  run: number;
  finish: number;
  streamEnd: number;
  ok: number;
  /** The liblzma version node-liblzma carries. */
  version: string;
}

/** Loads node-liblzma's native engine; rejects when node-liblzma is not available here. */
export async function loadLiblzmaEngine(): Promise<LiblzmaEngine> {
  const lib = await import('node-liblzma');
  // The options unxzSync passes (the decoder reads none of them, but the constructor checks them).
  const options = { check: lib.check.NONE, preset: lib.preset.DEFAULT, filters: [lib.filter.LZMA2], mode: lib.mode.NORMAL, threads: 1, chunkSize: 64, flushFlag: lib.LZMA_RUN };
  const probe = new lib.Unxz({ chunkSize: 64 });
  const engine = (probe as unknown as { lzma?: { constructor?: unknown } }).lzma?.constructor;
  probe.close();
  if (typeof engine !== 'function') throw new Error('node-liblzma: its native engine was not found');
  const Engine = engine as EngineClass;
  return { create: () => new Engine(STREAM_DECODE, options), run: lib.LZMA_RUN, finish: lib.LZMA_FINISH, streamEnd: lib.LZMA_STREAM_END, ok: lib.LZMA_OK, version: lib.versionString() };
}

/** Returns node-liblzma's engine as a DecodeInto; rejects when node-liblzma is not available here. */
export function liblzmaInto(lib: LiblzmaEngine): DecodeInto {
  return (stream, out) => {
    const e = lib.create();
    try {
      const input = Buffer.from(stream.buffer, stream.byteOffset, stream.byteLength);
      const output = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
      const [status, inLeft, outLeft] = e.codeSync(lib.finish, input, 0, input.length, output, 0);
      return status === lib.streamEnd && inLeft === 0 ? output.length - outLeft : undefined;
    } finally {
      e.close();
    }
  };
}
