/** Options of the record layer: what a record is, where its time is, and what is stored in the index. */
import { invalidOption } from '../../errors.js';
import { checkBoolean, checkOneOf, checkPositiveInt } from '../../options.js';
import type { RecordKind } from './analyze.js';
import { QUOTINGS, type Quoting } from './csv.js';
import { TIME_FORMATS, ZoneOffsets, type TimeFormat } from './time.js';

export interface RecordOptions {
  /** What a record is: `'lines'` (every line), `'csv'` (RFC 4180), `'jsonl'` (one JSON value per line). Default `'lines'`. */
  records?: RecordKind;
  /** CSV: the first record is a header of column names (excluded from the records). Default true. */
  header?: boolean;
  /** CSV field delimiter, one ASCII character (fields are split on its byte). Default `','`. */
  delimiter?: string;
  /**
   * CSV: how `"` is read. `'rfc4180'` (default): it quotes fields, which may then hold delimiters,
   * newlines and `""` for a quote. `'none'`: it is an ordinary byte, for files whose quotes are not
   * RFC 4180 quoting (a stray `"` in a value would otherwise run the rest of the file into one record).
   * What a field's value is either way: README, "What a CSV value is".
   */
  quoting?: Quoting;
  /**
   * The longest record accepted, in bytes before its newline: a longer one (for CSV, usually an
   * unclosed quote running the rest of the file into one record) makes the indexing pass fail with a
   * PARSE_ERROR naming the record, its line and its decompressed offset. Checked when an index is
   * built, not when a saved one is loaded. Default 64 MiB.
   */
  maxRecordBytes?: number;
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
  quoting: Quoting;
  maxRecordBytes: number;
  timeColumn: string | number | undefined;
  timeFormat: TimeFormat;
  timeZone: string | undefined;
  /** Identity of a user time function (its source), so a changed function rebuilds the index. */
  timeFunction: string | undefined;
  strict: boolean;
  stats: boolean | string[];
}

export const DEFAULT_MAX_RECORD_BYTES = 64 << 20;

export function resolveRecordOptions(options: RecordOptions): ResolvedRecordOptions {
  const kind = checkOneOf('records', options.records ?? 'lines', ['lines', 'csv', 'jsonl'] as const);
  const delimiter = options.delimiter ?? ',';
  if (typeof delimiter !== 'string' || delimiter.length !== 1 || delimiter.charCodeAt(0) > 0x7f || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    // Fields are split on one byte: a character outside ASCII is several bytes in UTF-8 (and its code is no byte of them).
    throw invalidOption('delimiter', 'one ASCII character other than a quote or newline', delimiter);
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
    quoting: checkOneOf('quoting', options.quoting ?? 'rfc4180', QUOTINGS),
    maxRecordBytes: checkPositiveInt('maxRecordBytes', options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES),
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
    // Checks made while building: they do not change what the index holds.
    if (key === 'strict' || key === 'maxRecordBytes') continue;
    if (JSON.stringify(stored[key]) !== JSON.stringify(wanted[key])) return `${key} is ${JSON.stringify(stored[key]) ?? 'unset'} in the index, ${JSON.stringify(wanted[key]) ?? 'unset'} requested`;
  }
  return undefined;
}
