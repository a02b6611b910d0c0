/**
 * The chunk map: every independently decodable unit of a file (a bzip2 block, an xz block, a span of a
 * plain file) with its compressed and decompressed place, kept in typed arrays (no per-unit objects) so
 * that it loads straight from the index file. What a format needs beyond the common columns (gzip's
 * windows, zstd's flags) goes in `extra`, which the index file stores and loads the same way.
 */
import type { Format } from './formats.js';

export interface UnitTable {
  format: Format;
  count: number;
  /** Decompressed start of unit i; `dStart[count]` is the total decompressed size. Length count + 1. */
  dStart: Float64Array;
  /** Compressed start of unit i: in bits for bzip2, in bytes otherwise. */
  cStart: Float64Array;
  /** Compressed end (exclusive) of unit i: in bits for bzip2, in bytes otherwise. */
  cEnd: Float64Array;
  /** Per-format number: bzip2 block CRC; xz unpadded size; 0 for plain. */
  param: Float64Array;
  /** Per-format small number: bzip2 stream level; xz check type; 0 for plain. */
  kind: Uint8Array;
  /** CRC32s of the pieces of big units, once known (see pieces.ts); saved with the chunk map. */
  pieceCrc?: PieceCrcTable | undefined;
  /** Per-format data beyond the common columns (see `UnitExtra`); the format's `extra` names what it needs. */
  extra?: UnitExtra | undefined;
}

/**
 * Per-format chunk-map data, stored in the index file as sections of their own (index/store.ts):
 * `columns`: one number per unit (e.g. gzip's members per unit); `blobs`: a variable number of bytes per
 * unit, back to back, unit i's at `bytes[offsets[i] .. offsets[i + 1])` (e.g. gzip's compressed 32 KiB
 * windows); `facts`: a few values for the whole table (e.g. gzip `bgzf`, zstd `seekable`).
 */
export interface UnitExtra {
  columns?: Record<string, Float64Array> | undefined;
  blobs?: Record<string, UnitBlob> | undefined;
  facts?: Record<string, string | number | boolean> | undefined;
}

export interface UnitBlob {
  /** Length count + 1, from 0 to `bytes.length`, ascending. */
  offsets: Float64Array;
  bytes: Uint8Array;
}

/** Unit u's bytes of a blob (a view into it). */
export function blobOf(blob: UnitBlob, u: number): Uint8Array {
  return blob.bytes.subarray(blob.offsets[u], blob.offsets[u + 1]);
}

/**
 * Compares a stored chunk map with one derived from the file itself (formats whose units are found
 * without decoding): they must be equal, column by column.
 */
export function sameUnits(actual: UnitTable, stored: UnitTable, file: string, fail: (what: string) => Error): void {
  for (const key of ['dStart', 'cStart', 'cEnd', 'param', 'kind'] as const) {
    const a = actual[key];
    const b = stored[key];
    if (a.length !== b.length || a.some((v, i) => v !== b[i])) throw fail(`the chunk map (units.${key}) does not match ${file}`);
  }
}

/**
 * The zlib CRC32 of every piece of the units read in pieces, learned by a decode that went through the
 * whole unit and passed its block check. A piece decoded later (without reaching the block check) is
 * handed out only when it matches. Valid for one piece layout only.
 */
export interface PieceCrcTable {
  bigUnitBytes: number;
  pieceBytes: number;
  /** Per chunk of that layout: the piece's CRC32, or -1 while unknown (and for chunks that are not pieces). */
  crc: Float64Array;
}

/** Grows a unit table one unit at a time during a scan. */
export class UnitTableBuilder {
  private n = 0;
  private dStart = new Float64Array(64);
  private cStart = new Float64Array(64);
  private cEnd = new Float64Array(64);
  private param = new Float64Array(64);
  private kind = new Uint8Array(64);
  private total = 0;

  constructor(private readonly format: Format) {}

  add(cStart: number, cEnd: number, dLength: number, param: number, kind: number): void {
    if (this.n + 1 >= this.dStart.length) this.grow();
    const i = this.n++;
    this.dStart[i] = this.total;
    this.cStart[i] = cStart;
    this.cEnd[i] = cEnd;
    this.param[i] = param;
    this.kind[i] = kind;
    this.total += dLength;
  }

  get decodedSize(): number {
    return this.total;
  }

  /** Units added so far. */
  get count(): number {
    return this.n;
  }

  private grow(): void {
    const n = this.dStart.length * 2;
    const growF = (a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this.dStart = growF(this.dStart);
    this.cStart = growF(this.cStart);
    this.cEnd = growF(this.cEnd);
    this.param = growF(this.param);
    const k = new Uint8Array(n);
    k.set(this.kind);
    this.kind = k;
  }

  /** The table of the first `count` units (default: all). */
  build(count = this.n): UnitTable {
    const n = Math.min(count, this.n);
    const dStart = this.dStart.slice(0, n + 1);
    if (n === this.n) dStart[n] = this.total;
    return {
      format: this.format,
      count: n,
      dStart,
      cStart: this.cStart.slice(0, n),
      cEnd: this.cEnd.slice(0, n),
      param: this.param.slice(0, n),
      kind: this.kind.slice(0, n),
    };
  }
}

/** The chunk map of the first `n` units (with their extra columns and blobs; piece CRC32s are left out). */
export function unitsPrefix(units: UnitTable, n: number): UnitTable {
  const out: UnitTable = {
    format: units.format,
    count: n,
    dStart: units.dStart.slice(0, n + 1),
    cStart: units.cStart.slice(0, n),
    cEnd: units.cEnd.slice(0, n),
    param: units.param.slice(0, n),
    kind: units.kind.slice(0, n),
  };
  const extra = units.extra;
  if (extra !== undefined) {
    const columns: Record<string, Float64Array> = {};
    for (const [name, column] of Object.entries(extra.columns ?? {})) columns[name] = column.slice(0, n);
    const blobs: Record<string, UnitBlob> = {};
    for (const [name, blob] of Object.entries(extra.blobs ?? {})) blobs[name] = { offsets: blob.offsets.slice(0, n + 1), bytes: blob.bytes.slice(0, blob.offsets[n]) };
    out.extra = { columns, blobs, facts: extra.facts };
  }
  return out;
}

/** Index i such that starts[i] <= x < starts[i + 1] (starts sorted ascending, length count + 1). */
export function floorIndex(starts: Float64Array, count: number, x: number): number {
  let lo = 0;
  let hi = count - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (starts[mid] <= x) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export function largestUnit(units: UnitTable): number {
  let max = 0;
  for (let i = 0; i < units.count; i++) max = Math.max(max, units.dStart[i + 1] - units.dStart[i]);
  return max;
}
