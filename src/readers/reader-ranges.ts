/**
 * The ranges a SeekableReader (reader.ts) works with: a decompressed range asked of it, checked against the
 * file (OUT_OF_RANGE, or the damage met where the intact part of a file opened with `allowDamage` ends);
 * the compressed bytes a unit's decode reads (every format reads inside [cStart, cEnd) of its unit, in bits
 * or bytes); and, for read-ahead (`SeekableReader.prefetchChunks`), the ranges of the units a list of
 * chunks needs, each unit once, leaving out big units (streamed in pieces) and chunks the reader holds.
 */
import { SeekdataError } from '../errors.js';
import type { ByteRange } from '../sources/source.js';
import { isBigUnit, type ChunkLayout } from './chunks.js';
import { formatOf } from './formats.js';
import type { UnitTable } from './units.js';

/** Refuses a range that is not whole numbers, or that runs past the end of `file`'s `size` decompressed bytes. */
export function checkRange(file: string, size: number, damage: SeekdataError | undefined, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new SeekdataError('OUT_OF_RANGE', `${file}: invalid range (offset ${offset}, length ${length})`, { file, offset });
  }
  if (offset + length > size) {
    if (damage !== undefined) throw damage;
    throw new SeekdataError('OUT_OF_RANGE', `${file}: range ${offset}..${offset + length} is past the end (${size} bytes)`, {
      file,
      offset,
    });
  }
}

/** The bytes unit `u`'s decode task reads: every format reads inside [cStart, cEnd) of its unit. */
export function unitRange(units: UnitTable, sourceSize: number, u: number): ByteRange {
  const bits = formatOf(units.format).offsetsInBits;
  const start = bits ? Math.floor(units.cStart[u] / 8) : units.cStart[u];
  const end = Math.min(sourceSize, bits ? Math.ceil(units.cEnd[u] / 8) : units.cEnd[u]);
  return [start, Math.max(0, end - start)];
}

/**
 * The compressed ranges to fetch ahead for `chunks`: one per unit, in the order first asked for, without
 * chunks out of range or `held` (cached or being decoded), big units, and empty ranges.
 */
export function prefetchRanges(units: UnitTable, layout: ChunkLayout, sourceSize: number, chunks: ArrayLike<number>, held: (chunk: number) => boolean): ByteRange[] {
  const ranges: ByteRange[] = [];
  const seen = new Set<number>();
  for (let k = 0; k < chunks.length; k++) {
    const chunk = chunks[k];
    if (!Number.isSafeInteger(chunk) || chunk < 0 || chunk >= layout.count || held(chunk)) continue;
    const u = layout.unit[chunk];
    if (seen.has(u) || isBigUnit(units, u, layout.big)) continue;
    seen.add(u);
    const range = unitRange(units, sourceSize, u);
    if (range[1] > 0) ranges.push(range);
  }
  return ranges;
}
