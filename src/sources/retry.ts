/**
 * The one retry policy of remote sources (S3 and HTTP(S)): exponential backoff with full jitter
 * (`sleep = random(0, min(maxDelayMs, baseDelayMs * 2^retry))`), within two budgets:
 *
 * - per request: at most `maxAttempts` tries and `maxTotalDelayMs` of sleeping between them;
 * - per source: a token bucket of `budget` retries; a retry takes a token, a request that succeeds gives
 *   one back (up to `budget`). A store that fails more often than it answers drains it, and the source then
 *   stops retrying at once instead of multiplying the load on a store that is down (AWS SDK's standard mode
 *   works the same way).
 *
 * Only transient failures are retried: 5xx, 429 / SlowDown, timeouts, refused / reset / dropped
 * connections, bodies cut short. Never retried: a changed object (`STALE_SOURCE`), other 4xx, and every
 * integrity failure (a wrong range, a body longer than asked): retrying cannot make them right. A transient
 * failure left after the budget is a `SOURCE_ERROR` naming the (redacted) object, the range and the attempts.
 */
import { SeekdataError, invalidOption } from '../errors.js';
import { checkKnownKeys, keyRecord } from '../options.js';

export interface RetryOptions {
  /** Tries of one request, the first one included (1 = no retry). Default 5. */
  maxAttempts?: number;
  /** First backoff ceiling, in ms; it doubles with each retry. Default 100. */
  baseDelayMs?: number;
  /** Largest single backoff, in ms. Default 5,000. */
  maxDelayMs?: number;
  /** Most time one request may spend sleeping between its tries, in ms. Default 20,000. */
  maxTotalDelayMs?: number;
  /** Retries a source may owe (token bucket: a retry takes one, a success gives one back). Default 100. */
  budget?: number;
}

export type ResolvedRetry = Required<RetryOptions>;

export const RETRY_DEFAULTS: ResolvedRetry = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 5_000, maxTotalDelayMs: 20_000, budget: 100 };

export function resolveRetry(options: RetryOptions | undefined): ResolvedRetry {
  if (options === undefined) return { ...RETRY_DEFAULTS };
  if (typeof options !== 'object' || options === null) throw invalidOption('retry', 'an object', options);
  checkKnownKeys(options, keyRecord(Object.keys(RETRY_DEFAULTS)), 'the retry options', {}, 'retry.');
  const int = (key: keyof ResolvedRetry, min: number): number => {
    const value = options[key] ?? RETRY_DEFAULTS[key];
    if (!Number.isSafeInteger(value) || value < min) throw invalidOption(`retry.${key}`, `an integer >= ${min}`, value);
    return value;
  };
  return {
    maxAttempts: int('maxAttempts', 1),
    baseDelayMs: int('baseDelayMs', 0),
    maxDelayMs: int('maxDelayMs', 0),
    maxTotalDelayMs: int('maxTotalDelayMs', 0),
    budget: int('budget', 0),
  };
}

/** Failures a retry may cure. Errors are marked where they are made, by the code that knows what happened. */
const transientErrors = new WeakSet<object>();

/** Marks an error as transient (retryable) and returns it. */
export function transient<E extends Error>(error: E): E {
  transientErrors.add(error);
  return error;
}

export function isTransient(error: unknown): boolean {
  return typeof error === 'object' && error !== null && transientErrors.has(error);
}

/** Counters of a remote source (or of several, added up): what tests and benchmarks assert. */
export interface RemoteStats {
  /** Requests sent (every try counts). */
  requests: number;
  /** Requests that were retries of a failed one. */
  retries: number;
  /** Bytes received in answers' bodies (the data downloaded). */
  bytesDownloaded: number;
  /** Bytes handed to callers (from downloads and from the disk cache). */
  bytesReturned: number;
  /** Ranges served from the disk cache without a request. */
  cacheHits: number;
  /** Bytes served from the disk cache. */
  cacheBytes: number;
  /** Bytes served from read-ahead: fetched (coalesced) before they were asked for (see `ByteSource.prefetch`). */
  readAheadBytes: number;
}

export const emptyStats = (): RemoteStats => ({ requests: 0, retries: 0, bytesDownloaded: 0, bytesReturned: 0, cacheHits: 0, cacheBytes: 0, readAheadBytes: 0 });

/** The state of one source's retries: its policy, its token bucket, its counters. */
export class Retrier {
  private tokens: number;

  constructor(
    readonly policy: ResolvedRetry,
    readonly stats: RemoteStats,
    private readonly random: () => number = Math.random,
  ) {
    this.tokens = policy.budget;
  }

  /**
   * Runs `attempt` until it succeeds, fails for good, or a budget is spent. `what` names the object and the
   * range for the final `SOURCE_ERROR` (already redacted). `attempt` gets the try number (0 = first).
   */
  async run<T>(what: { file: string; range: string; offset?: number }, attempt: (n: number) => Promise<T>): Promise<T> {
    let slept = 0;
    for (let n = 0; ; n++) {
      this.stats.requests++;
      if (n > 0) this.stats.retries++;
      try {
        const result = await attempt(n);
        this.tokens = Math.min(this.policy.budget, this.tokens + 1);
        return result;
      } catch (error) {
        if (!isTransient(error)) throw error;
        const tries = n + 1;
        const why = error instanceof Error ? error.message : String(error);
        if (tries >= this.policy.maxAttempts) throw this.giveUp(what, `${tries} attempt${tries === 1 ? '' : 's'}, the most allowed (retry.maxAttempts)`, why, error);
        if (this.tokens < 1) throw this.giveUp(what, `${tries} attempt${tries === 1 ? '' : 's'}; the source's retry budget is spent (retry.budget, too many failures)`, why, error);
        const ceiling = Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** Math.min(n, 30));
        const delay = Math.floor(this.random() * ceiling);
        if (slept + delay > this.policy.maxTotalDelayMs) {
          throw this.giveUp(what, `${tries} attempt${tries === 1 ? '' : 's'} and ${slept} ms of backoff (retry.maxTotalDelayMs)`, why, error);
        }
        this.tokens -= 1;
        slept += delay;
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private giveUp(what: { file: string; range: string; offset?: number }, after: string, why: string, cause: unknown): SeekdataError {
    const at = cause instanceof SeekdataError && cause.compressedOffset !== undefined ? cause.compressedOffset : what.offset;
    return new SeekdataError('SOURCE_ERROR', `${what.file}: ${what.range}: ${lastPart(why, what.file)} (gave up after ${after})`, {
      file: what.file,
      compressedOffset: at,
      cause,
    });
  }
}

/** The last failure's message without the "name: range: " it starts with (the final message says them once). */
function lastPart(message: string, file: string): string {
  return message.startsWith(`${file}: `) ? message.slice(file.length + 2).replace(/^bytes \d+-\d+: /, '') : message;
}
