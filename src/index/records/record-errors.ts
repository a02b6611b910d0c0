/**
 * The indexing pass's errors about one record: longer than `maxRecordBytes`, or a quote still open at
 * the end of the file. Both name the record, its line and its decompressed offset, and say the way out
 * for CSV files whose quotes are not RFC 4180 quoting.
 */
import { SeekdataError } from '../../errors.js';
import type { AnalyzeSpec } from './analyze.js';

/** Where a record is: its number, 1-based line and decompressed offset. */
export interface RecordPlace {
  record: number;
  line: number;
  offset: number;
}

function recordError(file: string, place: RecordPlace, problem: string): SeekdataError {
  return new SeekdataError('PARSE_ERROR', `${file}: record ${place.record} (line ${place.line}, decompressed byte ${place.offset}) ${problem}`, {
    file,
    record: place.record,
    offset: place.offset,
  });
}

export function recordTooLong(file: string, place: RecordPlace, limit: number, spec: AnalyzeSpec): SeekdataError {
  const hint =
    spec.kind === 'csv' && spec.quoting !== 'none'
      ? `; if a '"' in it opened a quoted field that never closes, the rest of the file ran into it: open a file whose quotes are not RFC 4180 quoting with quoting: 'none' (CLI --quoting none); else raise maxRecordBytes (--max-record-mb)`
      : '; raise maxRecordBytes (--max-record-mb) if records are really that long';
  return recordError(file, place, `is longer than maxRecordBytes (${limit} bytes)${hint}`);
}

export function unclosedQuote(file: string, place: RecordPlace): SeekdataError {
  return recordError(
    file,
    place,
    `opens a quoted field that is never closed (the file ends inside quotes): if its '"' is not RFC 4180 quoting, open the file with quoting: 'none' (CLI --quoting none) to read quotes as ordinary bytes`,
  );
}

/** Newline bytes in bytes[from, to). */
export function countNewlines(bytes: Uint8Array, from: number, to: number): number {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, to);
  let n = 0;
  for (let p = buf.indexOf(0x0a, from); p >= 0; p = buf.indexOf(0x0a, p + 1)) n++;
  return n;
}
