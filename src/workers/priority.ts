/**
 * The scheduling priority (nice value) a worker thread runs a job at. A caller that wants its jobs to
 * yield the CPU to another thread of the process (the training loop on the main thread: toTfDataset)
 * runs the code that submits them inside `withJobPriority`; the pool reads the value where the job is
 * posted (an AsyncLocalStorage, so the layers in between — readers, decoders — carry nothing), and the
 * worker sets its own thread's nice value before running the job.
 *
 * Linux only: there, `setpriority(PRIO_PROCESS, 0)` (os.setPriority(0, n)) changes the calling thread
 * alone. Elsewhere it changes the whole process, the training thread included, so nothing is changed.
 * An unprivileged thread can raise its nice value but not lower it again (RLIMIT_NICE is 0 by default):
 * a worker that ran a low-priority job then keeps that priority for its later jobs.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { getPriority, setPriority } from 'node:os';
import { invalidOption } from '../errors.js';

/** Nice values a job may ask for: 0 (normal) to 19 (lowest). Negative ones need privileges: refused. */
export const LOWEST_PRIORITY = 19;

const store = new AsyncLocalStorage<number>();

/** Checks a nice value given as option `name`: an integer from 0 to 19. */
export function checkPriority(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > LOWEST_PRIORITY) {
    throw invalidOption(name, `an integer from 0 (normal) to ${LOWEST_PRIORITY} (lowest priority)`, value);
  }
  return value;
}

/** Runs `run`; the worker jobs it submits (through the pool) run at nice value `nice` (undefined: normal). */
export function withJobPriority<T>(nice: number | undefined, run: () => Promise<T>): Promise<T> {
  return nice === undefined ? run() : store.run(nice, run);
}

/** The nice value jobs submitted now should run at, if one was asked for. */
export function jobPriority(): number | undefined {
  return store.getStore();
}

/** Whether thread priorities can be set per thread here. */
export const perThreadPriority = process.platform === 'linux';

/** This thread's nice value before its first job, and what it is now. */
let base: number | undefined;
let current: number | undefined;
/** Nice values this thread was refused (lowering without the privilege). */
const refused = new Set<number>();

function niceNow(): number {
  try {
    return getPriority(0);
  } catch {
    return 0;
  }
}

/**
 * In a worker thread, before a job: sets this thread's nice value to what the job asked for, or back to
 * the thread's own when it asked for nothing (when allowed: see the opening comment). Never throws: a
 * priority not granted leaves the thread as it was.
 */
export function applyThreadPriority(nice: number | undefined): void {
  if (!perThreadPriority) return;
  base ??= niceNow();
  current ??= base;
  const wanted = nice ?? base;
  if (wanted === current) return;
  // Lowering the nice value back needs privileges an ordinary user lacks: tried once per value, at most.
  if (wanted < current && refused.has(wanted)) return;
  try {
    setPriority(0, wanted);
  } catch {
    refused.add(wanted);
  }
  current = niceNow();
}
