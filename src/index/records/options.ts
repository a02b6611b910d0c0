/** Options of the record layer: what a record is, where its time is, and what is stored in the index. */
import { invalidOption } from '../../errors.js';
import { checkBoolean, checkOneOf } from '../../options.js';
import type { RecordKind } from './analyze.js';
import { TIME_FORMATS, ZoneOffsets, type TimeFormat } from './time.js';

export interface RecordOptions {
  /** What a record is: `'lines'` (every line), `'csv'` (RFC 4180), `'jsonl'` (one JSON value per line). Default `'lines'`. */
  records?: RecordKind;
  /** CSV: the first record is a header of column names (excluded from the records). Default true. */
  header?: boolean;
  /** CSV field delimiter, one character. Default `','`. */
  delimiter?: string;
  /**
   * Where each record's time is: a CSV column name or 0-based position, or a JSONL field path
   * (`'meta.ts'`). Default: no timestamp index.
   */
  timeColumn?: string | number;
  /** Format of the time field. Default `'auto'` (epoch numbers by magnitude, else ISO-8601). */
  timeFormat?: TimeFormat;
  /** IANA time zone of ISO-8601 times without an offset. Default UTC. */
  timeZone?: string;
  /** A function giving a record's time (epoch ms or Date) from its text, instead of `timeColumn`. */
  time?: (record: string) => number | Date;
  /** Unparsable timestamps are an error (`PARSE_ERROR` naming the record) instead of being counted and skipped. Default false. */
  strict?: boolean;
  /**
   * Column statistics (and categories): `true` for every column (CSV) or field (JSONL), a list of column
   * names / field paths for only those (a faster indexing pass on wide files), or `false`. Default true
   * for CSV and JSONL.
   */
  stats?: boolean | string[];
}

export interface ResolvedRecordOptions {
  kind: RecordKind;
  header: boolean;
  delimiter: string;
  timeColumn: string | number | undefined;
  timeFormat: TimeFormat;
  timeZone: string | undefined;
  /** Identity of a user time function (its source), so a changed function rebuilds the index. */
  timeFunction: string | undefined;
  strict: boolean;
  stats: boolean | string[];
}

export function resolveRecordOptions(options: RecordOptions): ResolvedRecordOptions {
  const kind = checkOneOf('records', options.records ?? 'lines', ['lines', 'csv', 'jsonl'] as const);
  const delimiter = options.delimiter ?? ',';
  if (typeof delimiter !== 'string' || delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw invalidOption('delimiter', 'one character other than a quote or newline', delimiter);
  }
  const timeColumn = options.timeColumn;
  if (timeColumn !== undefined) {
    if (kind === 'lines') throw invalidOption('timeColumn', "unset for records: 'lines' (use the time function)", timeColumn);
    const ok = (typeof timeColumn === 'string' && timeColumn.length > 0) || (typeof timeColumn === 'number' && Number.isSafeInteger(timeColumn) && timeColumn >= 0);
    if (!ok || (kind === 'jsonl' && typeof timeColumn !== 'string')) {
      throw invalidOption('timeColumn', kind === 'jsonl' ? 'a field path' : 'a column name or 0-based position', timeColumn);
    }
  }
  if (options.time !== undefined && typeof options.time !== 'function') throw invalidOption('time', 'a function', options.time);
  if (options.time !== undefined && timeColumn !== undefined) throw invalidOption('time', 'unset when timeColumn is set', 'a function');
  const timeZone = options.timeZone;
  if (timeZone !== undefined) {
    try {
      new ZoneOffsets(timeZone);
    } catch {
      throw invalidOption('timeZone', 'an IANA time zone name such as "Europe/Paris"', timeZone);
    }
  }
  return {
    kind,
    header: checkBoolean('header', options.header ?? kind === 'csv'),
    delimiter,
    timeColumn,
    timeFormat: checkOneOf('timeFormat', options.timeFormat ?? 'auto', TIME_FORMATS),
    timeZone,
    timeFunction: options.time?.toString(),
    strict: checkBoolean('strict', options.strict ?? false),
    stats: resolveStats(options.stats, kind),
  };
}

function resolveStats(stats: unknown, kind: RecordKind): boolean | string[] {
  if (stats === undefined) return kind !== 'lines';
  if (Array.isArray(stats)) {
    if (!stats.every((s) => typeof s === 'string' && s.length > 0)) throw invalidOption('stats', 'true, false or a list of column names', stats);
    return [...new Set(stats as string[])];
  }
  return checkBoolean('stats', stats);
}

/** Why stored options differ from the requested ones, or undefined when they match. */
export function optionsDifference(stored: ResolvedRecordOptions, wanted: ResolvedRecordOptions): string | undefined {
  for (const key of Object.keys(wanted) as Array<keyof ResolvedRecordOptions>) {
    if (key === 'strict') continue;
    if (JSON.stringify(stored[key]) !== JSON.stringify(wanted[key])) return `${key} is ${JSON.stringify(stored[key]) ?? 'unset'} in the index, ${JSON.stringify(wanted[key]) ?? 'unset'} requested`;
  }
  return undefined;
}
