/**
 * SeekableReader: random access to the decompressed bytes of a bzip2, xz or plain file through its chunk
 * map, with an LRU cache of decoded chunks bounded in bytes, one shared decode per chunk for concurrent
 * reads, and a parallel in-order stream for sequential reads. By default (`verify: 'full'`) every byte it
 * hands out has passed its unit's integrity check: the cache holds only checked chunks. What it is built
 * from: reader-init.ts; what it reports: reader-info.ts; the ranges it checks and prefetches: reader-ranges.ts.
 */
import { SeekdataError } from '../errors.js';
import type { RemoteStats } from '../sources/retry.js';
import type { ByteSource } from '../sources/source.js';
import { inlineRunner, type JobRunner } from '../workers/pool.js';
import { chunkAt, chunkLayout, ChunkDecoder, INLINE_DECODE_BYTES, isBigUnit, type ChunkLayout, type ChunkWork, type DecodedChunk } from './chunks.js';
import type { VerifyMode } from './pieces.js';
import { streams } from './format.js';
import { PrefixDecoder } from './prefix.js';
import { PrefixReads } from './prefix-reads.js';
import { formatOf, type Format } from './formats.js';
import { checkKnownSize } from './limit.js';
import { ByteLru } from './lru.js';
import { readerInfo, type IndexStatus, type ReaderInfo, type ReaderStats } from './reader-info.js';
import type { ReaderInit } from './reader-init.js';
import { checkRange, prefetchRanges, unitRange } from './reader-ranges.js';
import { scanKnown, scanLookahead } from './scan.js';
import { largestUnit, type PieceCrcTable, type UnitTable } from './units.js';

export type { IndexStatus, ReaderInfo, ReaderStats } from './reader-info.js';
export type { ReaderInit } from './reader-init.js';

export class SeekableReader {
  readonly name: string;
  readonly format: Format;
  /** Decompressed size in bytes. */
  readonly size: number;
  readonly compressedSize: number;
  readonly units: UnitTable;
  readonly layout: ChunkLayout;
  readonly parallelism: number;
  readonly indexPath: string | undefined;
  readonly indexStatus: IndexStatus;
  /** For files opened with `allowDamage`: the error met where the intact part ends. */
  readonly damage: SeekdataError | undefined;
  /** True when opening decoded the whole file (bzip2 without a fresh index): `onScanChunk` saw every chunk. */
  readonly scannedOnOpen: boolean;
  /**
   * Decompressed bytes from the start that `onScanChunk` saw on open: all of them when `scannedOnOpen`;
   * fewer when the scan met chunks it could not hand out yet (spans of a gzip member, before the member's
   * CRC-32): the rest is for the caller to read (`stream(scannedBytes)`), each unit verified on its own.
   */
  readonly scannedBytes: number;
  readonly stats: ReaderStats = { decodes: 0, cacheHits: 0, prefixDecodes: 0, decoders: {}, inlineDecodes: 0, prefixReads: 0 };
  /** Whether bytes are handed out only after their unit's integrity check (see `ReaderOptions.verify`). */
  readonly verify: VerifyMode;
  private readonly source: ByteSource;
  private readonly cache: ByteLru<number, Uint8Array>;
  private readonly inflight = new Map<number, Promise<Uint8Array>>();
  private readonly decoder: ChunkDecoder;
  /** The job runner (worker pool or inline) the reader decodes with. */
  readonly runner: JobRunner;
  private readonly prefix: PrefixDecoder | undefined;
  private readonly prefixReads: PrefixReads | undefined;
  /** Units up to this size may be decoded in the calling thread (as `ChunkDecoder` decides for whole units). */
  private readonly inlineBytes: number;
  private closed = false;

  /** Requests, retries and bytes of a remote source (`http(s)://`, `s3://`); undefined for local data. */
  get remoteStats(): RemoteStats | undefined {
    const stats = (this.source as Partial<{ stats: RemoteStats }>).stats;
    return stats === undefined ? undefined : { ...stats };
  }

  constructor(init: ReaderInit) {
    checkKnownSize(init.units, init.source.name, init.maxDecodedBytes, 'its chunk map');
    this.source = init.source;
    this.name = init.source.name;
    this.units = init.units;
    this.format = init.units.format;
    this.size = init.units.dStart[init.units.count];
    this.compressedSize = init.source.size;
    this.layout = chunkLayout(init.units, init.pieces);
    this.parallelism = init.parallelism;
    this.indexPath = init.indexPath;
    this.indexStatus = init.indexStatus;
    this.damage = init.damage;
    this.scannedOnOpen = init.scannedOnOpen;
    this.scannedBytes = init.scannedBytes ?? (init.scannedOnOpen ? this.size : 0);
    this.cache = new ByteLru(init.cacheBytes);
    this.runner = init.runner;
    this.verify = init.verify;
    this.decoder = new ChunkDecoder(this.source, this.units, this.layout, init.runner, {
      verify: init.verify,
      onPiece: (chunk, bytes) => this.cache.set(chunk, bytes),
      cached: (chunk) => this.cache.get(chunk),
      // Pieces a verification pass holds until the check passes: at most half the cache budget.
      holdBytes: Math.floor(init.cacheBytes / 2),
      onDecoder: (name) => {
        this.stats.decoders[name] = (this.stats.decoders[name] ?? 0) + 1;
      },
      inlineBytes: init.inlineBytes ?? INLINE_DECODE_BYTES,
      onInline: () => {
        this.stats.inlineDecodes++;
      },
    });
    // Unverified prefix reads inside units that stream (xz blocks) only when asked for ('lazy').
    const format = formatOf(this.format);
    this.inlineBytes = init.runner === inlineRunner ? Infinity : (init.inlineBytes ?? INLINE_DECODE_BYTES);
    if ((format.verifiedPrefix !== undefined || format.verifiedPart !== undefined) && init.prefixReads !== false) {
      this.prefixReads = new PrefixReads(this.source, this.units, format, init.cacheBytes);
    }
    if (streams(format) && init.verify === 'lazy') {
      this.prefix = new PrefixDecoder(this.source, this.units, format, (u, bytes) => this.cache.set(this.layout.firstChunk[u], bytes), init.cacheBytes);
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new SeekdataError('CLOSED', `${this.name}: reader is closed`, { file: this.name });
  }

  /** The decoded bytes of chunk `index` (cached; concurrent calls share one decode). Do not modify them. */
  async chunk(index: number): Promise<Uint8Array> {
    this.checkOpen();
    const cached = this.cache.get(index);
    if (cached !== undefined) {
      this.stats.cacheHits++;
      return cached;
    }
    const pending = this.inflight.get(index);
    if (pending !== undefined) return pending;
    this.stats.decodes++;
    // Alone when nothing else of this reader is decoding: a small unit may then be decoded in this thread.
    const decoding = this.decoder.decode(index, undefined, this.inflight.size === 0).then(
      (bytes) => {
        this.inflight.delete(index);
        this.cache.set(index, bytes);
        return bytes;
      },
      (error: unknown) => {
        this.inflight.delete(index);
        throw error;
      },
    );
    this.inflight.set(index, decoding);
    return decoding;
  }

  /**
   * Decodes a chunk in a worker job that also runs a step on it (datasets parse it, the indexing pass
   * analyses it). A chunk in the cache (or being decoded for it) is not decoded again: its bytes go to the
   * job instead. The result does not enter the cache: the caller wants the job's result, not the bytes.
   */
  async decodeWith(index: number, work: ChunkWork, signal?: AbortSignal): Promise<DecodedChunk> {
    this.checkOpen();
    const cached = this.cache.get(index) ?? (await this.inflight.get(index));
    if (cached !== undefined) {
      this.stats.cacheHits++;
      return this.decoder.decodeWith(index, signal, work, cached);
    }
    this.stats.decodes++;
    return this.decoder.decodeWith(index, signal, work);
  }

  /**
   * A hint that these chunks will be decoded soon (a dataset's plan): a remote source fetches their
   * compressed bytes ahead, coalesced into few requests, and holds them until decoded (see
   * `ByteSource.prefetch`). Chunks in the cache and big units (streamed in pieces) are left out; sources
   * without read-ahead ignore it. Never fails: a chunk whose read-ahead failed is fetched when decoded.
   */
  prefetchChunks(chunks: ArrayLike<number>): void {
    const source = this.source;
    if (source.prefetch === undefined || this.closed) return;
    const ranges = prefetchRanges(this.units, this.layout, source.size, chunks, (chunk) => this.cache.has(chunk) || this.inflight.has(chunk));
    if (ranges.length > 0) source.prefetch(ranges).catch(() => undefined);
  }

  /** Compressed bytes of the unit holding chunk `chunk` (what its decode reads). */
  chunkBytes(chunk: number): number {
    return unitRange(this.units, this.source.size, this.layout.unit[chunk])[1];
  }

  /**
   * `length` bytes from decompressed `offset` as cheaply as they can be had: from the cache; by decoding
   * only a prefix of a unit when `offset` is the start of one and its format can (`verified: false`: the
   * unit's check comes after its last byte); else by a verified `read` (which caches the chunks it
   * decodes, for the next caller). For comparing with bytes verified before (see RecordIndex.verifyTail).
   */
  async peek(offset: number, length: number): Promise<{ bytes: Uint8Array; verified: boolean }> {
    this.checkOpen();
    checkRange(this.name, this.size, this.damage, offset, length);
    const c = chunkAt(this.layout, offset);
    const u = this.layout.unit[c];
    const within = offset === this.layout.start[c] && offset + length <= this.layout.start[c + 1];
    const prefix = formatOf(this.format).prefix;
    if (within && prefix !== undefined && c === this.layout.firstChunk[u] && !this.cache.has(c) && !this.inflight.has(c)) {
      this.stats.prefixDecodes++;
      return { bytes: await prefix(this.source, this.units, u, length), verified: false };
    }
    return { bytes: await this.read(offset, length), verified: true };
  }

  /**
   * CRC32s of the pieces of the units read in pieces, as far as known (learned by a decode through the
   * whole unit, or loaded with the index): what lets a piece be verified without decoding its whole unit.
   */
  get pieceCrcs(): PieceCrcTable {
    return this.decoder.pieceCrcs;
  }

  /** The chunk holding decompressed byte `offset`. */
  chunkIndexAt(offset: number): number {
    return chunkAt(this.layout, offset);
  }

  /** Exactly `length` bytes from decompressed `offset` (a fresh copy). `OUT_OF_RANGE` past the end. */
  async read(offset: number, length: number): Promise<Uint8Array> {
    this.checkOpen();
    checkRange(this.name, this.size, this.damage, offset, length);
    const out = new Uint8Array(length);
    if (length === 0) return out;
    const first = chunkAt(this.layout, offset);
    const last = chunkAt(this.layout, offset + length - 1);
    const u = this.layout.unit[first];
    if (first === last && this.prefix !== undefined && !isBigUnit(this.units, u, this.layout.big) && !this.cache.has(first) && !this.inflight.has(first)) {
      // 'lazy': a read inside one unit decodes only the unit's prefix up to its last byte, unchecked.
      this.stats.decodes++;
      const base = this.units.dStart[u];
      return this.prefix.read(u, offset - base, offset + length - base);
    }
    if (first === last) {
      // Verified prefix (only the unit's start through the sub-span holding the read's last byte), or parts.
      const base = this.units.dStart[u];
      const got = await this.verifiedBytes(first, offset - base, offset + length - base);
      if (got !== undefined) {
        const from = offset - base - got.at;
        out.set(got.bytes.subarray(from, from + length));
        return out;
      }
    }
    const wanted: number[] = [];
    for (let c = first; c <= last; c++) wanted.push(c);
    const chunks = await Promise.all(wanted.map((c) => this.chunk(c)));
    let pos = 0;
    for (let k = 0; k < chunks.length; k++) {
      const start = this.layout.start[wanted[k]];
      const from = Math.max(0, offset - start);
      const to = Math.min(chunks[k].length, offset + length - start);
      out.set(chunks[k].subarray(from, to), pos);
      pos += to - from;
    }
    return out;
  }

  /**
   * Verified bytes [0, n >= end) of chunk `c`: only a prefix of its unit when a read of it alone may decode
   * one (`lonePrefix`, `ReaderOptions.prefixReads`), else the whole chunk (`chunk`). Do not modify them.
   */
  async chunkPrefix(c: number, end: number): Promise<Uint8Array> {
    this.checkOpen();
    const got = await this.verifiedBytes(c, 0, end);
    return got?.at === 0 ? got.bytes : this.chunk(c);
  }

  /**
   * Bytes [at, at + n) ⊇ [from, to) of chunk c (offsets within its unit) decoded as verified parts or a verified
   * prefix of its unit, or undefined (see `lonePrefix`).
   */
  private async verifiedBytes(c: number, from: number, to: number): Promise<{ at: number; bytes: Uint8Array } | undefined> {
    if (this.prefixReads === undefined || !this.lonePrefix(c)) return undefined;
    const got = await this.prefixReads.read(this.layout.unit[c], from, to);
    if (got === undefined) return undefined;
    this.stats.decodes++;
    this.stats.prefixReads++;
    if (this.runner !== inlineRunner) this.stats.inlineDecodes++;
    return got;
  }

  /**
   * Whether a read of chunk `c` alone decodes a verified prefix of its unit: the chunk is not cached or
   * being decoded, nothing else of this reader is decoding (the decode holds the calling thread, as a
   * small unit decoded inline does), the unit is small enough to be decoded here, and it was not read
   * just before (then it is decoded whole and cached: see prefix-reads.ts).
   */
  private lonePrefix(c: number): boolean {
    const reads = this.prefixReads;
    const u = this.layout.unit[c];
    if (reads === undefined || this.cache.has(c) || this.inflight.size > 0 || reads.busy > 0) return false;
    if (isBigUnit(this.units, u, this.layout.big) || this.units.dStart[u + 1] - this.units.dStart[u] > this.inlineBytes) return false;
    return reads.take(u);
  }

  /**
   * The decompressed bytes from `from` to `to` in order, as chunk-sized arrays, decoding up to
   * `parallelism` chunks ahead. Sequential streams do not fill the cache.
   */
  async *stream(from = 0, to = this.size): AsyncGenerator<Uint8Array> {
    this.checkOpen();
    checkRange(this.name, this.size, this.damage, from, Math.max(0, to - from));
    if (to <= from) return;
    const scan = scanKnown(this.decoder, { lookahead: scanLookahead(this.parallelism, Math.min(largestUnit(this.units), this.layout.big)) }, from);
    for await (const { offset, bytes } of scan) {
      const start = Math.max(0, from - offset);
      const end = Math.min(bytes.length, to - offset);
      if (end > start) yield bytes.subarray(start, end);
      if (offset + bytes.length >= to) return;
    }
  }

  info(): ReaderInfo {
    return readerInfo(this, (u) => this.decoder.pieceVerified(u));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cache.clear();
    this.decoder.close();
    this.prefix?.close();
    await this.source.close();
  }
}
