/**
 * Request coalescing: ranges needed together (the chunks of one batch) that lie next to each other, or
 * close enough that downloading the gap costs less than another request, are fetched with one GET and
 * split afterwards. A group never grows past `maxRequestBytes`, and a gap larger than `maxGapBytes`
 * always starts a new group. Overlapping and repeated ranges are fine (each gets its own answer).
 */
import { invalidOption } from '../errors.js';

export interface CoalesceOptions {
  /** Largest gap, in bytes, between two ranges fetched with one request (downloaded and dropped). Default 64 KiB. */
  maxGapBytes?: number;
  /** Largest single request, in bytes (a range longer than this is still fetched whole, alone). Default 16 MiB. */
  maxRequestBytes?: number;
}

export type ResolvedCoalesce = Required<CoalesceOptions>;

export const COALESCE_DEFAULTS: ResolvedCoalesce = { maxGapBytes: 64 << 10, maxRequestBytes: 16 << 20 };

export function resolveCoalesce(options: CoalesceOptions | undefined): ResolvedCoalesce {
  const merged = { ...COALESCE_DEFAULTS, ...(options ?? {}) };
  for (const key of ['maxGapBytes', 'maxRequestBytes'] as const) {
    const value = merged[key];
    if (!Number.isSafeInteger(value) || value < (key === 'maxRequestBytes' ? 1 : 0)) throw invalidOption(`coalesce.${key}`, 'a non-negative integer', value);
  }
  return merged;
}

/** One request of a plan: the span fetched and the ranges (by their index in the caller's list) it serves. */
export interface RangeGroup {
  offset: number;
  length: number;
  members: number[];
}

/** Groups ranges (`[offset, length]`, length > 0) into requests. Groups come in offset order. */
export function planRanges(ranges: ReadonlyArray<readonly [number, number]>, options: ResolvedCoalesce): RangeGroup[] {
  const order = ranges.map((_, i) => i).sort((a, b) => ranges[a][0] - ranges[b][0] || ranges[a][1] - ranges[b][1]);
  const groups: RangeGroup[] = [];
  let current: RangeGroup | undefined;
  for (const i of order) {
    const [offset, length] = ranges[i];
    const end = offset + length;
    if (current !== undefined) {
      const currentEnd = current.offset + current.length;
      const newEnd = Math.max(currentEnd, end);
      if (offset - currentEnd <= options.maxGapBytes && newEnd - current.offset <= options.maxRequestBytes) {
        current.length = newEnd - current.offset;
        current.members.push(i);
        continue;
      }
    }
    current = { offset, length, members: [i] };
    groups.push(current);
  }
  return groups;
}
