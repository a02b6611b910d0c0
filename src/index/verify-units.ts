/**
 * Checking a chunk map loaded from an index file against the data, so that a crafted index cannot make
 * the reader hand out bytes from the wrong place. The structure was checked when it was loaded (store.ts:
 * lengths, ascending offsets, the format's extra columns present); what the units mean is the format's to
 * check (`FormatModule.validate`): xz and plain files derive it cheaply from the file itself and must
 * match; bzip2 checks every stream boundary the map implies in the file (bzip2/validate.ts). Each unit
 * is then verified by its own check when it is decoded.
 */
import { SeekdataError } from '../errors.js';
import { formatOf } from '../readers/formats.js';
import type { UnitTable } from '../readers/units.js';
import type { ByteSource } from '../sources/source.js';

export async function verifyUnits(units: UnitTable, source: ByteSource, indexPath: string): Promise<void> {
  // The index looked fresh (size, mtime and the first and last 64 KiB match), so either side may be at
  // fault: the data changed in the middle under the same size and mtime, or the index file is damaged.
  const fail = (what: string): SeekdataError =>
    new SeekdataError('CORRUPT_INDEX', `${indexPath}: the index and the data disagree (the data changed, or the index file is damaged): ${what}`, { file: indexPath });
  await formatOf(units.format).validate(units, source, fail);
}
