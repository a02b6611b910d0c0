/**
 * Record and chunk access across the files of a collection, with collection-wide numbers: file k's record
 * j is `recordBase[k] + j` and its chunk c is `chunkBase[k] + c`. Each call is passed to the file that holds
 * the record or chunk, with its own numbers, and the answer's record numbers are shifted back; reads of many
 * records are grouped by file (each file's chunks decoded once, as for one file).
 */
import { SeekdataError } from '../errors.js';
import type { ChunkWork, DecodedChunk } from '../readers/chunks.js';
import type { JobRunner } from '../workers/pool.js';
import type { CollectionMember } from './collection-member.js';
import type { IndexedFile } from './indexed-file.js';
import type { ChunkAccess, ChunkSpans, RecordAccess } from './indexed.js';
import type { RecordKind } from './records/analyze.js';
import type { RecordEnds } from './records/record-ends.js';

/** Files whose records `getMany` reads at once. */
const FILES_AT_ONCE = 4;

/** The largest k with bases[k] <= value, among the first `n` (bases ascending, bases[0] = 0). */
function lastAtOrBelow(bases: Float64Array, n: number, value: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (bases[mid] <= value) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export class CollectionLayout {
  /** Per file: the collection number of its record 0 (length files + 1: the last is the record count). */
  readonly recordBase: Float64Array;
  /** Per file: the collection number of its chunk 0 (length files + 1). */
  readonly chunkBase: Float64Array;
  /** Per collection chunk: its first record (length chunks + 1). */
  readonly firstRecord: Float64Array;

  constructor(
    readonly files: readonly CollectionMember[],
    readonly name: string,
  ) {
    const n = files.length;
    this.recordBase = new Float64Array(n + 1);
    this.chunkBase = new Float64Array(n + 1);
    for (let k = 0; k < n; k++) {
      this.recordBase[k + 1] = this.recordBase[k] + files[k].facts.records;
      this.chunkBase[k + 1] = this.chunkBase[k] + (files[k].facts.firstRecord.length - 1);
    }
    const chunks = this.chunkBase[n];
    this.firstRecord = new Float64Array(chunks + 1);
    for (let k = 0; k < n; k++) {
      const own = files[k].facts.firstRecord;
      const base = this.recordBase[k];
      const at = this.chunkBase[k];
      for (let c = 0; c < own.length - 1; c++) this.firstRecord[at + c] = base + own[c];
    }
    this.firstRecord[chunks] = this.recordBase[n];
  }

  get count(): number {
    return this.recordBase[this.files.length];
  }

  get chunks(): number {
    return this.chunkBase[this.files.length];
  }

  /** The file holding collection record `i` (which must exist). */
  fileOfRecord(i: number): number {
    // Files without records share their base with the next file: the last such k is the one holding i.
    return lastAtOrBelow(this.recordBase, this.files.length, i);
  }

  fileOfChunk(c: number): number {
    return lastAtOrBelow(this.chunkBase, this.files.length, c);
  }

  /** File k, open (synchronous lookups: NOT_OPENED when a lazily opened collection has not opened it yet). */
  need(k: number): IndexedFile {
    return this.files[k].need(this.name);
  }

  /** File k, opened now when it is not open yet. */
  open(k: number): Promise<IndexedFile> {
    return this.files[k].open();
  }
}

export class CollectionRecords implements RecordAccess {
  readonly count: number;
  readonly kind: RecordKind;
  readonly firstRecord: Float64Array;

  constructor(
    private readonly layout: CollectionLayout,
    private readonly name: string,
  ) {
    this.count = layout.count;
    this.kind = layout.files[0].facts.kind;
    this.firstRecord = layout.firstRecord;
  }

  private check(i: number): void {
    if (!Number.isSafeInteger(i) || i < 0 || i >= this.count) {
      throw new SeekdataError('OUT_OF_RANGE', `${this.name}: record ${i} does not exist (${this.count} records)`, { file: this.name, record: i });
    }
  }

  private checkChunk(c: number): void {
    if (!Number.isSafeInteger(c) || c < 0 || c >= this.layout.chunks) {
      throw new SeekdataError('OUT_OF_RANGE', `${this.name}: chunk ${c} does not exist (${this.layout.chunks} chunks)`, { file: this.name });
    }
  }

  /** The file of record i and i's number in it. */
  private place(i: number): { k: number; local: number } {
    this.check(i);
    const k = this.layout.fileOfRecord(i);
    return { k, local: i - this.layout.recordBase[k] };
  }

  private home(i: number): { file: IndexedFile; k: number; local: number } {
    const { k, local } = this.place(i);
    return { file: this.layout.need(k), k, local };
  }

  /** The file of record i, opened when needed, and i's number in it. */
  private async openHome(i: number): Promise<{ file: IndexedFile; k: number; local: number }> {
    const { k, local } = this.place(i);
    return { file: await this.layout.open(k), k, local };
  }

  private chunkHome(c: number): { file: IndexedFile; k: number; local: number } {
    this.checkChunk(c);
    const k = this.layout.fileOfChunk(c);
    return { file: this.layout.need(k), k, local: c - this.layout.chunkBase[k] };
  }

  recordsOf(chunk: number): { first: number; end: number } {
    return { first: this.firstRecord[chunk], end: this.firstRecord[chunk + 1] };
  }

  chunkOf(i: number): number {
    const { k, local } = this.place(i);
    // The chunk whose records run over `local` (chunks where no record starts are passed over): known from the facts.
    const own = this.layout.files[k].facts.firstRecord;
    return this.layout.chunkBase[k] + lastAtOrBelow(own, own.length - 1, local);
  }

  span(i: number): { start: number; end: number } {
    const { file, local } = this.home(i);
    return file.records.span(local);
  }

  content(bytes: Uint8Array): Uint8Array {
    // Every file has the collection's record kind: any open one strips terminators as all would.
    const open = this.layout.files.find((m) => m.file !== undefined)?.file ?? this.layout.need(0);
    return open.records.content(bytes);
  }

  ends(bytes: Uint8Array): RecordEnds {
    // Every file has the collection's record kind and quoting (open-collection.ts checks them).
    const open = this.layout.files.find((m) => m.file !== undefined)?.file ?? this.layout.need(0);
    return open.records.ends(bytes);
  }

  async get(i: number): Promise<Uint8Array> {
    const { file, local } = await this.openHome(i);
    return file.records.get(local);
  }

  async text(i: number): Promise<string> {
    const { file, local } = await this.openHome(i);
    return file.records.text(local);
  }

  /**
   * Records by number in the order asked: each file's asked for at once (its chunks decoded once), a few
   * files at a time (FILES_AT_ONCE: remote files wait for round trips, not for the cores).
   */
  async getMany(indices: ArrayLike<number>, concurrency?: number): Promise<Uint8Array[]> {
    const out = new Array<Uint8Array>(indices.length);
    const byFile = new Map<number, number[]>();
    for (let p = 0; p < indices.length; p++) {
      this.check(indices[p]);
      const k = this.layout.fileOfRecord(indices[p]);
      const list = byFile.get(k);
      if (list === undefined) byFile.set(k, [p]);
      else list.push(p);
    }
    const groups = [...byFile.entries()].sort((a, b) => a[0] - b[0]);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < groups.length) {
        const [k, positions] = groups[next++];
        const base = this.layout.recordBase[k];
        const file = await this.layout.open(k);
        const got = await file.records.getMany(
          positions.map((p) => indices[p] - base),
          concurrency,
        );
        positions.forEach((p, j) => (out[p] = got[j]));
      }
    };
    await Promise.all(Array.from({ length: Math.min(FILES_AT_ONCE, groups.length) }, worker));
    return out;
  }

  async slice(from: number, to: number): Promise<Uint8Array[]> {
    const end = Math.min(to, this.count);
    const out: Uint8Array[] = [];
    let at = from;
    while (at < end) {
      const { file, k, local } = await this.openHome(at);
      const stop = Math.min(end, this.layout.recordBase[k + 1]);
      out.push(...(await file.records.slice(local, local + stop - at)));
      at = stop;
    }
    return out;
  }

  async verifyTail(chunk: number): Promise<void> {
    this.checkChunk(chunk);
    const k = this.layout.fileOfChunk(chunk);
    const file = await this.layout.open(k);
    return file.records.verifyTail(chunk - this.layout.chunkBase[k]);
  }

  // Chunk c - 1 must be in c's file for c's bytes to check its tail: a file's own chunk 0 has no such chunk
  // (file.records answers 0 for it, and the head of a chunk asked for 0 bytes is never sent).
  headSpan(chunk: number): number {
    const { file, local } = this.chunkHome(chunk);
    return file.records.headSpan(local);
  }

  headComing(chunk: number, head: Promise<Uint8Array | undefined>): Promise<void> {
    const { file, local } = this.chunkHome(chunk);
    return file.records.headComing(local, head);
  }

  chunkSpans(chunk: number): ChunkSpans {
    const { file, k, local } = this.chunkHome(chunk);
    const own = file.records.chunkSpans(local);
    const base = this.layout.recordBase[k];
    if (base === 0) return own;
    const records = new Float64Array(own.records.length);
    for (let j = 0; j < records.length; j++) records[j] = own.records[j] + base;
    return { ...own, records, long: own.long.map((r) => r + base) };
  }
}

/** Chunk decoding across the files: collection chunk c is decoded by its file. */
export class CollectionChunks implements ChunkAccess {
  constructor(
    private readonly layout: CollectionLayout,
    readonly name: string,
    readonly parallelism: number,
    readonly runner: JobRunner,
  ) {}

  decodeWith(chunk: number, work: ChunkWork, signal?: AbortSignal): Promise<DecodedChunk> {
    if (!Number.isSafeInteger(chunk) || chunk < 0 || chunk >= this.layout.chunks) {
      return Promise.reject(new SeekdataError('OUT_OF_RANGE', `${this.name}: chunk ${chunk} does not exist (${this.layout.chunks} chunks)`, { file: this.name }));
    }
    const k = this.layout.fileOfChunk(chunk);
    return this.layout.open(k).then((file) => file.reader.decodeWith(chunk - this.layout.chunkBase[k], work, signal));
  }
}
