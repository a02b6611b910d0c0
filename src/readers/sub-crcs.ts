/**
 * Sub-span CRC-32s: the CRC-32 of every `span` decoded bytes (64 KiB) of a unit, recorded by a pass that
 * decoded and verified the whole unit (gzip: the discovery scan; xz: the indexing pass), kept in the chunk
 * map (`UnitTable.extra`: the blob `subCrc`, 4 bytes little-endian per sub-span, and the fact `subSpan`) and
 * saved with the index. They let a read inside one unit decode only the unit's prefix through the sub-span
 * holding its last byte — on average about half the unit — and check every byte of that prefix before
 * handing anything out (`FormatModule.verifiedPrefix`, prefix-reads.ts), where the unit's own check comes
 * only after its last byte.
 */
import { crc32 } from 'node:zlib';
import { blobOf, type UnitTable } from './units.js';

/** Decoded bytes per sub-span written by this version. */
export const SUB_SPAN_BYTES = 64 << 10;

/** Bounds of a stored sub-span size. */
const MIN_SUB_SPAN = 4 << 10;
const MAX_SUB_SPAN = 1 << 30;

/** The decoded bytes a prefix read of `end` bytes decodes and verifies: through the end of the sub-span holding byte end - 1. */
export function prefixTarget(end: number, span: number, dLength: number): number {
  return Math.min(dLength, Math.ceil(end / span) * span);
}

/** Compressed bytes to feed for `target` decoded bytes of a unit of `whole` compressed and `dLength` decoded bytes: its ratio, +2% and 2 KiB. */
export function prefixFeed(target: number, whole: number, dLength: number): number {
  return Math.min(whole, Math.ceil(((whole * target) / dLength) * 1.02) + 2048);
}

/** The CRC-32 of each `span` bytes of `bytes` (the last may be shorter), 4 bytes little-endian each. */
export function subCrcsOfBytes(bytes: Uint8Array, span: number): Uint8Array {
  const n = Math.ceil(bytes.length / span);
  const out = new Uint8Array(n * 4);
  const view = new DataView(out.buffer);
  for (let k = 0; k < n; k++) view.setUint32(k * 4, crc32(bytes.subarray(k * span, Math.min(bytes.length, (k + 1) * span))), true);
  return out;
}

/** Unit u's sub-span CRC-32s (a view) and their span, when the chunk map has them for it; else undefined. */
export function unitSubCrcs(units: UnitTable, u: number): { span: number; crcs: Uint8Array } | undefined {
  const blob = units.extra?.blobs?.subCrc;
  const span = units.extra?.facts?.subSpan;
  if (blob === undefined || typeof span !== 'number') return undefined;
  const crcs = blobOf(blob, u);
  return crcs.length === 0 ? undefined : { span, crcs };
}

/**
 * Puts sub-span CRC-32s in the chunk map: `crcsOf(u)` gives unit u's (from a pass that verified it), or
 * undefined for a unit without them (it is then always decoded whole). Replaces any the map had; with none
 * at all, the map has none.
 */
export function setSubCrcs(units: UnitTable, span: number, crcsOf: (u: number) => Uint8Array | undefined): void {
  const offsets = new Float64Array(units.count + 1);
  const parts: Uint8Array[] = [];
  for (let u = 0; u < units.count; u++) {
    const crcs = crcsOf(u);
    const expected = Math.ceil((units.dStart[u + 1] - units.dStart[u]) / span) * 4;
    const keep = crcs !== undefined && crcs.length === expected ? crcs : new Uint8Array(0);
    parts.push(keep);
    offsets[u + 1] = offsets[u] + keep.length;
  }
  const extra = units.extra ?? {};
  const blobs = { ...extra.blobs };
  const facts = { ...extra.facts };
  delete blobs.subCrc;
  delete facts.subSpan;
  if (offsets[units.count] === 0) {
    // None (every unit read in pieces): no sections for them.
    units.extra = { ...extra, blobs, facts };
    return;
  }
  const bytes = new Uint8Array(offsets[units.count]);
  parts.forEach((part, u) => bytes.set(part, offsets[u]));
  units.extra = { ...extra, blobs: { ...blobs, subCrc: { offsets, bytes } }, facts: { ...facts, subSpan: span } };
}

/**
 * Checks the shape of a loaded chunk map's sub-span CRC-32s, when it has them: a sane span, and for each
 * unit none or exactly one per sub-span (`allowed(u)` false: none). `fail(what)` makes the error to throw.
 */
export function checkSubCrcShape(units: UnitTable, fail: (what: string) => Error, allowed: (u: number) => boolean = () => true): void {
  const blob = units.extra?.blobs?.subCrc;
  const span = units.extra?.facts?.subSpan;
  if (blob === undefined && span === undefined) return;
  if (blob === undefined) throw fail('sub-span size without sub-span CRC-32s');
  if (typeof span !== 'number' || !Number.isSafeInteger(span) || span < MIN_SUB_SPAN || span > MAX_SUB_SPAN) throw fail(`sub-span size ${String(span)}`);
  for (let u = 0; u < units.count; u++) {
    const have = blobOf(blob, u).length;
    const count = Math.ceil((units.dStart[u + 1] - units.dStart[u]) / span);
    if (have !== 0 && (have !== count * 4 || !allowed(u))) throw fail(`unit ${u}: ${have} bytes of sub-span CRC-32s, expected ${allowed(u) ? `0 or ${count * 4}` : 0}`);
  }
}

/** The first sub-span of out[0 .. target) whose CRC-32 is not the one recorded, or -1 when all match. */
export function failingSubSpan(out: Uint8Array, target: number, crcs: Uint8Array, span: number): number {
  const view = new DataView(crcs.buffer, crcs.byteOffset, crcs.byteLength);
  for (let k = 0, at = 0; at < target; k++, at += span) {
    if (crc32(out.subarray(at, Math.min(target, at + span))) !== view.getUint32(k * 4, true)) return k;
  }
  return -1;
}
