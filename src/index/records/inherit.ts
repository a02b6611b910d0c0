/**
 * Record options belong to the data set, not to one index file: options a caller leaves unset are taken
 * from the stored index (fresh, stale or damaged, as long as its metadata is intact), given ones
 * override them. A different `records` kind starts from the defaults (the stored options describe
 * another kind of record); a different time column (or a time function) drops the stored time format
 * and zone; `null` clears a stored `timeColumn` (no time index) or `timeZone` (UTC). `strict` is a
 * per-call choice and is not inherited.
 */
import { SeekdataError } from '../../errors.js';
import { resolveRecordOptions, type RecordOptions, type ResolvedRecordOptions } from './options.js';

/** Record options as `openIndexed` takes them: unset ones come from the stored index; `null` clears a stored one. */
export interface InheritableRecordOptions extends Omit<RecordOptions, 'timeColumn' | 'timeZone'> {
  /** See RecordOptions.timeColumn; `null`: no time index, whatever the stored index had. */
  timeColumn?: string | number | null;
  /** See RecordOptions.timeZone; `null`: UTC, whatever the stored index had. */
  timeZone?: string | null;
}

/** The CLI flags and API options that describe a data set's records, for messages. */
export const RECORD_OPTIONS_HINT =
  "records ('csv', 'jsonl' or 'lines') and the header, delimiter, timeColumn, timeFormat, timeZone and stats it was indexed with " +
  '(CLI: --records KIND [--no-header] [--delimiter C] [--time-column C] [--time-format F] [--time-zone Z] [--stats LIST | --no-stats])';

function withoutNulls(given: InheritableRecordOptions): RecordOptions {
  const { timeColumn, timeZone, ...rest } = given;
  const out: RecordOptions = { ...rest };
  if (timeColumn !== null && timeColumn !== undefined) out.timeColumn = timeColumn;
  if (timeZone !== null && timeZone !== undefined) out.timeZone = timeZone;
  return out;
}

/** Checks the given options on their own (before anything is read), naming the field at fault. */
export function checkGivenRecordOptions(given: InheritableRecordOptions): void {
  if (typeof given !== 'object' || given === null) return;
  const probe = withoutNulls(given);
  // Without a kind, check the time column as CSV would (a name or a position).
  if (probe.records === undefined && (probe.timeColumn !== undefined || probe.header !== undefined || probe.delimiter !== undefined)) probe.records = 'csv';
  resolveRecordOptions(probe);
}

/** Stored options as the metadata holds them, checked; undefined when they fail the checks. */
export function parseStoredOptions(value: unknown): ResolvedRecordOptions | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { kind, timeFunction, strict, ...rest } = value as Record<string, unknown>;
  if (timeFunction !== undefined && typeof timeFunction !== 'string') return undefined;
  if (strict !== undefined && typeof strict !== 'boolean') return undefined;
  try {
    if (typeof kind !== 'string') return undefined;
    const resolved = resolveRecordOptions({ ...(rest as RecordOptions), records: kind as NonNullable<RecordOptions['records']>, ...(strict === undefined ? {} : { strict }) });
    if (timeFunction !== undefined && resolved.timeColumn !== undefined) return undefined;
    return { ...resolved, timeFunction };
  } catch {
    return undefined;
  }
}

export interface Inherited {
  options: RecordOptions;
  /** The stored index was built with a time function (which cannot be stored): its identity. */
  storedTimeFunction: string | undefined;
  /** Whether anything was taken from the stored options. */
  inherited: boolean;
}

/** The options to open with: the given ones over the stored ones (see the opening comment). */
export function inheritRecordOptions(given: InheritableRecordOptions, stored: ResolvedRecordOptions | undefined): Inherited {
  const kind = given.records ?? stored?.kind ?? 'lines';
  const header = given.header ?? (stored !== undefined && stored.kind === kind ? stored.header : kind === 'csv');
  const normalized = { ...given };
  // A digit string names a position in a CSV file without a header (as the CLI passes it).
  if (kind === 'csv' && !header && typeof normalized.timeColumn === 'string' && /^\d+$/.test(normalized.timeColumn)) normalized.timeColumn = Number(normalized.timeColumn);
  if (stored === undefined || stored.kind !== kind) return { options: withoutNulls(normalized), storedTimeFunction: undefined, inherited: false };
  const { kind: storedKind, timeFunction, ...rest } = stored;
  const out: Record<string, unknown> = { records: storedKind };
  for (const [key, value] of Object.entries(rest)) if (value !== undefined && key !== 'strict') out[key] = value;
  // A time column given (or cleared with null) other than the stored one, or a time function.
  const timeChanged = normalized.time !== undefined || (normalized.timeColumn !== undefined && normalized.timeColumn !== stored.timeColumn);
  if (timeChanged) {
    delete out.timeColumn;
    delete out.timeFormat;
    delete out.timeZone;
  }
  for (const [key, value] of Object.entries(normalized)) {
    if (value === null) delete out[key];
    else if (value !== undefined) out[key] = value;
  }
  const storedTimeFunction = timeFunction !== undefined && !timeChanged && normalized.timeColumn === undefined ? timeFunction : undefined;
  return { options: out as RecordOptions, storedTimeFunction, inherited: true };
}

/** "records csv, header, time column "ts", …": the options an index is (re)built with, for messages. */
export function describeRecordOptions(o: ResolvedRecordOptions): string {
  const parts = [`records ${o.kind}`];
  if (o.kind === 'csv') parts.push(o.header ? 'header' : 'no header', `delimiter ${JSON.stringify(o.delimiter)}`);
  if (o.timeColumn !== undefined) parts.push(`time column ${JSON.stringify(o.timeColumn)}`, `time format ${o.timeFormat}`);
  if (o.timeFunction !== undefined) parts.push('a time function');
  if (o.timeZone !== undefined) parts.push(`time zone ${o.timeZone}`);
  if (o.kind !== 'lines') parts.push(o.stats === false ? 'no stats' : o.stats === true ? 'stats' : `stats of ${o.stats.join(', ')}`);
  return parts.join(', ');
}

/** The error when an index must be rebuilt and the options it was built with cannot be read. */
export function unknownOptionsError(path: string, why: string, file: string): SeekdataError {
  return new SeekdataError(
    'CORRUPT_INDEX',
    `${path}: the record options of ${file} cannot be read from its index (${why}), so it cannot be rebuilt as it was: give them again: ${RECORD_OPTIONS_HINT}`,
    { file: path },
  );
}
