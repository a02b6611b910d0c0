/**
 * What the indexing pass builds (`BuiltRecords`: record offsets, times, statistics, tails) and the pieces
 * RecordBuilder (builder.ts) assembles it with: typed arrays joined once at the end (`Parts`), the running
 * scan of the times for the time index (`scanTimes`), and the chunks' tails packed into one array
 * (`packTails`, at most `MAX_TAIL_BYTES` each).
 */

export interface BuiltRecords {
  count: number;
  /** For each chunk, the number of the first record starting in it or later (length chunks + 1). */
  firstRecord: Float64Array;
  /**
   * Each record's start, relative to the start of the chunk it starts in: joined from `offsetParts` when
   * first read (the index file is written from the parts, and the join runs while it is).
   */
  readonly offsets: Uint32Array;
  /** The parts the offsets arrived in, in record order. */
  offsetParts: readonly Uint32Array[];
  /** Each record's time (NaN: none), joined from `timeParts` when first read; undefined without a time index. */
  readonly times: Float64Array | undefined;
  timeParts: readonly Float64Array[] | undefined;
  /**
   * Joins the offsets and times (once: reading them after is free), letting the event loop run between
   * slices, so that the index file is written meanwhile from the parts.
   */
  join: () => Promise<void>;
  /**
   * What `TimeIndex.build` would find scanning `times` (valid: how many are no NaN; sorted: whether those
   * are in non-decreasing order), gathered chunk by chunk as they arrived, so the pass's serial end need
   * not scan them again.
   */
  timeScan: TimeScan | undefined;
  badCount: number;
  bad: Array<{ record: number; text: string }>;
  stats: Float64Array | undefined;
  statNames: string[] | undefined;
  /** Per statistics column: its categories and counts, or null (numeric, or too many distinct values). */
  vocab: Array<Array<[string, number]> | null> | undefined;
  /**
   * Per chunk, the bytes after the chunk's end that complete the last record starting in it (its
   * "tail"), so any record can be parsed from its start chunk alone. `tailOffsets[c]..[c + 1]` indexes
   * `tails`; `tailStored[c]` is 0 when the tail was longer than the limit and was not kept.
   */
  tails: Uint8Array;
  tailOffsets: Float64Array;
  tailStored: Uint8Array;
}

/** Valid timestamps and whether they are in order (time-index.ts). */
export interface TimeScan {
  valid: number;
  sorted: boolean;
}

/**
 * Adds `times` (the next ones in record order) to a running scan: the same test as `TimeIndex.build`'s,
 * a valid time lower than the valid one before it makes the times unsorted. Returns the last valid time.
 */
export function scanTimes(scan: TimeScan, times: Float64Array, last: number): number {
  let valid = scan.valid;
  let sorted = scan.sorted;
  // A local of its own, not the parameter: V8 keeps a loop variable that starts as a parameter boxed, and
  // allocated a heap number per time (17.7 MB per 100 MB of CSV, and twice the time).
  let previous = +last;
  for (let i = 0; i < times.length; i++) {
    const t = times[i];
    if (t !== t) continue;
    valid++;
    if (t < previous) sorted = false;
    previous = t;
  }
  scan.valid = valid;
  scan.sorted = sorted;
  return previous;
}

/** Tails longer than this are not stored (records that long are read through the reader instead). */
export const MAX_TAIL_BYTES = 64 << 10;

/**
 * Typed arrays kept as the parts they arrived in (each chunk's record starts as its worker sent them, moved,
 * not copied) and joined once at the end: no per-record push, no regrowing copies.
 */
export class Parts<T extends Uint32Array | Float64Array> {
  private readonly parts: T[] = [];
  private length = 0;
  private joined: T | undefined;
  /** A join has begun (a sliced one may still be running): no part may be added. */
  private sealed = false;
  constructor(private readonly make: (n: number) => T) {}
  add(part: T): void {
    if (part.length === 0) return;
    if (this.sealed) throw new Error('internal: a part added after the join began');
    this.parts.push(part);
    this.length += part.length;
  }
  /** The parts so far, in order (none empty). */
  get pieces(): readonly T[] {
    return this.parts;
  }
  /** The parts joined into one array: joined once, on the first call. */
  done(): T {
    if (this.joined !== undefined) return this.joined;
    this.sealed = true;
    const out = this.make(this.length);
    let at = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.length;
    }
    this.joined = out;
    return out;
  }

  /**
   * The same join, with the event loop run after every JOIN_SLICE bytes copied, so that I/O goes on
   * meanwhile (the index file's writes and fsync, whose next steps this thread starts). On this machine
   * class the join costs ~2.5 ms per MB, most of it first writes to new pages.
   */
  async doneSliced(): Promise<T> {
    if (this.joined !== undefined) return this.joined;
    this.sealed = true;
    const out = this.make(this.length);
    let at = 0;
    let copied = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.length;
      copied += part.byteLength;
      if (copied >= JOIN_SLICE) {
        copied = 0;
        await new Promise((resolve) => setImmediate(resolve));
        if (this.joined !== undefined) return this.joined;
      }
    }
    this.joined = out;
    return out;
  }
}

/** Bytes a sliced join copies between two turns of the event loop (~1-2 ms). */
const JOIN_SLICE = 512 << 10;

/**
 * The tails of `chunks` chunks (a chunk without an entry has an empty tail; null: longer than the limit,
 * not stored) as one array and its offsets: `tailOffsets[c]..[c + 1]` indexes `tails`.
 */
export function packTails(stored: ReadonlyMap<number, Uint8Array | null>, chunks: number): Pick<BuiltRecords, 'tails' | 'tailOffsets' | 'tailStored'> {
  const tailOffsets = new Float64Array(chunks + 1);
  const tailStored = new Uint8Array(chunks);
  let tailBytes = 0;
  for (let c = 0; c < chunks; c++) {
    const tail = stored.get(c);
    tailStored[c] = tail === null ? 0 : 1;
    tailOffsets[c] = tailBytes;
    tailBytes += tail?.length ?? 0;
  }
  tailOffsets[chunks] = tailBytes;
  const tails = new Uint8Array(tailBytes);
  for (const [c, tail] of stored) if (tail !== null) tails.set(tail, tailOffsets[c]);
  return { tails, tailOffsets, tailStored };
}
