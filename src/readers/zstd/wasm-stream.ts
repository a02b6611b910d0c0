/**
 * Streaming decode with bounded memory: libzstd's ZSTD_decompressStream compiled to WebAssembly (the
 * module shipped by zstddec 0.3.4, `zstddec/stream`). Memory is the frame's window (at most 128 MiB,
 * libzstd's default limit; 2-8 MiB for ordinary levels) plus one input slice and one 128 KiB output
 * buffer. libzstd checks the frame's content size and checksum (when present) as it reaches them.
 *
 * zstddec's own streaming generator is not used: it ignores libzstd's error codes (a damaged frame spins
 * on the same input forever) and frees nothing unless it runs to its end, so every failed frame left its
 * decoder context and window in the WebAssembly heap until the heap was full and every later frame in the
 * thread failed. Here the loop is ours, over the same compiled module:
 * - a negative return of ZSTD_decompressStream (a libzstd error code) fails the frame at once, and a step
 *   that neither consumes input nor yields output `STALL_STEPS` times in a row is corrupt data too;
 * - the decoder context and every buffer are freed on each way out (end, error, `dispose`);
 * - after any error the thread's WebAssembly instance is dropped and the next frame gets a fresh one, so
 *   nothing a failed frame left behind can reach a later frame. Each decoder keeps the instance it started
 *   on, so frames decoding at the same time are not disturbed.
 */
import { ZSTDDecoder } from 'zstddec/stream';
import { SeekdataError } from '../../errors.js';

const STALL_STEPS = 16;

/** The few WebAssembly API pieces used here (our `lib` setting has no WebAssembly declarations). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Memory: abstract new (...args: never[]) => WasmMemory;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
/** Bytes of a ZSTD_inBuffer / ZSTD_outBuffer struct in wasm32: pointer, size, pos. */
const STRUCT_BYTES = 12;

interface ZstdExports {
  memory: WasmMemory;
  malloc: (n: number) => number;
  free: (ptr: number) => void;
  ZSTD_createDCtx: () => number;
  ZSTD_freeDCtx: (dctx: number) => number;
  ZSTD_decompressStream: (dctx: number, output: number, input: number) => number;
  ZSTD_DStreamOutSize: () => number;
}

let wasmModule: object | undefined;
let loading: Promise<void> | undefined;
let current: ZstdExports | undefined;
/** Instances created in this thread (the first plus one per replacement after an error); for tests. */
let instancesCreated = 0;

/** Compiles the WebAssembly module once per thread. */
export async function wasmZstdReady(): Promise<void> {
  if (wasmModule !== undefined) return;
  loading ??= (async () => {
    const d = new ZSTDDecoder();
    // zstddec instantiates its embedded module and hands the result to `_init`; keep the compiled module.
    const init = d._init.bind(d);
    let seen: object | undefined;
    d._init = (result: Parameters<ZSTDDecoder['_init']>[0]): void => {
      seen = (result as { module: object }).module;
      init(result);
    };
    await d.init();
    if (seen === undefined) throw new Error('zstd: the zstddec WebAssembly module was initialised elsewhere first');
    wasmModule = seen;
  })();
  await loading;
}

/** Number of WebAssembly instances this thread has created (a new one follows every failed frame). */
export function wasmZstdInstances(): number {
  return instancesCreated;
}

function exportsOf(instance: { exports: Record<string, unknown> }): ZstdExports {
  const e = instance.exports;
  const names = ['malloc', 'free', 'ZSTD_createDCtx', 'ZSTD_freeDCtx', 'ZSTD_decompressStream', 'ZSTD_DStreamOutSize'];
  if (!(e.memory instanceof wasm.Memory) || names.some((name) => typeof e[name] !== 'function')) {
    throw new Error('zstd: unexpected exports in the zstddec WebAssembly module');
  }
  return e as unknown as ZstdExports;
}

function acquire(): ZstdExports {
  if (wasmModule === undefined) throw new Error('zstd: await wasmZstdReady() first');
  if (current === undefined) {
    // The module only tells about memory growth; we read `memory.buffer` afresh after every call.
    const instance = new wasm.Instance(wasmModule, { env: { emscripten_notify_memory_growth: () => undefined } });
    current = exportsOf(instance);
    instancesCreated++;
  }
  return current;
}

export class WasmFrameDecoder {
  private readonly queue: Uint8Array[] = [];
  private readonly z: ZstdExports;
  private readonly dctx: number;
  private readonly outBuf: number;
  private readonly outSize: number;
  private readonly inStruct: number;
  private readonly outStruct: number;
  /** The slice being consumed (in wasm memory), or 0. */
  private inBuf = 0;
  private ended = false;
  private finished = false;
  private broken = false;
  private freed = false;
  private stalls = 0;
  /** libzstd's last hint: 0 once a frame is complete and flushed. */
  private lastRet = 0;
  /** Decoded bytes produced so far. */
  produced = 0;

  constructor(
    private readonly file: string,
    /** Compressed offset of the frame, for messages. */
    private readonly offset: number,
  ) {
    this.z = acquire();
    this.dctx = this.z.ZSTD_createDCtx();
    this.outSize = this.z.ZSTD_DStreamOutSize();
    this.outBuf = this.z.malloc(this.outSize);
    this.inStruct = this.z.malloc(STRUCT_BYTES);
    this.outStruct = this.z.malloc(STRUCT_BYTES);
    if (this.dctx === 0 || this.outBuf === 0 || this.inStruct === 0 || this.outStruct === 0) {
      this.release();
      throw this.fail('the WebAssembly decoder is out of memory');
    }
  }

  /** True when the next step needs a slice pushed (or `end()` called) first. */
  get needsInput(): boolean {
    return this.inBuf === 0 && this.queue.length === 0 && !this.ended;
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
    if (this.inBuf === 0) {
      const next = this.queue.shift();
      if (next === undefined) {
        // Input has ended: one call with no input flushes anything libzstd still holds.
        if (this.lastRet === 0) return this.finish();
        const out = this.call(0);
        if (out.length > 0) return out;
        if (this.lastRet === 0) return this.finish();
        throw this.fail('the frame is damaged or incomplete');
      }
      this.inBuf = this.z.malloc(next.length);
      if (this.inBuf === 0) throw this.fail('the WebAssembly decoder is out of memory');
      new Uint8Array(this.z.memory.buffer).set(next, this.inBuf);
      const view = new DataView(this.z.memory.buffer);
      view.setUint32(this.inStruct, this.inBuf, true);
      view.setUint32(this.inStruct + 4, next.length, true);
      view.setUint32(this.inStruct + 8, 0, true);
    }
    return this.call(this.inBuf);
  }

  /** Frees the decoder's WebAssembly memory; the decoder cannot be used afterwards. */
  dispose(): void {
    this.release();
  }

  /** Calls ZSTD_decompressStream once on the current input (`inPtr` 0: an empty input). */
  private call(inPtr: number): Uint8Array {
    let view = new DataView(this.z.memory.buffer);
    if (inPtr === 0) {
      view.setUint32(this.inStruct, 0, true);
      view.setUint32(this.inStruct + 4, 0, true);
      view.setUint32(this.inStruct + 8, 0, true);
    }
    const posBefore = view.getUint32(this.inStruct + 8, true);
    view.setUint32(this.outStruct, this.outBuf, true);
    view.setUint32(this.outStruct + 4, this.outSize, true);
    view.setUint32(this.outStruct + 8, 0, true);
    const ret = this.z.ZSTD_decompressStream(this.dctx, this.outStruct, this.inStruct);
    if (ret < 0) throw this.fail(`the frame is damaged or incomplete (libzstd error ${-ret})`);
    this.lastRet = ret;
    view = new DataView(this.z.memory.buffer); // memory may have grown
    const written = view.getUint32(this.outStruct + 8, true);
    const pos = view.getUint32(this.inStruct + 8, true);
    const size = view.getUint32(this.inStruct + 4, true);
    // A copy: the output buffer is reused by the next call.
    const out = new Uint8Array(this.z.memory.buffer).slice(this.outBuf, this.outBuf + written);
    this.produced += written;
    if (inPtr !== 0 && pos >= size) {
      this.z.free(this.inBuf);
      this.inBuf = 0;
    }
    if (written === 0 && pos === posBefore) {
      if (++this.stalls >= STALL_STEPS) throw this.fail('the decoder stopped making progress');
    } else {
      this.stalls = 0;
    }
    return out;
  }

  private finish(): null {
    this.finished = true;
    this.release();
    return null;
  }

  /** Marks the decoder failed, frees it, and retires the thread's instance: the next frame gets a fresh one. */
  private fail(reason: string): SeekdataError {
    this.broken = true;
    this.release();
    if (current === this.z) current = undefined;
    return this.corrupt(reason);
  }

  private release(): void {
    if (this.freed) return;
    this.freed = true;
    this.queue.length = 0;
    if (this.inBuf !== 0) this.z.free(this.inBuf);
    this.inBuf = 0;
    if (this.dctx !== 0) this.z.ZSTD_freeDCtx(this.dctx);
    for (const ptr of [this.outBuf, this.inStruct, this.outStruct]) if (ptr !== 0) this.z.free(ptr);
  }

  private corrupt(reason: string, cause?: unknown): SeekdataError {
    return new SeekdataError(
      'CORRUPT_DATA',
      `${this.file}: zstd frame at byte ${this.offset}: ${reason} after ${this.produced} decoded bytes (corrupt data)`,
      { file: this.file, compressedOffset: this.offset, cause },
    );
  }
}
