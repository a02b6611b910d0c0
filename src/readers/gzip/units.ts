/**
 * The units of a gzip file and their compact table. A unit is either
 *   kind 0 (SPAN): a span inside one member that starts at a deflate block boundary, decoded with the
 *     32 KiB of output before it as the dictionary (empty at the member's first block), or
 *   kind 1 (MEMBERS): a run of one or more whole members (BGZF blocks, small members), each decoded from
 *     its header and checked against its own CRC32 / ISIZE.
 * Units are in file order, cover the decompressed data without gaps, and never cross a member boundary.
 * Every unit carries the CRC-32 of its decoded bytes, so a span in the middle of a member is verified on
 * its own. The table keeps them in typed arrays (like `UnitTable`), the windows as one byte array of
 * deflateRaw-compressed windows with offsets.
 */
import zlib from 'node:zlib';
import { SeekdataError } from '../../errors.js';
import { SUB_SPAN_BYTES } from '../sub-crcs.js';

export const KIND_SPAN = 0;
export const KIND_MEMBERS = 1;

/** The largest dictionary deflate can refer to. */
export const WINDOW_BYTES = 32 * 1024;

export interface GzipUnit {
  /** Compressed start in bits: a deflate block boundary (kind 0) or a member header's byte offset x 8 (kind 1). */
  cStart: number;
  /** Compressed end in bits, exclusive: the end of a deflate block (kind 0) or of a member's trailer x 8. */
  cEnd: number;
  /** Decompressed bytes. */
  dLength: number;
  /** CRC-32 of the decoded bytes. */
  crc: number;
  kind: number;
  /** Kind 0: the (uncompressed) output of the member before the span, at most 32 KiB; empty otherwise. */
  window: Uint8Array;
  /** Members that end in this unit (kind 1: the members of the run; kind 0: 1 for a member's last span). */
  members: number;
  /** Kind 0, from the indexing pass: the CRC-32 of each `SUB_SPAN_BYTES` piece of the decoded bytes (the last may be shorter). */
  subCrc?: Uint32Array | undefined;
}

export interface GzipUnitTable {
  count: number;
  /** Decompressed start of unit i; `dStart[count]` is the total decompressed size. Length count + 1. */
  dStart: Float64Array;
  /** Compressed start of unit i, in bits. */
  cStart: Float64Array;
  /** Compressed end (exclusive) of unit i, in bits. */
  cEnd: Float64Array;
  /** CRC-32 of unit i's decoded bytes. */
  crc: Float64Array;
  /** 0 span inside a member, 1 run of whole members. */
  kind: Uint8Array;
  /** Members that end in unit i. */
  members: Float64Array;
  /** Unit i's compressed window is `windows[windowStart[i] .. windowStart[i + 1])`. Length count + 1. */
  windowStart: Float64Array;
  /** The windows of all units, each compressed with deflateRaw, back to back (empty windows take 0 bytes). */
  windows: Uint8Array;
  /** True when every member carries a BGZF `BC` subfield. */
  bgzf: boolean;
  /**
   * From the indexing pass (absent for BGZF and older indexes): unit i's sub-span CRC-32s are
   * `bytes[offsets[i] .. offsets[i + 1])`, 4 bytes little-endian each, one per `span` decoded bytes of a
   * kind-0 unit (none for kind 1).
   */
  subCrc?: { span: number; offsets: Float64Array; bytes: Uint8Array } | undefined;
}

/** The CRC-32s as stored: 4 bytes little-endian each. */
export function packSubCrcs(crcs: Uint32Array): Uint8Array {
  const out = new Uint8Array(crcs.length * 4);
  const view = new DataView(out.buffer);
  crcs.forEach((c, k) => view.setUint32(k * 4, c, true));
  return out;
}

/** Compresses a window for the table (deflateRaw, level 6: level 9 costs the index pass 50% more time for 1% smaller windows). */
export function packWindow(window: Uint8Array): Uint8Array {
  if (window.length === 0) return new Uint8Array(0);
  return zlib.deflateRawSync(window, { level: 6 });
}

/** The window as stored by `packWindow`; CORRUPT_INDEX when it does not inflate to at most 32 KiB. */
export function unpackWindow(packed: Uint8Array, file = '<gzip index>'): Uint8Array {
  if (packed.length === 0) return new Uint8Array(0);
  try {
    // One output buffer: a spare byte spares zlib a second one when the window is a full 32 KiB.
    return zlib.inflateRawSync(packed, { maxOutputLength: WINDOW_BYTES, chunkSize: WINDOW_BYTES + 1 });
  } catch (cause) {
    throw new SeekdataError('CORRUPT_INDEX', `${file}: a stored gzip window does not decompress (${String(cause)})`, { file, cause });
  }
}

/** The compressed window of unit i, a view into the table. */
export function packedWindowOf(table: GzipUnitTable, i: number): Uint8Array {
  return table.windows.subarray(table.windowStart[i], table.windowStart[i + 1]);
}

/** Packs raw windows into one byte array with offsets (length windows.length + 1). */
export function serializeWindows(windows: Uint8Array[]): { windows: Uint8Array; windowStart: Float64Array } {
  const packed = windows.map(packWindow);
  const windowStart = new Float64Array(packed.length + 1);
  for (let i = 0; i < packed.length; i++) windowStart[i + 1] = windowStart[i] + packed[i].length;
  const out = new Uint8Array(windowStart[packed.length]);
  for (let i = 0; i < packed.length; i++) out.set(packed[i], windowStart[i]);
  return { windows: out, windowStart };
}

/** The raw windows of every unit, back from `serializeWindows` form. */
export function deserializeWindows(windows: Uint8Array, windowStart: Float64Array, file?: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i + 1 < windowStart.length; i++) out.push(unpackWindow(windows.subarray(windowStart[i], windowStart[i + 1]), file));
  return out;
}

/** Grows a gzip unit table one unit at a time; windows are compressed as they are added. */
export class GzipTableBuilder {
  private readonly units: Array<Omit<GzipUnit, 'window'>> = [];
  private readonly packed: Uint8Array[] = [];
  private packedBytes = 0;
  /** Each unit's sub-span CRC-32s as stored (empty for kind 1), and whether any unit had them. */
  private readonly subs: Uint8Array[] = [];
  private subBytes = 0;
  private anySubs = false;

  /**
   * Adds the next unit. `packed` is its window already compressed with `packWindow` (e.g. by a worker,
   * off the thread running the sequential pass); by default it is compressed here.
   */
  add(unit: GzipUnit, packed?: Uint8Array): void {
    const { window } = unit;
    if (window.length > WINDOW_BYTES) throw new SeekdataError('INVALID_OPTION', `gzip window of ${window.length} bytes (at most ${WINDOW_BYTES})`);
    // Only the unit's own fields: a scanned unit also carries its decoded bytes, which must not stay here.
    this.units.push({ cStart: unit.cStart, cEnd: unit.cEnd, dLength: unit.dLength, crc: unit.crc, kind: unit.kind, members: unit.members });
    const p = packed ?? packWindow(window);
    this.packed.push(p);
    this.packedBytes += p.length;
    const sub = unit.subCrc === undefined ? new Uint8Array(0) : packSubCrcs(unit.subCrc);
    if (unit.subCrc !== undefined) this.anySubs = true;
    this.subs.push(sub);
    this.subBytes += sub.length;
  }

  get count(): number {
    return this.units.length;
  }

  /**
   * Extends the last unit to `cEnd` with `members` more member ends and no more bytes: an empty last
   * span of a member (its final deflate block held nothing) joins the span before it.
   */
  extendLast(cEnd: number, members: number): void {
    const last = this.units[this.units.length - 1];
    if (last === undefined) throw new Error('gzip table: no unit to extend');
    last.cEnd = cEnd;
    last.members += members;
  }

  /** Drops the units after the first `count` (the untrusted tail of a damaged file). */
  truncate(count: number): void {
    while (this.units.length > count) {
      this.units.pop();
      this.packedBytes -= this.packed.pop()?.length ?? 0;
      this.subBytes -= this.subs.pop()?.length ?? 0;
    }
  }

  build(bgzf: boolean): GzipUnitTable {
    const n = this.units.length;
    const t: GzipUnitTable = {
      count: n,
      dStart: new Float64Array(n + 1),
      cStart: new Float64Array(n),
      cEnd: new Float64Array(n),
      crc: new Float64Array(n),
      kind: new Uint8Array(n),
      members: new Float64Array(n),
      windowStart: new Float64Array(n + 1),
      windows: new Uint8Array(this.packedBytes),
      bgzf,
    };
    for (let i = 0; i < n; i++) {
      const u = this.units[i];
      t.dStart[i + 1] = t.dStart[i] + u.dLength;
      t.cStart[i] = u.cStart;
      t.cEnd[i] = u.cEnd;
      t.crc[i] = u.crc;
      t.kind[i] = u.kind;
      t.members[i] = u.members;
      t.windows.set(this.packed[i], t.windowStart[i]);
      t.windowStart[i + 1] = t.windowStart[i] + this.packed[i].length;
    }
    if (this.anySubs) {
      const offsets = new Float64Array(n + 1);
      const bytes = new Uint8Array(this.subBytes);
      for (let i = 0; i < n; i++) {
        bytes.set(this.subs[i], offsets[i]);
        offsets[i + 1] = offsets[i] + this.subs[i].length;
      }
      t.subCrc = { span: SUB_SPAN_BYTES, offsets, bytes };
    }
    return t;
  }
}

/** The bytes of the file a unit's decode needs: from byte floor(cStart / 8) to ceil(cEnd / 8). */
export function unitByteRange(table: GzipUnitTable, i: number): { offset: number; length: number } {
  const offset = Math.floor(table.cStart[i] / 8);
  return { offset, length: Math.ceil(table.cEnd[i] / 8) - offset };
}

/** Index of the unit holding decompressed offset x (0 <= x < total); a zero-length unit is never chosen. */
export function unitAt(table: GzipUnitTable, x: number): number {
  let lo = 0;
  let hi = table.count - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (table.dStart[mid] <= x) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
