/**
 * What a worker job can run, by name: decoders (one per compressed format, registered by the readers'
 * format registry) and steps (work run on a chunk's decoded bytes in the same job, registered by the layer
 * that owns the work: `analyze` by the index, `parse` by the datasets). The pool knows no decoder and no
 * step: registration happens when the owning module is loaded, in every thread that runs jobs. The worker
 * entry (worker.ts) imports the registering modules; in the main thread (the inline runner, parallelism 1)
 * the module that builds a job has imported the module that registers what the job names.
 */
import { SeekdataError } from '../errors.js';

/** What decoding one unit gives: its bytes and format-specific facts to check against the chunk map. */
export interface DecodeOutput {
  bytes: Uint8Array;
  /** Plain data (numbers, strings, typed arrays), e.g. bzip2's end bit and stored CRC. */
  info?: unknown;
  /** The backend that decoded (and verified) the unit, when a format has several (e.g. "node-liblzma"). */
  decoder?: string;
  /**
   * Set when `bytes` are lent: a view of the decoder's reused buffer (xz: the thread's scratch), valid until
   * this is called. The job copies what it keeps out of them and calls it once its step has returned.
   */
  release?: (() => void) | undefined;
}

/** A step to run on a chunk's decoded bytes: a registered name and plain-data arguments. */
export interface StepCall {
  name: string;
  args: unknown;
}

/** `lend`: the job keeps no bytes, so the decoder may lend them (DecodeOutput.release). */
type Decoder = (task: unknown, lend: boolean) => DecodeOutput | Promise<DecodeOutput>;
type Step = (bytes: Uint8Array, args: unknown) => unknown;

interface DecoderEntry {
  decode: Decoder;
  /** Loads what `decode` needs in this thread; undefined once done (or when there is nothing to load). */
  prepare: (() => Promise<void>) | undefined;
  preparing: Promise<void> | undefined;
}

const decoders = new Map<string, DecoderEntry>();
const steps = new Map<string, Step>();

/**
 * Registers the decoder of a format. The task type is the format's own: jobs that name this format carry
 * tasks its `task()` built, so the cast back from plain data is safe by construction. `prepare` loads
 * what the decoder needs in a thread (a WebAssembly module compiled, a native addon loaded): it runs once
 * per thread before the format's first job there (the worker entry starts it when the thread starts). It
 * must not reject: a decoder whose preferred backend did not load falls back to another.
 */
export function registerDecoder<T>(format: string, decode: (task: T, lend?: boolean) => DecodeOutput | Promise<DecodeOutput>, prepare?: () => Promise<void>): void {
  decoders.set(format, { decode: (task, lend) => decode(task as T, lend), prepare, preparing: undefined });
}

/**
 * Prepares the decoder of `format` in this thread: undefined when it is ready (so a caller can stay
 * synchronous), else a promise that resolves when it is.
 */
export function prepareDecoder(format: string): Promise<void> | undefined {
  const entry = decoders.get(format);
  if (entry?.prepare === undefined) return undefined;
  const prepare = entry.prepare;
  entry.preparing ??= prepare()
    .catch(() => {
      // prepare() does not reject; if one did, its decoder runs unprepared (on its fallback backend).
    })
    .then(() => {
      entry.prepare = undefined;
    });
  return entry.preparing;
}

/** Prepares every registered decoder in this thread (the worker entry calls it when a thread starts). */
export async function prepareDecoders(): Promise<void> {
  await Promise.all([...decoders.keys()].map((format) => prepareDecoder(format)));
}

/** A typed handle on a registered step: builds its calls and reads its results. */
export interface StepDef<A, R> {
  readonly name: string;
  call(args: A): StepCall;
  /** The step's result as its type (a job that ran `call(...)` returns what `run` returned). */
  result(value: unknown): R;
}

/**
 * Registers a step under `name` (once per thread: the module defining it is loaded once). A step that
 * returns a promise is awaited by the job; the job's result holds what it resolved to.
 */
export function defineStep<A, R>(name: string, run: (bytes: Uint8Array, args: A) => R | Promise<R>): StepDef<A, R> {
  steps.set(name, (bytes, args) => run(bytes, args as A));
  return {
    name,
    call: (args) => ({ name, args }),
    result: (value) => value as R,
  };
}

function notRegistered(what: string, name: string): SeekdataError {
  return new SeekdataError(
    'WORKER_ERROR',
    `no ${what} "${name}" is registered in this thread (a custom worker entry must import seekdata's worker, which registers them)`,
  );
}

/** Decodes a task of `format` (prepared or not: see `prepareDecoder`). */
export function decodeTask(format: string, task: unknown, lend = false): DecodeOutput | Promise<DecodeOutput> {
  const entry = decoders.get(format);
  if (entry === undefined) throw notRegistered('decoder for format', format);
  return entry.decode(task, lend);
}

export function runStep(call: StepCall, bytes: Uint8Array): unknown {
  const step = steps.get(call.name);
  if (step === undefined) throw notRegistered('step', call.name);
  return step(bytes, call.args);
}
