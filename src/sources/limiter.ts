/**
 * Bounded concurrency for remote requests: a counting semaphore with a FIFO queue. A remote source takes a
 * slot of its own limiter and one of a limiter shared by every remote source of the process (or one the
 * caller gives), so that neither one object nor a whole collection opens more requests than asked for.
 * Slots are held only while a request runs, never during a retry's backoff.
 */
import { invalidOption } from '../errors.js';
import { configureReadAhead } from './read-ahead.js';

export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly max: number) {
    if (!Number.isSafeInteger(max) || max < 1) throw invalidOption('maxInFlight', 'a positive integer', max);
  }

  /** Requests running now. */
  get inFlight(): number {
    return this.active;
  }

  /** Runs `task` when a slot is free; the slot is released when it settles. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.active < this.max) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next waiter: `active` stays the same.
    if (next !== undefined) next();
    else this.active--;
  }
}

/** Default limit of remote requests in flight across the whole process. */
export const DEFAULT_TOTAL_IN_FLIGHT = 64;

let shared: Limiter | undefined;

/** The limiter every remote source shares unless given another (`limiter` option). */
export function sharedLimiter(): Limiter {
  shared ??= new Limiter(DEFAULT_TOTAL_IN_FLIGHT);
  return shared;
}

/** Process-wide settings of remote sources (`configureRemoteRequests`). */
export interface RemoteRequestSettings {
  /** Remote requests in flight at once across the process. Default 64. */
  maxInFlight?: number;
  /**
   * Bytes all remote sources may hold read ahead of their reads (fetched before asked for, coalesced; see
   * `ByteSource.prefetch`). 0 turns read-ahead off. Default 64 MiB.
   */
  readAheadBytes?: number;
}

/** Sets the process-wide limits of remote sources (sources opened afterwards use them); unset fields stay. */
export function configureRemoteRequests(options: RemoteRequestSettings): void {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options);
  const limiter = options.maxInFlight === undefined ? undefined : new Limiter(options.maxInFlight);
  if (options.readAheadBytes !== undefined) configureReadAhead(options.readAheadBytes);
  if (limiter !== undefined) shared = limiter;
}
