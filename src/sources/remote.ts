/**
 * What every remote source (S3, HTTP(S)) does the same way around its one primitive, "fetch this range
 * once, checked": retries (./retry.ts), bounded requests in flight (./limiter.ts), coalescing of ranges
 * needed together (./coalesce.ts), the optional disk cache (./remote-cache.ts), and the counters.
 */
import { invalidOption, SeekdataError } from '../errors.js';
import { planRanges, resolveCoalesce, type CoalesceOptions, type ResolvedCoalesce } from './coalesce.js';
import { Limiter, sharedLimiter } from './limiter.js';
import { HeldRanges, sharedReadAhead, type ReadAheadBudget } from './read-ahead.js';
import { RemoteCache } from './remote-cache.js';
import { emptyStats, resolveRetry, Retrier, type RemoteStats, type RetryOptions } from './retry.js';
import { checkRange, type ByteRange } from './source.js';

/** Options every remote source takes (S3 and HTTP(S)). */
export interface RemoteOptions {
  /**
   * Time limit, in ms, of every wait on the server: for the headers of an answer, then for each piece of
   * its body (a stalled server is a retried failure, not a hang; a slow but steady download is not cut).
   * Default 30,000.
   */
  timeoutMs?: number;
  /** Retries of failed requests (see `RetryOptions`). Default: 5 attempts, backoff from 100 ms, budget 100. */
  retry?: RetryOptions;
  /** Requests of this source in flight at once. Default 8. */
  maxInFlight?: number;
  /**
   * A limiter shared by several sources (all requests of all of them in flight at once). Default: the
   * process-wide one (64 requests; see `configureRemoteRequests`).
   */
  limiter?: Limiter;
  /** How `readRanges` merges nearby ranges into one request. Default: gaps up to 64 KiB, requests up to 16 MiB. */
  coalesce?: CoalesceOptions;
  /** A directory for the disk cache of downloaded ranges (see README, "Object storage"). Default: no cache. */
  remoteCacheDir?: string;
  /** Byte budget of the disk cache (LRU eviction). Default 10 GiB. */
  remoteCacheBytes?: number;
}

export const REMOTE_OPTION_KEYS = ['timeoutMs', 'retry', 'maxInFlight', 'limiter', 'coalesce', 'remoteCacheDir', 'remoteCacheBytes'] as const;

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
const DEFAULT_IN_FLIGHT = 8;

export interface ResolvedRemote {
  timeoutMs: number;
  retrier: Retrier;
  own: Limiter;
  shared: Limiter;
  coalesce: ResolvedCoalesce;
  cache: RemoteCache | undefined;
  readAhead: ReadAheadBudget;
  stats: RemoteStats;
}

const caches = new Map<string, Promise<RemoteCache>>();

/** Validates the remote options (naming the field) and sets up what they ask for. */
export async function resolveRemote(options: RemoteOptions): Promise<ResolvedRemote> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TIMEOUT_MS) {
    throw invalidOption('timeoutMs', `a positive integer of at most ${MAX_TIMEOUT_MS}`, timeoutMs);
  }
  if (options.limiter !== undefined && !(options.limiter instanceof Limiter)) throw invalidOption('limiter', 'a Limiter', options.limiter);
  const stats = emptyStats();
  let cache: RemoteCache | undefined;
  if (options.remoteCacheDir !== undefined) {
    const key = `${options.remoteCacheDir}\0${options.remoteCacheBytes ?? ''}`;
    let opening = caches.get(key);
    if (opening === undefined) {
      opening = RemoteCache.open(options.remoteCacheDir, options.remoteCacheBytes);
      caches.set(key, opening);
      opening.catch(() => caches.delete(key));
    }
    cache = await opening;
  } else if (options.remoteCacheBytes !== undefined) {
    throw invalidOption('remoteCacheBytes', 'given only with remoteCacheDir', options.remoteCacheBytes);
  }
  return {
    timeoutMs,
    retrier: new Retrier(resolveRetry(options.retry), stats),
    own: new Limiter(options.maxInFlight ?? DEFAULT_IN_FLIGHT),
    shared: options.limiter ?? sharedLimiter(),
    coalesce: resolveCoalesce(options.coalesce),
    cache,
    readAhead: sharedReadAhead(),
    stats,
  };
}

/** One checked try at a range: exactly `length` bytes, or a typed error (marked transient when a retry may cure it). */
export type FetchOnce = (offset: number, length: number) => Promise<Uint8Array>;

/** The shared machinery of a remote source. `identity` keys the disk cache (never holds a secret). */
export class RemoteRanges {
  private readonly held: HeldRanges;

  constructor(
    private readonly source: { readonly name: string; readonly size: number },
    private readonly identity: string,
    private readonly version: string | undefined,
    private readonly setup: ResolvedRemote,
    private readonly fetchOnce: FetchOnce,
  ) {
    this.held = new HeldRanges(setup.readAhead);
  }

  get stats(): RemoteStats {
    return { ...this.setup.stats };
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this.source, offset, length);
    const [bytes] = await this.readRanges([[offset, length]]);
    return bytes;
  }

  /**
   * The bytes of each range, in the order given. Ranges found in the disk cache are not requested; the
   * others are coalesced into as few requests as the limits allow, sent at once (within the limits of
   * requests in flight). Every answer owns its memory (safe to transfer to a worker thread).
   */
  async readRanges(ranges: ReadonlyArray<ByteRange>): Promise<Uint8Array[]> {
    this.checkRanges(ranges);
    const out: Uint8Array[] = new Array<Uint8Array>(ranges.length);
    const missing: number[] = [];
    const { cache, stats } = this.setup;
    await Promise.all(
      ranges.map(async ([offset, length], i) => {
        if (length === 0) {
          out[i] = new Uint8Array(0);
          return;
        }
        const ahead = await this.held.take(offset, length);
        if (ahead !== undefined) {
          stats.readAheadBytes += ahead.length;
          out[i] = ahead;
          // Cached as a downloaded range is (below): a later epoch finds every range it reads again.
          if (cache !== undefined && this.version !== undefined) await cache.put(this.identity, this.version, offset, ahead);
          return;
        }
        const hit = cache !== undefined && this.version !== undefined ? await cache.get(this.identity, this.version, offset, length) : undefined;
        if (hit === undefined) {
          missing.push(i);
          return;
        }
        stats.cacheHits++;
        stats.cacheBytes += hit.length;
        out[i] = hit;
      }),
    );
    const wanted = missing.sort((a, b) => a - b).map((i) => ranges[i]);
    const groups = planRanges(wanted, this.setup.coalesce);
    await Promise.all(
      groups.map(async (group) => {
        const bytes = await this.fetch(group.offset, group.length);
        const shared = group.members.length > 1;
        for (const member of group.members) {
          const [offset, length] = wanted[member];
          const start = offset - group.offset;
          // A copy when several answers come from one request: each answer then owns its memory, so a caller may
          // move (transfer) it to a worker without detaching the others. A lone answer is the request's own buffer.
          const piece = shared ? bytes.slice(start, start + length) : bytes.subarray(start, start + length);
          out[missing[member]] = piece;
          if (cache !== undefined && this.version !== undefined) await cache.put(this.identity, this.version, offset, piece);
        }
      }),
    );
    for (const bytes of out) stats.bytesReturned += bytes.length;
    return out;
  }

  /**
   * Starts fetching ranges the caller will read soon (see ./read-ahead.ts): those not held already,
   * coalesced into as few requests as the limits allow, each request held only when the shared read-ahead
   * budget has room for it (a request whose ranges are all in the disk cache is not sent). Never fails: a
   * range whose read-ahead failed is fetched again when read. Resolves once the spans are held (before
   * their requests are answered).
   */
  async prefetch(ranges: ReadonlyArray<ByteRange>): Promise<void> {
    this.checkRanges(ranges);
    const { cache } = this.setup;
    const version = this.version;
    const wanted = ranges.filter(([offset, length]) => length > 0 && !this.held.holds(offset, length));
    // Spans are held at once, before this returns (no await before the loop): a read of one of their ranges
    // that comes right after the hint waits for the span instead of sending a request of its own.
    for (const group of planRanges(wanted, this.setup.coalesce)) {
      // Ranges of a group may overlap (the same chunk hinted twice): each counts once per read of it.
      const expected = group.members.reduce((n, m) => n + wanted[m][1], 0);
      const started = this.held.add(group.offset, group.length, expected, async () => {
        // Ranges all in the disk cache are read from it: the span is dropped, nothing is downloaded.
        if (cache !== undefined && version !== undefined) {
          const cached = await Promise.all(group.members.map((m) => cache.has(this.identity, version, wanted[m][0], wanted[m][1])));
          if (cached.every(Boolean)) return undefined;
        }
        return this.fetch(group.offset, group.length).catch(() => undefined);
      });
      // No room in the budget: the rest is read on demand (the budget frees up as held ranges are read).
      if (!started) return;
    }
  }

  /** Drops the ranges held read ahead (the source is closing). */
  close(): void {
    this.held.clear();
  }

  private checkRanges(ranges: ReadonlyArray<ByteRange>): void {
    if (!Array.isArray(ranges)) throw invalidOption('ranges', 'an array of [offset, length] pairs', ranges);
    for (const range of ranges) {
      if (!Array.isArray(range) || range.length !== 2) throw invalidOption('ranges', 'an array of [offset, length] pairs', range);
      checkRange(this.source, range[0], range[1]);
    }
  }

  /** One range with retries, each try holding a slot of this source's limiter and of the shared one. */
  private async fetch(offset: number, length: number): Promise<Uint8Array> {
    const { retrier, own, shared, stats } = this.setup;
    const bytes = await retrier.run({ file: this.source.name, range: `bytes ${offset}-${offset + length - 1}`, offset }, () =>
      own.run(() => shared.run(() => this.fetchOnce(offset, length))),
    );
    if (bytes.length !== length) {
      throw new SeekdataError('SOURCE_ERROR', `${this.source.name}: bytes ${offset}-${offset + length - 1}: got ${bytes.length} bytes`, { file: this.source.name, compressedOffset: offset });
    }
    stats.bytesDownloaded += bytes.length;
    return bytes;
  }
}
