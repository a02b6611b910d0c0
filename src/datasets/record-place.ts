/**
 * Naming a record where the user can find it: for a collection, the member file and the record's number in
 * that file (with the collection-wide number added), not the glob and the collection number. Used for the
 * errors (PARSE_ERROR, MAP_ERROR) and the skip warnings of datasets.
 */
import { isSeekdataError, SeekdataError } from '../errors.js';
import type { Indexed } from '../index/indexed.js';

/** Where record `record` of `data` is: `file: record j` (`… (collection record n)` for a collection member). */
export function recordPlace(data: Indexed, record: number): { file: string; local: number; suffix: string } {
  if (!Number.isSafeInteger(record) || record < 0 || record >= data.records.count) return { file: data.name, local: record, suffix: '' };
  // Named without the file being open: the error may come after its collection was closed.
  const home = data.fileOf(record);
  const local = record - home.first;
  if (home.name === data.name && home.first === 0) return { file: data.name, local, suffix: '' };
  return { file: home.name, local, suffix: ` (collection record ${record})` };
}

/** A warning's "record n" for `data`: the member file and its own record number in a collection. */
export function describeRecord(data: Indexed, record: number): string {
  const place = recordPlace(data, record);
  return place.file === data.name && place.suffix === '' ? `record ${record}` : `${place.file}: record ${place.local}${place.suffix}`;
}

/**
 * An error about one record of a collection, restated to name the member file and its record number;
 * other errors (and those of single files) unchanged.
 */
export function relocateError(data: Indexed, error: unknown): unknown {
  if (!isSeekdataError(error) || error.record === undefined || error.file !== data.name) return error;
  const place = recordPlace(data, error.record);
  if (place.suffix === '') return error;
  const prefix = `${data.name}: `;
  const body = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  const one = new RegExp(`\\brecord ${error.record}(?![0-9])`);
  // A batched map call may span files: its collection numbers stay, the first record's file is named beside.
  const text = one.test(body) ? `${body.replace(one, `record ${place.local}`)}${place.suffix}` : `${body} (the first in ${place.file}, its record ${place.local})`;
  return new SeekdataError(error.code, `${one.test(body) ? place.file : data.name}: ${text}`, { file: place.file, record: place.local, cause: error });
}
