/**
 * The byte-source contract: positional reads of a fixed-size byte sequence. Every reader works the same
 * over a local file, an in-memory buffer or an HTTP(S) URL served with Range requests.
 */
import { SeekdataError } from '../errors.js';

export interface ByteSource {
  /**
   * What the source is called in messages and stored in index files: a path, a redacted URL (no
   * credentials, no query string: see `redactUrl`), or `<memory>`. Never holds a secret.
   */
  readonly name: string;
  /** Total size in bytes. */
  readonly size: number;
  /**
   * A version stamp of the content when the source has one (file mtime in ms, HTTP ETag or
   * Last-Modified), used in index fingerprints. Undefined for in-memory sources.
   */
  readonly version: string | undefined;
  /**
   * Exactly `length` bytes starting at `offset`. Rejects with `OUT_OF_RANGE` when the range does not lie
   * inside the source, and with `IO_ERROR` / `HTTP_ERROR` when the underlying read returns another length.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * The bytes of several ranges needed together (the chunks of one batch), in the order given. Remote
   * sources fetch them with as few requests as their limits allow (nearby ranges coalesced into one GET);
   * sources without it are read range by range (see `readRanges`).
   */
  readRanges?(ranges: ReadonlyArray<ByteRange>): Promise<Uint8Array[]>;
  /**
   * A hint: these ranges will be read soon (the chunks an epoch's plan reaches next). Remote sources fetch
   * them ahead, coalesced into few requests, and hold them until read (within a byte budget, see
   * `configureRemoteRequests`); other sources need not have it. Resolves once the requests are sent; never
   * fails for a range that cannot be fetched (its read fails instead).
   */
  prefetch?(ranges: ReadonlyArray<ByteRange>): Promise<void>;
  /**
   * True when every `read` returns a new array over a buffer of its own that nothing else holds: the caller
   * owns it, and a reader moves it to the worker that decodes it instead of posting a copy (which leaves it
   * empty here). FileSource's reads are; a source that caches or shares its arrays must not say so.
   */
  readonly ownsReads?: boolean;
  /**
   * Fills `target` with the `target.length` bytes at `offset` (the same bytes and the same errors as
   * `read`), into memory the caller reuses. Optional: callers fall back to `read` and a copy. A wrapper
   * that replaces `read` (an object made with `Object.create(source)`) must replace this too.
   */
  readInto?(offset: number, target: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** A byte range as `[offset, length]`. */
export type ByteRange = readonly [offset: number, length: number];

/** Several ranges of any source: its own `readRanges` when it has one, else one `read` per range, all at once. */
export function readRanges(source: ByteSource, ranges: ReadonlyArray<ByteRange>): Promise<Uint8Array[]> {
  if (source.readRanges !== undefined) return source.readRanges(ranges);
  return Promise.all(ranges.map(([offset, length]) => source.read(offset, length)));
}

export function checkRange(source: { name: string; size: number }, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new SeekdataError('OUT_OF_RANGE', `${source.name}: invalid range offset=${offset} length=${length}`, {
      file: source.name,
      offset,
    });
  }
  if (offset + length > source.size) {
    throw new SeekdataError(
      'OUT_OF_RANGE',
      `${source.name}: range ${offset}..${offset + length} is past the end of the source (${source.size} bytes)`,
      { file: source.name, offset },
    );
  }
}

/** A source over bytes already in memory. Reads return views (no copy): callers must not mutate them. */
export class MemorySource implements ByteSource {
  readonly size: number;
  readonly version = undefined;
  private closed = false;

  constructor(
    private readonly bytes: Uint8Array,
    readonly name = '<memory>',
  ) {
    this.size = bytes.length;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (this.closed) throw new SeekdataError('CLOSED', `${this.name}: source is closed`, { file: this.name });
    checkRange(this, offset, length);
    return this.bytes.subarray(offset, offset + length);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
