/**
 * The decoded-size limit (`maxDecodedBytes`, CLI `--max-decoded-mb`) against decompression bombs: a few
 * kilobytes of bzip2, xz, gzip or zstd can expand to terabytes. A size the file states before decoding (an
 * xz index, zstd content sizes and seek tables, BGZF ISIZE fields, the chunk map of an index file) is
 * refused before any unit is decoded; a size learnt only by decoding (a bzip2 scan, the checkpoint pass of
 * an ordinary gzip file, zstd frames that do not say their size) is checked on every chunk the scan yields,
 * so the scan stops within one chunk (and its lookahead) of the limit, never after decoding everything.
 */
import { SeekdataError } from '../errors.js';
import { formatOf } from './formats.js';
import { limitText, mb } from './limit-scan.js';
import type { UnitTable } from './units.js';

export { scanLimit } from './limit-scan.js';

/**
 * Refuses a chunk map whose decoded size passes `limit` (undefined: no limit), before anything is decoded:
 * LIMIT_EXCEEDED naming the file, the limit, and the unit (with its compressed byte) where the size passes it.
 */
export function checkKnownSize(units: UnitTable, file: string, limit: number | undefined, from: string): void {
  if (limit === undefined) return;
  const total = units.dStart[units.count];
  if (total <= limit) return;
  let u = 0;
  while (u < units.count - 1 && units.dStart[u + 1] <= limit) u++;
  const format = formatOf(units.format);
  const cStart = format.offsetsInBits ? Math.floor(units.cStart[u] / 8) : units.cStart[u];
  throw new SeekdataError(
    'LIMIT_EXCEEDED',
    `${file}: decodes to ${total} bytes (${mb(total)}, as ${from} says), more than ${limitText(limit)}: passed in ${format.unitName} ${u} at compressed byte ${cStart}; refused before decoding`,
    { file, offset: limit, compressedOffset: cStart },
  );
}
