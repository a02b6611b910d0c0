/**
 * Record tails: per chunk, the bytes past its end that complete its last record, stored in the index so a
 * chunk's records can be parsed without the next chunk. A loaded tail is used only once it has been
 * compared with the data (record-index.ts).
 */
import type { RecordKind } from './records/analyze.js';

export interface RecordTails {
  bytes: Uint8Array;
  offsets: Float64Array;
  stored: Uint8Array;
}

/**
 * Whether `after`, the data from a chunk's end to the next record's start, agrees with the chunk's stored
 * `tail`: the tail is its start, and only blank lines may follow (the tail ends at its record's terminator).
 */
export function tailMatches(kind: RecordKind, tail: Uint8Array, after: Uint8Array): boolean {
  if (after.length < tail.length) return false;
  for (let k = 0; k < tail.length; k++) if (after[k] !== tail[k]) return false;
  const blank = (b: number): boolean => b === 0x0a || b === 0x0d || (kind === 'jsonl' && (b === 0x20 || b === 0x09));
  for (let k = tail.length; k < after.length; k++) if (kind === 'lines' || !blank(after[k])) return false;
  return true;
}
