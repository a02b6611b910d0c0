/**
 * Decoding one xz block with a faster N-API decoder than lzma-native (liblzma 5.2, through a stream
 * object with a JS callback per output buffer): node-liblzma (liblzma 5.8, statically linked, prebuilt
 * for linux-x64, darwin-arm64 and win32-x64; about 2x lzma-native; LGPL-3.0, an optional dependency
 * loaded at run time) or @napi-rs/lzma (lzma-rs, prebuilt for most platforms; about 1.2x). Both decode a
 * buffer in one call, so the block goes through the same synthetic single-block stream as block.ts
 * (synthetic.ts): the decoder checks the block header, the block's integrity check and the block's sizes
 * against the one-record index.
 *
 * What each verifies (test/decoders-xz.test.ts): node-liblzma every check (CRC32, CRC64, SHA-256);
 * @napi-rs/lzma CRC32 and CRC64, and has no SHA-256 (such blocks go to lzma-native unasked) and no BCJ
 * filters. Neither reports failures in a form we can type reliably, so any failure — damage, a filter a
 * backend lacks — goes to lzma-native (decodeXzBlock), which gives the exact typed error, or, when it
 * succeeds, verified bytes. lzma-native also stays the streaming decoder (big blocks, prefixes).
 *
 * Each thread prepares its backends (`prepareXz`): the first of node-liblzma, @napi-rs/lzma that loads
 * (or the one SEEKDATA_XZ_DECODER names; `lzma-native` there uses no fast backend), a fallback said once.
 */
import lzma from 'lzma-native';
import type { DecodeOutput } from '../../workers/registry.js';
import { reason, requestedBackend, warnDecoderOnce } from '../decoder-choice.js';
import { decodeXzBlock, type XzBlockTask } from './block.js';
import { padded4 } from './container.js';
import { isMainThread } from 'node:worker_threads';
import { liblzmaInto, loadLiblzmaEngine, type DecodeInto, type LiblzmaEngine } from './liblzma-into.js';
import { borrowScratch, releaseOnce, releaseScratch } from '../lend.js';
import { syntheticXzStream } from './synthetic.js';
import { SeekdataError } from '../../errors.js';
import { failingSubSpan } from '../sub-crcs.js';

export type XzBackend = 'node-liblzma' | 'napi-rs' | 'lzma-native';
export const XZ_BACKENDS: readonly XzBackend[] = ['node-liblzma', 'napi-rs', 'lzma-native'];
export type XzFastTask = XzBlockTask;

export interface XzFastResult {
  bytes: Uint8Array;
  /** The decoder that produced (and verified) the bytes. */
  decoder: XzBackend;
  /** Set when `bytes` are lent (a view of the thread's scratch buffer, see DecodeOutput.release). */
  release?: (() => void) | undefined;
}

type BufferDecode = (stream: Uint8Array, uncompressedSize: number) => Uint8Array;
interface Loaded {
  decode: BufferDecode;
  /** Decoding into a buffer given (node-liblzma). */
  into?: DecodeInto | undefined;
  /** The native engine, for streaming a block (node-liblzma). */
  engine?: LiblzmaEngine | undefined;
  /** For `info()`. */
  name: string;
}
type FastBackend = Exclude<XzBackend, 'lzma-native'>;

const SHA256 = 0x0a;
const loads = new Map<FastBackend, Promise<Loaded>>();
const backends = new Map<FastBackend, Loaded>();

async function loadNodeLiblzma(): Promise<Loaded> {
  const { unxzSync, versionString } = await import('node-liblzma');
  const engine = await loadLiblzmaEngine();
  return {
    // One output buffer of the known size: the default 64 KiB buffers cost a concat of sixteen.
    decode: (stream, size) => unxzSync(Buffer.from(stream.buffer, stream.byteOffset, stream.byteLength), { chunkSize: size + 64 }),
    into: liblzmaInto(engine),
    engine,
    name: `node-liblzma (liblzma ${versionString()})`,
  };
}

async function loadNapiRs(): Promise<Loaded> {
  const { xz } = await import('@napi-rs/lzma');
  return { decode: (stream) => xz.decompressSync(stream), name: '@napi-rs/lzma (lzma-rs)' };
}

/** Loads one fast backend in this thread (once); rejects when it is not available here. */
function load(name: FastBackend): Promise<Loaded> {
  let loading = loads.get(name);
  if (loading === undefined) {
    loading = (name === 'node-liblzma' ? loadNodeLiblzma() : loadNapiRs()).then((loaded) => {
      backends.set(name, loaded);
      return loaded;
    });
    loads.set(name, loading);
  }
  return loading;
}

/** Loads every fast backend this platform has; returns the ones available, fastest first. For tests and benchmarks. */
export async function loadFastXz(): Promise<XzBackend[]> {
  const out: XzBackend[] = [];
  for (const name of FAST_ORDER) {
    try {
      await load(name);
      out.push(name);
    } catch {
      // Not on this platform.
    }
  }
  return out;
}

/** The default order: the fastest first. */
export const FAST_ORDER: readonly FastBackend[] = ['node-liblzma', 'napi-rs'];

const LABEL: Record<XzBackend, string> = { 'node-liblzma': 'node-liblzma', 'napi-rs': '@napi-rs/lzma', 'lzma-native': 'lzma-native' };

/** This thread's choice (`prepareXz`): the fast backend to try first, if any, and its name. */
let chosen: { order: readonly FastBackend[]; name: string } | undefined;

/**
 * Loads this thread's xz backend: the first of the default order (or the one SEEKDATA_XZ_DECODER asks
 * for) that loads; a preferred one that does not is said once. Never rejects: lzma-native is always there.
 */
export async function prepareXz(): Promise<void> {
  const requested = requestedBackend('SEEKDATA_XZ_DECODER', XZ_BACKENDS);
  const wanted: readonly FastBackend[] = requested === undefined ? FAST_ORDER : requested === 'lzma-native' ? [] : [requested];
  const failed: string[] = [];
  for (const name of wanted) {
    try {
      const loaded = await load(name);
      chosen = { order: [name], name: loaded.name };
      break;
    } catch (error) {
      failed.push(`${LABEL[name]} (${reason(error)})`);
    }
  }
  chosen ??= { order: [], name: `lzma-native (liblzma ${lzma.versionString?.() ?? 'unknown'})` };
  if (failed.length > 0) {
    const using = chosen.order.length > 0 ? `${chosen.name}; SHA-256 blocks and filters it lacks by lzma-native` : 'lzma-native, about half the speed of node-liblzma';
    warnDecoderOnce(`xz decoder not available: ${failed.join('; ')}. xz blocks are decoded by ${using}`);
  }
}

/** Prepares this thread's xz backend unless it was (`prepareXz`). */
export async function readyXz(): Promise<void> {
  if (chosen === undefined) await prepareXz();
}

/**
 * node-liblzma's engine when it is this thread's xz decoder (after `prepareXz`), for blocks streamed front to
 * back (liblzma-stream.ts); undefined where lzma-native streams them.
 */
export function xzStreamingEngine(): LiblzmaEngine | undefined {
  return chosen?.order[0] === 'node-liblzma' ? backends.get('node-liblzma')?.engine : undefined;
}

/** What decodes xz blocks in this thread (after `prepareXz`), for `info()`. */
export function xzDecoderName(): string {
  return chosen?.name ?? `lzma-native (liblzma ${lzma.versionString?.() ?? 'unknown'})`;
}

/**
 * Decodes one block with this thread's backend (lzma-native until `prepareXz` has run). With `lend` (a job
 * that does not keep the bytes), in a pool worker, the bytes may be lent: a view of the thread's scratch
 * buffer (`release`). Not in the calling thread, where a step's result is not copied by a post.
 */
export function decodeXz(task: XzBlockTask, lend = false): DecodeOutput {
  const result = decodeXzBlockFast(task, chosen?.order ?? [], lend && !isMainThread);
  if (task.subCrcs !== undefined) {
    const { span, crcs } = task.subCrcs;
    const k = failingSubSpan(result.bytes, result.bytes.length, crcs, span);
    if (k >= 0) {
      result.release?.();
      const where = `decompressed bytes ${k * span}..${Math.min(result.bytes.length, (k + 1) * span)} of it`;
      throw new SeekdataError('CORRUPT_DATA', `${task.file}: xz block at byte ${task.offset} (it has no check): ${where} do not match the CRC-32 the index recorded (corrupt data, or the file changed)`, {
        file: task.file,
        compressedOffset: task.offset,
      });
    }
  }
  return { bytes: result.bytes, decoder: result.decoder, release: result.release };
}

/**
 * Decodes a whole block into exactly `uncompressedSize` verified bytes with the first loaded backend of
 * `order` that supports its check, else (or after any failure) with lzma-native. Throws decodeXzBlock's
 * typed errors (TRUNCATED / CORRUPT_DATA / UNSUPPORTED_FORMAT naming the file and the block's offset).
 * With `lend`, node-liblzma's bytes may come back lent: a view of the thread's scratch buffer, valid until
 * `release()` (the thread's next block then decodes into a fresh array instead).
 */
export function decodeXzBlockFast(task: XzFastTask, order: readonly XzBackend[] = FAST_ORDER, lend = false): XzFastResult {
  if (task.data.length !== padded4(task.unpaddedSize)) {
    throw new SeekdataError('TRUNCATED', `${task.file}: xz block at byte ${task.offset} is cut short`, { file: task.file, compressedOffset: task.offset });
  }
  for (const name of order) {
    if (name === 'lzma-native') break;
    const backend = backends.get(name);
    if (backend === undefined || (name === 'napi-rs' && task.checkType === SHA256)) continue;
    try {
      // In the thread's scratch buffer: both backends decode it synchronously, before the next block's.
      const stream = syntheticXzStream(task.data, task, true);
      if (backend.into !== undefined) return decodeInto(backend.into, stream, task.uncompressedSize, lend) ?? lzmaNative(task);
      const bytes = backend.decode(stream, task.uncompressedSize);
      // The index record already bounds the output; a second look costs nothing.
      if (bytes.length === task.uncompressedSize) return { bytes: owned(bytes), decoder: name };
    } catch {
      // Diagnosed below.
    }
    break;
  }
  return lzmaNative(task);
}

function lzmaNative(task: XzFastTask): XzFastResult {
  return { bytes: decodeXzBlock(task), decoder: 'lzma-native' };
}

/**
 * node-liblzma into the thread's scratch buffer (64 bytes spare: a block longer than its index record fails
 * in liblzma, not past the buffer), then lent or copied into an array of its own; a fresh buffer when the
 * scratch is lent already. Undefined when liblzma did not decode exactly `size` bytes.
 */
function decodeInto(into: DecodeInto, stream: Uint8Array, size: number, lend: boolean): XzFastResult | undefined {
  const scratch = borrowScratch(size + 64);
  let kept = false;
  try {
    const out = scratch ?? new Uint8Array(size + 64);
    if (into(stream, out) !== size) return undefined;
    kept = lend && scratch !== undefined;
    return kept ? { bytes: out.subarray(0, size), decoder: 'node-liblzma', release: releaseOnce() } : { bytes: out.slice(0, size), decoder: 'node-liblzma' };
  } finally {
    if (scratch !== undefined && !kept) releaseScratch();
  }
}

/**
 * The bytes in an array that owns its whole buffer, so a worker can move it: a small Buffer may be a
 * view into Node's shared allocation pool, which must not be transferred (copy those; large outputs
 * already own their buffer).
 */
function owned(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes;
  // Not bytes.slice(): on a Buffer that is a view, not a copy.
  const copy = new Uint8Array(bytes);
  return copy;
}
