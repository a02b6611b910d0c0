/**
 * Plain (uncompressed) text as a format module (format.ts), so the same datasets run on it: units are
 * fixed spans found by arithmetic, "decoding" one is reading it, and a prefix is a shorter read. Plain is
 * what detection falls back to (text without a known magic), so it has no signature.
 */
import type { ByteSource } from '../../sources/source.js';
import type { FormatModule } from '../format.js';
import { viewsWhole } from '../post.js';
import { sameUnits, UnitTableBuilder, type UnitTable } from '../units.js';

/** Span of a plain file's units. */
export const PLAIN_SPAN_BYTES = 1 << 20;

export function plainUnits(size: number): UnitTable {
  const builder = new UnitTableBuilder('plain');
  for (let at = 0; at < size; at += PLAIN_SPAN_BYTES) {
    const end = Math.min(size, at + PLAIN_SPAN_BYTES);
    builder.add(at, end, end - at, 0, 0);
  }
  return builder.build();
}

export const plainFormat: FormatModule<'plain'> = {
  name: 'plain',
  unitName: 'span',
  signature: undefined,
  offsetsInBits: false,
  units: (source: ByteSource) => Promise.resolve(plainUnits(source.size)),
  validate: async (units, source, fail) => sameUnits(plainUnits(source.size), units, source.name, fail),
  // The bytes as they are; a job moves them to its worker when the source says nobody else holds them
  // (`transfer`), else posts a copy (a source's arrays may be shared).
  task: async (source, units, u) => {
    const bytes = await source.read(units.cStart[u], units.cEnd[u] - units.cStart[u]);
    return { input: { kind: 'bytes', bytes }, transfer: source.ownsReads === true && viewsWhole(bytes) ? [bytes.buffer as ArrayBuffer] : [] };
  },
  prefix: (source, units, u, length) => source.read(units.cStart[u], Math.min(length, units.cEnd[u] - units.cStart[u])),
};
