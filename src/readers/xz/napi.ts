/**
 * Decoding one xz block with a faster N-API decoder than lzma-native (liblzma 5.2, through a stream
 * object with a JS callback per output buffer): node-liblzma (liblzma 5.8, statically linked, prebuilt
 * for linux-x64, darwin-arm64 and win32-x64; about 2x lzma-native) or @napi-rs/lzma (lzma-rs, prebuilt
 * for most platforms; about 1.2x). Both decode a buffer in one call, so the block goes through the same
 * synthetic single-block stream as block.ts (synthetic.ts): the decoder checks the block header, the
 * block's integrity check and the block's sizes against the one-record index.
 *
 * What each verifies (test/decoders-xz.test.ts): node-liblzma every check (CRC32, CRC64, SHA-256);
 * @napi-rs/lzma CRC32 and CRC64, and rejects SHA-256 blocks as unsupported. Neither reports failures in a
 * form we can type reliably, so any failure — damage, a check or filter a backend lacks — goes to
 * lzma-native (decodeXzBlock), which gives the exact typed error, or, when it succeeds, verified bytes.
 * The fast backends are optional: one that does not load (no prebuilt binary for the platform) is skipped.
 */
import { decodeXzBlock, type XzBlockTask } from './block.js';
import { padded4 } from './container.js';
import { syntheticXzStream } from './synthetic.js';
import { SeekdataError } from '../../errors.js';

export type XzBackend = 'node-liblzma' | 'napi-rs' | 'lzma-native';
export type XzFastTask = XzBlockTask;

export interface XzFastResult {
  bytes: Uint8Array;
  /** The decoder that produced (and verified) the bytes. */
  decoder: XzBackend;
}

type BufferDecode = (stream: Uint8Array, uncompressedSize: number) => Uint8Array;

const SHA256 = 0x0a;
const backends = new Map<XzBackend, BufferDecode>();
let loading: Promise<XzBackend[]> | undefined;

async function loadNodeLiblzma(): Promise<BufferDecode> {
  const { unxzSync } = await import('node-liblzma');
  // One output buffer of the known size: the default 64 KiB buffers cost a concat of sixteen.
  return (stream, size) => unxzSync(Buffer.from(stream.buffer, stream.byteOffset, stream.byteLength), { chunkSize: size + 64 });
}

async function loadNapiRs(): Promise<BufferDecode> {
  const { xz } = await import('@napi-rs/lzma');
  return (stream) => xz.decompressSync(stream);
}

/**
 * Loads the fast backends that this platform has (once per thread; call before decoding, e.g. in the
 * worker's start-up). Returns the ones available, fastest first.
 */
export function loadFastXz(): Promise<XzBackend[]> {
  loading ??= (async () => {
    for (const [name, load] of [
      ['node-liblzma', loadNodeLiblzma],
      ['napi-rs', loadNapiRs],
    ] as const) {
      try {
        backends.set(name, await load());
      } catch {
        // No binary for this platform (or the package is not installed): lzma-native decodes instead.
      }
    }
    return [...backends.keys()];
  })();
  return loading;
}

/** The default order: the fastest available first. */
export const FAST_ORDER: readonly XzBackend[] = ['node-liblzma', 'napi-rs'];

/**
 * Decodes a whole block into exactly `uncompressedSize` verified bytes with the first loaded backend of
 * `order` that supports its check, else (or after any failure) with lzma-native. Throws decodeXzBlock's
 * typed errors (TRUNCATED / CORRUPT_DATA / UNSUPPORTED_FORMAT naming the file and the block's offset).
 */
export function decodeXzBlockFast(task: XzFastTask, order: readonly XzBackend[] = FAST_ORDER): XzFastResult {
  if (task.data.length !== padded4(task.unpaddedSize)) {
    throw new SeekdataError('TRUNCATED', `${task.file}: xz block at byte ${task.offset} is cut short`, { file: task.file, compressedOffset: task.offset });
  }
  let stream: Uint8Array | undefined;
  for (const name of order) {
    const decode = backends.get(name);
    if (decode === undefined || (name === 'napi-rs' && task.checkType === SHA256)) continue;
    stream ??= syntheticXzStream(task.data, task);
    try {
      const bytes = decode(stream, task.uncompressedSize);
      // The index record already bounds the output; a second look costs nothing.
      if (bytes.length === task.uncompressedSize) return { bytes: owned(bytes), decoder: name };
    } catch {
      // Diagnosed below.
    }
    break;
  }
  return { bytes: decodeXzBlock(task), decoder: 'lzma-native' };
}

/**
 * The bytes in an array that owns its whole buffer, so a worker can move it: a small Buffer may be a
 * view into Node's shared allocation pool, which must not be transferred (copy those; large outputs
 * already own their buffer).
 */
function owned(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes;
  // Not bytes.slice(): on a Buffer that is a view, not a copy.
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy;
}
