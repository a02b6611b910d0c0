/**
 * The gzip unit table (units.ts) as the readers' chunk map (`UnitTable`) and back: `cStart` / `cEnd` in
 * bits, `param` = the CRC-32 of the unit's decoded bytes, `kind` = 0 span / 1 run of members, and in
 * `extra` the column `members`, the blob `windows` (deflateRaw-compressed 32 KiB windows) and the facts
 * `bgzf` and `spacing`; from this version's indexing pass also the blob `subCrc` (the CRC-32 of every
 * 64 KiB sub-span of a span, for reads that decode a prefix) and the fact `subSpan`. Units that decode to nothing (runs of empty members) are left out of the chunk
 * map: every unit holds bytes, and the empty members between units are checked by `validate`.
 */
import { unitSubCrcs } from '../sub-crcs.js';
import { blobOf, type UnitTable } from '../units.js';
import { KIND_SPAN, type GzipUnitTable } from './units.js';

/** Facts kept with the chunk map. */
export interface GzipFacts {
  bgzf: boolean;
  /** The checkpoint spacing the table was built with (bytes). */
  spacing: number;
}

export function gzipUnitTable(table: GzipUnitTable, facts: GzipFacts): UnitTable {
  const keep: number[] = [];
  for (let i = 0; i < table.count; i++) if (table.dStart[i + 1] > table.dStart[i]) keep.push(i);
  const n = keep.length;
  const out: UnitTable = {
    format: 'gzip',
    count: n,
    dStart: new Float64Array(n + 1),
    cStart: new Float64Array(n),
    cEnd: new Float64Array(n),
    param: new Float64Array(n),
    kind: new Uint8Array(n),
  };
  const members = new Float64Array(n);
  const offsets = new Float64Array(n + 1);
  let windowBytes = 0;
  for (const i of keep) windowBytes += table.windowStart[i + 1] - table.windowStart[i];
  const windows = new Uint8Array(windowBytes);
  keep.forEach((i, k) => {
    out.dStart[k + 1] = out.dStart[k] + (table.dStart[i + 1] - table.dStart[i]);
    out.cStart[k] = table.cStart[i];
    out.cEnd[k] = table.cEnd[i];
    out.param[k] = table.crc[i];
    out.kind[k] = table.kind[i];
    members[k] = table.members[i];
    const w = table.windows.subarray(table.windowStart[i], table.windowStart[i + 1]);
    windows.set(w, offsets[k]);
    offsets[k + 1] = offsets[k] + w.length;
  });
  out.extra = { columns: { members }, blobs: { windows: { offsets, bytes: windows } }, facts: { bgzf: facts.bgzf, spacing: facts.spacing } };
  const sub = table.subCrc;
  if (sub !== undefined && out.extra.blobs !== undefined && out.extra.facts !== undefined) {
    const subOffsets = new Float64Array(n + 1);
    let subBytes = 0;
    for (const i of keep) subBytes += sub.offsets[i + 1] - sub.offsets[i];
    const bytes = new Uint8Array(subBytes);
    keep.forEach((i, k) => {
      const b = sub.bytes.subarray(sub.offsets[i], sub.offsets[i + 1]);
      bytes.set(b, subOffsets[k]);
      subOffsets[k + 1] = subOffsets[k] + b.length;
    });
    out.extra.blobs.subCrc = { offsets: subOffsets, bytes };
    out.extra.facts.subSpan = sub.span;
  }
  return out;
}

/**
 * The sub-span CRC-32s of unit u (4 bytes little-endian each, one per `span` decoded bytes; a view) when
 * the chunk map has them (built by this version's indexing pass; not BGZF, not older indexes) and u is a
 * span: else undefined. A loaded table was checked by validate.ts: they combine to the unit's CRC-32.
 */
export function subCrcsOf(units: UnitTable, u: number): { span: number; crcs: Uint8Array } | undefined {
  return units.kind[u] === KIND_SPAN ? unitSubCrcs(units, u) : undefined;
}

/** The `members` column and `windows` blob of a gzip chunk map (they are required when it is loaded). */
export function gzipExtra(units: UnitTable): { members: Float64Array; windows: { offsets: Float64Array; bytes: Uint8Array } } {
  const members = units.extra?.columns?.members;
  const windows = units.extra?.blobs?.windows;
  if (members === undefined || windows === undefined) throw new Error('internal: a gzip chunk map without its members and windows');
  return { members, windows };
}

/** The packed window of unit u (a view). */
export function windowOf(units: UnitTable, u: number): Uint8Array {
  return blobOf(gzipExtra(units).windows, u);
}

export function isBgzf(units: UnitTable): boolean {
  return units.extra?.facts?.bgzf === true;
}

/** The chunk map as a gzip unit table (sharing its arrays), for `describeGzip`. */
export function asGzipTable(units: UnitTable): GzipUnitTable {
  const { members, windows } = gzipExtra(units);
  return {
    count: units.count,
    dStart: units.dStart,
    cStart: units.cStart,
    cEnd: units.cEnd,
    crc: units.param,
    kind: units.kind,
    members,
    windowStart: windows.offsets,
    windows: windows.bytes,
    bgzf: isBgzf(units),
  };
}

/** Whether unit u is a span that ends its member (its last deflate block is the member's final one). */
export function endsMember(units: UnitTable, u: number): boolean {
  return units.kind[u] !== KIND_SPAN || gzipExtra(units).members[u] > 0;
}
