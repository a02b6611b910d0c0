/**
 * Chunks are what the reader caches and decodes: normally one chunk per unit. A unit too large to decode
 * at once (an xz file written as one huge block) is split into fixed-size pieces (pieces.ts).
 */
import { SeekdataError } from '../errors.js';
import { analyzeChunk, type AnalyzeSpec, type ChunkAnalysis } from '../index/records/analyze.js';
import type { ParsedRows } from '../datasets/parse.js';
import { parseChunk, type ChunkParse } from '../workers/jobs.js';
import { concatBytes } from '../util.js';
import type { ByteSource } from '../sources/source.js';
import type { JobRunner } from '../workers/pool.js';
import { PieceDecoder, type VerifyMode } from './pieces.js';
import { floorIndex, type PieceCrcTable, type UnitTable } from './units.js';

/** Default: units larger than this (decompressed) are read in pieces. */
export const BIG_UNIT_BYTES = 64 << 20;
/** Default piece size for big units. */
export const PIECE_BYTES = 8 << 20;

export interface PieceOptions {
  /** xz units larger than this (decompressed bytes) are read in pieces. */
  bigUnitBytes: number;
  /** Size of those pieces. */
  pieceBytes: number;
}

export const DEFAULT_PIECES: PieceOptions = { bigUnitBytes: BIG_UNIT_BYTES, pieceBytes: PIECE_BYTES };

export interface DecodedChunk {
  bytes: Uint8Array;
  analysis?: ChunkAnalysis | undefined;
  parsed?: ParsedRows | undefined;
}

/** Work done on a chunk in the same worker job that decodes it. */
export interface ChunkWork {
  analyze?: AnalyzeSpec | undefined;
  parse?: ChunkParse | undefined;
}

export interface ChunkLayout {
  count: number;
  /** Unit of each chunk. */
  unit: Uint32Array;
  /** Decompressed start of each chunk; `start[count]` is the total size. */
  start: Float64Array;
  /** First chunk of each unit. */
  firstChunk: Uint32Array;
  /** Units over `big` bytes are split into pieces of `piece` bytes. */
  big: number;
  piece: number;
}

export function isBigUnit(units: UnitTable, u: number, big: number): boolean {
  return units.format === 'xz' && units.dStart[u + 1] - units.dStart[u] > big;
}

export function chunkLayout(units: UnitTable, pieces: PieceOptions = DEFAULT_PIECES): ChunkLayout {
  const big = pieces.bigUnitBytes;
  const piece = pieces.pieceBytes;
  let count = 0;
  for (let u = 0; u < units.count; u++) count += isBigUnit(units, u, big) ? Math.ceil((units.dStart[u + 1] - units.dStart[u]) / piece) : 1;
  const unit = new Uint32Array(count);
  const start = new Float64Array(count + 1);
  const firstChunk = new Uint32Array(units.count);
  let c = 0;
  for (let u = 0; u < units.count; u++) {
    firstChunk[u] = c;
    const base = units.dStart[u];
    const length = units.dStart[u + 1] - base;
    const n = isBigUnit(units, u, big) ? Math.ceil(length / piece) : 1;
    for (let k = 0; k < n; k++) {
      unit[c] = u;
      start[c] = base + k * piece;
      c++;
    }
  }
  start[count] = units.dStart[units.count];
  return { count, unit, start, firstChunk, big, piece };
}

export function chunkAt(layout: ChunkLayout, offset: number): number {
  return floorIndex(layout.start, layout.count, offset);
}

export interface ChunkDecoderOptions {
  /**
   * 'full' (default): pieces of big units are handed out only after their unit's block check (see
   * pieces.ts). 'lazy': as they are decoded, for a caller that drops everything when a later piece fails.
   */
  verify?: VerifyMode | undefined;
  /** Receives every piece of a big unit decoded on the way to the one asked for, to cache it. */
  onPiece?: ((chunk: number, bytes: Uint8Array) => void) | undefined;
  /** A piece already at hand (the caller's cache). */
  cached?: ((chunk: number) => Uint8Array | undefined) | undefined;
  /** Bytes of pieces a verification pass may hold for the cache. Default 0 (only the piece asked for). */
  holdBytes?: number | undefined;
}

export class ChunkDecoder {
  private readonly pieces: PieceDecoder;

  constructor(
    readonly source: ByteSource,
    readonly units: UnitTable,
    readonly layout: ChunkLayout,
    private readonly runner: JobRunner,
    options: ChunkDecoderOptions = {},
  ) {
    this.pieces = new PieceDecoder(source, units, layout, {
      verify: options.verify ?? 'full',
      onPiece: options.onPiece ?? (() => {}),
      cached: options.cached ?? (() => undefined),
      holdBytes: options.holdBytes ?? 0,
    });
  }

  /** Whether the pieces of big unit `u` have known CRC32s (the unit has passed its block check once). */
  pieceVerified(u: number): boolean {
    return this.pieces.known(u);
  }

  /** CRC32s of the pieces of big units, as far as known. */
  get pieceCrcs(): PieceCrcTable {
    return this.pieces.crcs;
  }

  /** Decodes one chunk and checks it against the chunk map. */
  async decode(chunk: number, signal?: AbortSignal): Promise<Uint8Array> {
    return (await this.decodeWith(chunk, signal, {})).bytes;
  }

  /** Decodes one chunk and, in the same worker job, analyses or parses its records when asked. */
  async decodeWith(chunk: number, signal: AbortSignal | undefined, work: ChunkWork): Promise<DecodedChunk> {
    const { analyze, parse } = work;
    const units = this.units;
    const u = this.layout.unit[chunk];
    const expected = this.layout.start[chunk + 1] - this.layout.start[chunk];
    const file = this.source.name;
    if (units.format === 'plain') {
      const bytes = await this.source.read(units.cStart[u], units.cEnd[u] - units.cStart[u]);
      if (parse !== undefined) {
        // Joined to the tail, the bytes are a fresh array of ours (moved); alone, they are the source's.
        const all = parse.tail.length === 0 ? postable(bytes, false) : postable(concatBytes([bytes, parse.tail]), true);
        const result = await this.runner.run({ op: 'parse', bytes: all.bytes, spans: parse.spans, records: parse.records, spec: parse.spec }, signal, all.transfer);
        return { bytes: new Uint8Array(0), parsed: result.parsed };
      }
      if (analyze === undefined) return { bytes };
      const post = postable(bytes, false);
      const result = await this.runner.run({ op: 'analyze', bytes: post.bytes, analyze }, signal, post.transfer);
      return { bytes: result.bytes, analysis: result.analysis };
    }
    if (isBigUnit(units, u, this.layout.big)) {
      const bytes = await this.pieces.decode(chunk);
      return {
        bytes,
        analysis: analyze === undefined ? undefined : analyzeChunk(bytes, analyze),
        parsed: parse === undefined ? undefined : parseChunk(bytes, parse),
      };
    }
    if (units.format === 'bzip2') {
      const first = Math.floor(units.cStart[u] / 8);
      const end = Math.min(this.source.size, Math.ceil(units.cEnd[u] / 8));
      const { bytes: data, transfer } = postable(await this.source.read(first, end - first), false);
      const result = await this.runner.run(
        { op: 'decode', task: { kind: 'bzip2', block: { data, bitOffset: units.cStart[u] - first * 8, level: 9, base: first, atEnd: true, file } }, analyze, parse: postableParse(parse) },
        signal,
        transfer,
      );
      const decodedLength = parse === undefined ? result.bytes.length : expected;
      if (decodedLength !== expected || result.crc !== units.param[u] || first * 8 + result.endBit !== units.cEnd[u]) {
        // The block itself passed its CRC: it is the chunk map that is wrong (a changed file, or a bad index).
        throw new SeekdataError('CORRUPT_INDEX', `${file}: bzip2 block at byte ${first} does not match the index (file changed, or a damaged or crafted index)`, {
          file,
          compressedOffset: first,
        });
      }
      return { bytes: result.bytes, analysis: result.analysis, parsed: result.parsed };
    }
    const offset = units.cStart[u];
    const { bytes: data, transfer } = postable(await this.source.read(offset, units.cEnd[u] - offset), false);
    const result = await this.runner.run(
      {
        op: 'decode',
        task: { kind: 'xz', block: { data, offset, unpaddedSize: units.param[u], uncompressedSize: expected, checkType: units.kind[u], file } },
        analyze,
        parse: postableParse(parse),
      },
      signal,
      transfer,
    );
    return { bytes: result.bytes, analysis: result.analysis, parsed: result.parsed };
  }

  close(): void {
    this.pieces.close();
  }
}

/**
 * Bytes to post to a worker, and the buffers to move with them. Posting a view clones its whole buffer (a
 * view into a MemorySource's file or a loaded index would drag all of it along), so a view into a larger
 * buffer is copied out and the copy moved. An array that owns its buffer is moved when `owned` (a fresh
 * array of ours that nobody else holds), else cloned: a source's arrays may be shared (MemorySource).
 */
function postable(bytes: Uint8Array, owned: boolean): { bytes: Uint8Array; transfer: ArrayBuffer[] } {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  if (!(bytes.buffer instanceof ArrayBuffer) || (whole && !owned)) return { bytes, transfer: [] };
  if (whole) return { bytes, transfer: [bytes.buffer] };
  // `new Uint8Array(view)` copies (a Buffer's `slice` would return another view of the same memory).
  const copy = new Uint8Array(bytes);
  return { bytes: copy, transfer: [copy.buffer] };
}

/** The parse part of a job with its tail fit to post (spans and records are fresh arrays of the record index). */
function postableParse(parse: ChunkParse | undefined): ChunkParse | undefined {
  return parse === undefined ? undefined : { ...parse, tail: postable(parse.tail, false).bytes };
}
