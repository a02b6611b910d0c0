/**
 * The check of a loaded index's stored tails against the data (record-tails.ts has what a tail is): a
 * chunk's tail is used only once the bytes after the chunk's end have been seen to agree with it. Those
 * bytes are the start of the next chunk, and they are had as cheaply as possible: from a job that decodes
 * the next chunk whole for its own rows anyway (`headComing`), else from a prefix decode or a read
 * (`verify`).
 */
import type { SeekdataError } from '../errors.js';
import type { SeekableReader } from '../readers/reader.js';
import type { RecordKind } from './records/analyze.js';
import { tailMatches, type RecordTails } from './record-tails.js';

export class TailChecks {
  /** Per chunk: 1 once its tail is known to match the data (or needs no check). */
  private readonly checked: Uint8Array;
  /** Per chunk c: the check of chunk c - 1's tail with c's first bytes, while a job decoding c brings them. */
  private readonly heads = new Map<number, Promise<void>>();
  /**
   * Per chunk c: 1 unless the index says a record starts right at c's start (the record `atStart(c)`) and the
   * byte before it, the previous chunk's last, has not yet been seen to end a line.
   */
  private readonly starts: Uint8Array;

  constructor(
    private readonly reader: SeekableReader,
    private readonly kind: RecordKind,
    private readonly tails: RecordTails,
    /** Bytes from the end of chunk c to the start of the record after its last one (0: no record of c runs past its end). */
    private readonly span: (chunk: number) => number,
    private readonly corrupt: (what: string, record?: number) => SeekdataError,
    /** True when the tails were taken from the data in this process: nothing to check. */
    verified: boolean,
    /** The record the index says starts right at chunk c's start (c > 0), else undefined. */
    private readonly atStart: (chunk: number) => number | undefined,
  ) {
    this.checked = new Uint8Array(tails.stored.length);
    this.starts = new Uint8Array(tails.stored.length);
    for (let c = 0; c < this.checked.length; c++) {
      this.checked[c] = verified || span(c) === 0 ? 1 : 0;
      this.starts[c] = verified || c === 0 || atStart(c) === undefined ? 1 : 0;
    }
  }

  /**
   * Checks, once, that a record the index says starts right at chunk c's start follows a line end: the
   * previous chunk's last byte, read verified (its chunk decoded, unless cached). Nothing else shows it: a
   * crafted index could otherwise cut a line in two at a chunk boundary (an empty tail for chunk c - 1 and a
   * record at c's start). Rejects with CORRUPT_INDEX.
   */
  async verifyStart(chunk: number): Promise<void> {
    if (this.starts[chunk] === 1) return;
    const start = this.reader.layout.start[chunk];
    const before = await this.reader.read(start - 1, 1);
    if (before[0] !== 0x0a) {
      const record = this.atStart(chunk);
      throw this.corrupt(`record ${record} does not start at a line start (offset ${start})`, record);
    }
    this.starts[chunk] = 1;
  }

  /** Whether chunk c's tail is stored but not yet checked against the data. */
  pending(chunk: number): boolean {
    return this.checked[chunk] === 0 && this.tails.stored[chunk] === 1;
  }

  /** Whether chunk c's tail may be used (checked, or nothing to check). */
  usable(chunk: number): boolean {
    return this.checked[chunk] === 1;
  }

  /**
   * Checks `after`, verified bytes from chunk c's end to the next record's start: the stored tail must be
   * their start, and only blank lines may follow it (the tail ends at its record's terminator).
   */
  check(chunk: number, after: Uint8Array, record?: number): void {
    if (!this.matches(chunk, after)) throw this.corrupt(`the stored tail of chunk ${chunk} differs from the data`, record);
    this.checked[chunk] = 1;
  }

  private matches(chunk: number, after: Uint8Array): boolean {
    return tailMatches(this.kind, this.tails.bytes.subarray(this.tails.offsets[chunk], this.tails.offsets[chunk + 1]), after);
  }

  /** Compares chunk c's stored tail with the data, once (see RecordIndex.verifyTail). */
  async verify(chunk: number): Promise<void> {
    if (!this.pending(chunk)) return;
    // The next chunk's rows job may be bringing the bytes already (headComing): no decode of our own then.
    const coming = this.heads.get(chunk + 1);
    if (coming !== undefined) {
      await coming;
      if (!this.pending(chunk)) return;
    }
    const start = this.reader.layout.start[chunk + 1];
    const span = this.span(chunk);
    // Cheap first: the next chunk's prefix (xz, plain), or its bytes from the cache. A prefix decode has
    // not passed its unit's check, and that is enough here: an honest stored tail was cut from verified
    // bytes when the index was built, so agreement means the tail is those bytes. Disagreement is a
    // damaged or crafted index (CORRUPT_INDEX) or damaged data: a verified read tells which, below.
    const peeked = await this.reader.peek(start, span);
    if (!peeked.verified && this.matches(chunk, peeked.bytes)) {
      this.checked[chunk] = 1;
      return;
    }
    this.check(chunk, peeked.verified ? peeked.bytes : await this.reader.read(start, span));
  }

  /**
   * How many bytes of chunk c's start would check chunk c - 1's tail: its span while that tail is
   * pending, else 0 (also when the span runs past chunk c: the next record starts after it).
   */
  headSpan(chunk: number): number {
    if (chunk <= 0 || chunk >= this.checked.length || !this.pending(chunk - 1)) return 0;
    const span = this.span(chunk - 1);
    const layout = this.reader.layout;
    return span <= layout.start[chunk + 1] - layout.start[chunk] ? span : 0;
  }

  /**
   * Chunk c is being decoded whole by a job that sends back its first `headSpan(c)` bytes (`head`; undefined
   * when the job failed). They passed their unit's check with the rest of the chunk (under `verify: 'lazy'`
   * a piece of a big unit comes before it, as a `read` there does), so they check chunk c - 1's tail as
   * `verify` would, and a `verify(c - 1)` called meanwhile waits for them instead of
   * decoding chunk c once more. Resolves once they are compared; rejects with CORRUPT_INDEX when they differ.
   */
  headComing(chunk: number, head: Promise<Uint8Array | undefined>): Promise<void> {
    const checked = head.then((bytes) => {
      // Bytes of another length (a job that did not send the span asked for) decide nothing: `verify` does.
      if (bytes !== undefined && this.pending(chunk - 1) && bytes.length === this.span(chunk - 1)) this.check(chunk - 1, bytes);
    });
    this.heads.set(chunk, checked);
    const settled = (): void => {
      if (this.heads.get(chunk) === checked) this.heads.delete(chunk);
    };
    checked.then(settled, settled);
    return checked;
  }
}
