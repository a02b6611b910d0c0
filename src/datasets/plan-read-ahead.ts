/**
 * Read-ahead over an epoch's chunk plan, for remote files. A chunked (or file-order) epoch knows the
 * order of all its chunks from the start; decoding runs only `readAhead` chunks ahead of the window, but
 * the compressed bytes can be fetched much earlier and in fewer requests: when a chunk's load starts, the
 * other chunks of the same file that the plan reaches within a horizon are hinted to its reader
 * (`SeekableReader.prefetchChunks`), whose remote source fetches them together, coalesced with the chunk
 * itself into large GETs, and holds them until they are decoded (src/sources/read-ahead.ts).
 *
 * The horizon is in compressed bytes (half the process's read-ahead budget: 32 MiB by default), so what
 * is held is what the plan uses soon, whatever the chunk size: a chunk hinted at slot s is decoded before
 * the plan has gone that many bytes further. Chunks of local files are never hinted (a plan without a
 * remote file is looked at once per epoch, then left alone).
 */
import { SeekdataError } from '../errors.js';
import type { Indexed } from '../index/indexed.js';
import type { SeekableReader } from '../readers/reader.js';
import { sharedReadAhead } from '../sources/read-ahead.js';
import type { Segment } from './shard.js';

interface SlotHome {
  reader: SeekableReader;
  /** The chunk in its file's numbering. */
  chunk: number;
  /** Compressed bytes of the chunk (about: its unit's span). */
  bytes: number;
}

export class PlanReadAhead {
  private homes: Array<SlotHome | undefined> | undefined;
  /** Per slot: the next slot of the same file in the plan, or -1. */
  private nextOfFile: Int32Array | undefined;
  /** Per slot: the last slot within the horizon. */
  private reach: Int32Array | undefined;
  private readonly hinted: Uint8Array;
  /** False once the plan was found to hold no remote file (nothing to hint). */
  private remote: boolean;

  constructor(
    private readonly file: Indexed,
    private readonly segments: readonly Segment[],
    /** Horizon in compressed bytes. Default: half the shared read-ahead budget. */
    private readonly horizonBytes = Math.floor(sharedReadAhead().max / 2),
  ) {
    this.hinted = new Uint8Array(segments.length);
    this.remote = segments.length > 0 && horizonBytes > 0;
  }

  /** Slot `slot` is being loaded: hints it and the chunks of its file the plan reaches within the horizon. */
  loading(slot: number): void {
    if (!this.remote || slot < 0 || slot >= this.segments.length || this.hinted[slot] === 1) return;
    let planned: ReturnType<PlanReadAhead['prepare']>;
    try {
      planned = this.prepare();
    } catch (error) {
      // A collection opened lazily from its manifest has files not open yet, whose readers (and chunk
      // spans) are not known: this epoch goes without read-ahead (each chunk is still fetched when it
      // loads, which opens its file); the next epoch's plan finds the files open.
      if (error instanceof SeekdataError && error.code === 'NOT_OPENED') {
        this.remote = false;
        return;
      }
      throw error;
    }
    const { homes, nextOfFile, reach } = planned;
    const home = homes[slot];
    if (home === undefined) return;
    const chunks: number[] = [];
    for (let s = slot; s !== -1 && s <= reach[slot]; s = nextOfFile[s]) {
      if (this.hinted[s] === 1) continue;
      this.hinted[s] = 1;
      const h = homes[s];
      if (h !== undefined) chunks.push(h.chunk);
    }
    if (chunks.length > 1) home.reader.prefetchChunks(chunks);
  }

  /** Per slot: its file and chunk there, the next slot of the same file, and the horizon (computed once). */
  private prepare(): { homes: Array<SlotHome | undefined>; nextOfFile: Int32Array; reach: Int32Array } {
    if (this.homes !== undefined && this.nextOfFile !== undefined && this.reach !== undefined) return { homes: this.homes, nextOfFile: this.nextOfFile, reach: this.reach };
    const n = this.segments.length;
    const homes = new Array<SlotHome | undefined>(n);
    const fileIds = new Map<SeekableReader, number>();
    const fileOf = new Int32Array(n).fill(-1);
    const sizes = new Float64Array(n);
    for (let s = 0; s < n; s++) {
      const record = this.file.records.recordsOf(this.segments[s].chunk).first;
      const where = this.file.locate(record);
      const reader = where.file.reader;
      const chunk = where.file.records.chunkOf(record - where.first);
      // Local files (no remote source) take part in the horizon's bytes but are never hinted.
      const bytes = reader.chunkBytes(chunk);
      homes[s] = reader.remoteStats === undefined ? undefined : { reader, chunk, bytes };
      sizes[s] = bytes;
      let id = fileIds.get(reader);
      if (id === undefined) {
        id = fileIds.size;
        fileIds.set(reader, id);
      }
      fileOf[s] = id;
    }
    if (!homes.some((h) => h !== undefined)) this.remote = false;
    const nextOfFile = new Int32Array(n).fill(-1);
    const last = new Int32Array(fileIds.size).fill(-1);
    for (let s = n - 1; s >= 0; s--) {
      nextOfFile[s] = last[fileOf[s]];
      last[fileOf[s]] = s;
    }
    // Two pointers: reach[s] is the last slot t with bytes(s+1..t) <= horizon.
    const reach = new Int32Array(n);
    let t = 0;
    let sum = 0;
    for (let s = 0; s < n; s++) {
      if (t < s) {
        t = s;
        sum = 0;
      }
      while (t + 1 < n && sum + sizes[t + 1] <= this.horizonBytes) {
        t++;
        sum += sizes[t];
      }
      reach[s] = t;
      if (t > s) sum -= sizes[s + 1];
    }
    this.homes = homes;
    this.nextOfFile = nextOfFile;
    this.reach = reach;
    return { homes, nextOfFile, reach };
  }
}
