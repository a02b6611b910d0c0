/**
 * The decoder candidates of issue 12 §2, behind one interface so the benchmarks run them interleaved in
 * one process, in the main thread and in worker threads alike. Each candidate decodes one unit (a bzip2
 * block at a bit position, an xz block through a synthetic one-block stream) and returns its bytes.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { xz as napiXz } from '@napi-rs/lzma';
import { unxzSync as liblzmaUnxzSync } from 'node-liblzma';
import { decodeBzip2Block } from '../../src/readers/bzip2/block.js';
import { decodeBzip2BlockWasm, loadBzip2Wasm, type Bzip2Wasm } from '../../src/readers/bzip2/wasm.js';
import { decodeXzBlock, type XzBlockTask } from '../../src/readers/xz/block.js';
import { syntheticXzStream } from '../../src/readers/xz/synthetic.js';
import { decodeWithSeekBzip } from '../seek-bzip-block.js';

export const BZ_CANDIDATES = ['js', 'seek-bzip', 'wasm', 'wasm-search'] as const;
export type BzCandidate = (typeof BZ_CANDIDATES)[number];
export const XZ_CANDIDATES = ['lzma-native', 'napi-rs', 'node-liblzma', 'xz-decompress'] as const;
export type XzCandidate = (typeof XZ_CANDIDATES)[number];

/** One bzip2 block as the chunk map knows it, its bytes sliced from the file. */
export interface BzBlock {
  data: Uint8Array;
  bitOffset: number;
  endBit: number;
  crc: number;
  length: number;
  base: number;
}

let bz2: Bzip2Wasm | undefined;
type XzStreamCtor = new (s: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>;
let XzReadableStream: XzStreamCtor | undefined;

/** Compiles the WASM modules of this thread (do it before timing: the first call compiles). */
export async function prepare(): Promise<void> {
  bz2 = await loadBzip2Wasm();
  // xz-decompress is CommonJS with a webpack bundle: load it through require.
  const require = createRequire(import.meta.url);
  XzReadableStream = (require('xz-decompress') as { XzReadableStream: XzStreamCtor }).XzReadableStream;
}

export function decodeBz(candidate: BzCandidate, b: BzBlock): Uint8Array {
  const task = { data: b.data, bitOffset: b.bitOffset, level: 9, base: b.base, atEnd: true, file: 'bench' };
  switch (candidate) {
    case 'js':
      return decodeBzip2Block(task).bytes;
    case 'seek-bzip':
      return decodeWithSeekBzip(task).bytes;
    case 'wasm':
      if (bz2 === undefined) throw new Error('prepare() first');
      return decodeBzip2BlockWasm(bz2, { ...task, endBit: b.endBit, expectedCrc: b.crc, expectedLength: b.length }).bytes;
    case 'wasm-search':
      // As during discovery without the end: the decoder finds the candidate ends itself.
      if (bz2 === undefined) throw new Error('prepare() first');
      return decodeBzip2BlockWasm(bz2, task).bytes;
  }
}

/** The synchronous candidates (all but xz-decompress, which only streams). */
export function decodeXzSync(candidate: Exclude<XzCandidate, 'xz-decompress'>, task: XzBlockTask): Uint8Array {
  switch (candidate) {
    case 'lzma-native':
      return decodeXzBlock(task);
    case 'napi-rs':
      return napiXz.decompressSync(syntheticXzStream(task.data, task));
    case 'node-liblzma': {
      const s = syntheticXzStream(task.data, task);
      // One output buffer of the known size (the default 64 KiB chunks cost a concat of many).
      return liblzmaUnxzSync(Buffer.from(s.buffer, s.byteOffset, s.byteLength), { chunkSize: task.uncompressedSize + 64 });
    }
  }
}

export async function decodeXz(candidate: XzCandidate, task: XzBlockTask): Promise<Uint8Array> {
  if (candidate !== 'xz-decompress') return decodeXzSync(candidate, task);
  if (XzReadableStream === undefined) throw new Error('prepare() first');
  const stream = new XzReadableStream(new Blob([syntheticXzStream(task.data, task)]).stream());
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Wall and CPU (user + sys of the whole process) of one call, in ms. */
export async function measure(fn: () => unknown): Promise<{ wall: number; cpu: number; result: unknown }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000, result };
}

/** The file's bytes (benchmarks slice blocks out of one read). */
export function fileBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}
