/**
 * Read-ahead of remote sources: ranges a caller says it will read soon (`ByteSource.prefetch`, e.g. the
 * other chunks of an object that a dataset's epoch plan reaches later) are fetched before they are asked
 * for, coalesced with their neighbours into few large requests, and held here until read. Fewer, larger
 * GETs cost less per byte (request overhead on the client, the store and the network), and a range read
 * later is already on its way or at hand.
 *
 * Bounds: all sources of the process share one budget of held bytes (`ReadAheadBudget`, default 64 MiB;
 * `configureRemoteRequests({ readAheadBytes })`); a hint that does not fit is dropped (the range is then
 * fetched when read, as without read-ahead). A held span is released once its ranges were read (each byte
 * counted once per read), when its source closes, or when its request failed. A failed read-ahead is never
 * an error by itself: the read that wanted those bytes fetches them again, with its own retries and its own
 * typed error. Held bytes passed the same checks as any answer (ETag, Content-Range, length).
 */
import { invalidOption } from '../errors.js';

/** Bytes held by read-ahead across sources, and the most allowed. */
export class ReadAheadBudget {
  private used = 0;

  constructor(readonly max: number) {
    if (!Number.isSafeInteger(max) || max < 0) throw invalidOption('readAheadBytes', 'a non-negative integer', max);
  }

  /** Bytes held (or on their way) now. */
  get held(): number {
    return this.used;
  }

  /** Reserves `bytes` when they fit; false (nothing reserved) when they do not. */
  take(bytes: number): boolean {
    if (this.used + bytes > this.max) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}

/** Default bytes all remote sources of a process may hold read ahead. */
export const DEFAULT_READ_AHEAD_BYTES = 64 << 20;

let shared: ReadAheadBudget | undefined;

/** The budget every remote source shares (see `configureRemoteRequests`). */
export function sharedReadAhead(): ReadAheadBudget {
  shared ??= new ReadAheadBudget(DEFAULT_READ_AHEAD_BYTES);
  return shared;
}

/** Sets the process-wide read-ahead budget (sources opened afterwards use it). */
export function configureReadAhead(bytes: number): void {
  shared = new ReadAheadBudget(bytes);
}

/** One span fetched ahead: its bytes (undefined when the request failed) and the bytes of it still to read. */
interface HeldSpan {
  offset: number;
  length: number;
  bytes: Promise<Uint8Array | undefined>;
  left: number;
  released: boolean;
}

/** The spans one source holds. Few at a time (the chunks of one object a plan reaches soon): a list. */
export class HeldRanges {
  private spans: HeldSpan[] = [];

  constructor(private readonly budget: ReadAheadBudget) {}

  /** Whether [offset, offset + length) lies inside a held span. */
  holds(offset: number, length: number): boolean {
    return this.find(offset, length) !== undefined;
  }

  /**
   * Holds a span and starts fetching it (`fetch` settles with its bytes, or undefined when the fetch
   * failed); the ranges to be read from it total `expected` bytes. False, and nothing fetched, when the
   * budget has no room.
   */
  add(offset: number, length: number, expected: number, fetch: () => Promise<Uint8Array | undefined>): boolean {
    if (!this.budget.take(length)) return false;
    const bytes = fetch();
    const span: HeldSpan = { offset, length, bytes, left: expected, released: false };
    this.spans.push(span);
    void bytes.then((got) => {
      if (got === undefined) this.release(span);
    });
    return true;
  }

  /**
   * The bytes of [offset, offset + length) from a held span, in memory of their own (safe to transfer to
   * a worker); undefined when no span holds them or its request failed (the caller fetches them itself).
   */
  async take(offset: number, length: number): Promise<Uint8Array | undefined> {
    const span = this.find(offset, length);
    if (span === undefined) return undefined;
    // Counted before the wait: a span is released after its last expected read, whatever the order.
    span.left -= length;
    const bytes = await span.bytes;
    if (span.left <= 0) this.release(span);
    if (bytes === undefined) return undefined;
    const start = offset - span.offset;
    // A copy: the span's buffer is shared by its ranges, each answer must own its memory.
    return bytes.slice(start, start + length);
  }

  /** Drops every span (the source closed). */
  clear(): void {
    for (const span of [...this.spans]) this.release(span);
  }

  /** Bytes held now by this source. */
  get bytes(): number {
    return this.spans.reduce((n, s) => n + s.length, 0);
  }

  private find(offset: number, length: number): HeldSpan | undefined {
    return this.spans.find((s) => !s.released && offset >= s.offset && offset + length <= s.offset + s.length);
  }

  private release(span: HeldSpan): void {
    if (span.released) return;
    span.released = true;
    this.spans = this.spans.filter((s) => s !== span);
    this.budget.give(span.length);
  }
}
