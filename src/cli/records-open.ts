/** Opening a file for the record commands: the record flags, or else the options the index was built with. */
import type { IndexedFile } from '../index/indexed-file.js';
import { openIndexed, storedRecordOptions } from '../index/open-indexed.js';
import type { RecordOptions } from '../index/records/options.js';
import { inferEpochUnit, parseTimeValue, TIME_FORMATS, type TimeFormat } from '../index/records/time.js';
import { stringFlag, UsageError, type Flags } from './args.js';
import { makeProgress, readerOptions, type CliIo } from './context.js';

export const RECORD_OPTIONS = {
  records: { type: 'string' },
  'no-header': { type: 'boolean' },
  delimiter: { type: 'string' },
  'time-column': { type: 'string' },
  'time-format': { type: 'string' },
  'time-zone': { type: 'string' },
  strict: { type: 'boolean' },
  'no-stats': { type: 'boolean' },
  stats: { type: 'string' },
} as const;

export const RECORD_HELP: Array<[string, string]> = [
  ['--records KIND', 'what a record is: lines (default), csv or jsonl'],
  ['--no-header', 'CSV: the first line is a record, not column names'],
  ['--delimiter C', 'CSV field delimiter (default ,)'],
  ['--time-column C', 'CSV column name or 0-based position, or JSONL field path, holding each record\'s time'],
  ['--time-format F', `${TIME_FORMATS.join('|')} (default auto: epoch by magnitude, else ISO-8601)`],
  ['--time-zone Z', 'IANA zone of ISO times without an offset (default UTC)'],
  ['--strict', 'unparsable timestamps are an error'],
  ['--no-stats', 'do not compute column statistics'],
  ['--stats LIST', 'statistics of these columns only (comma-separated; faster on wide files)'],
];

/** Record options given on the command line, or undefined when none was. */
export function recordFlags(flags: Flags): RecordOptions | undefined {
  const given = Object.keys(RECORD_OPTIONS).some((k) => flags[k] !== undefined);
  if (!given) return undefined;
  const kind = stringFlag(flags, 'records') ?? 'lines';
  if (kind !== 'lines' && kind !== 'csv' && kind !== 'jsonl') throw new UsageError(`--records must be lines, csv or jsonl, got ${JSON.stringify(kind)}`);
  const options: RecordOptions = { records: kind };
  if (flags['no-header'] === true) options.header = false;
  const delimiter = stringFlag(flags, 'delimiter');
  if (delimiter !== undefined) options.delimiter = delimiter === '\\t' ? '\t' : delimiter;
  const column = stringFlag(flags, 'time-column');
  if (column !== undefined) options.timeColumn = kind === 'csv' && /^\d+$/.test(column) && flags['no-header'] === true ? Number(column) : column;
  const format = stringFlag(flags, 'time-format');
  if (format !== undefined) {
    if (!(TIME_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--time-format must be one of ${TIME_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
    options.timeFormat = format as TimeFormat;
  }
  const zone = stringFlag(flags, 'time-zone');
  if (zone !== undefined) options.timeZone = zone;
  if (flags.strict === true) options.strict = true;
  if (flags['no-stats'] === true) options.stats = false;
  const statsList = stringFlag(flags, 'stats');
  if (statsList !== undefined) options.stats = statsList.split(',').map((c) => c.trim()).filter((c) => c.length > 0);
  return options;
}

/** Opens FILE with the record flags, or the options its index was built with, or plain lines. */
export async function openForRecords(io: CliIo, flags: Flags, file: string, extra: { rebuild?: boolean } = {}): Promise<IndexedFile> {
  const base = readerOptions(io, flags);
  const fromFlags = recordFlags(flags);
  const recordOptions = fromFlags ?? (await storedRecordOptions(file, base.index === undefined ? {} : { index: base.index })) ?? { records: 'lines' };
  const bar = makeProgress(io, flags, 'indexing');
  try {
    return await openIndexed(file, {
      ...base,
      ...recordOptions,
      onProgress: (p) => bar.update(p.bytesDone, p.bytesTotal),
      ...(extra.rebuild === true ? { rebuild: true } : {}),
    });
  } finally {
    bar.done();
  }
}

/**
 * Parses a CLI time strictly, with the index's own parser: an ISO-8601 date or date-time (UTC unless it
 * has an offset) or an epoch number (unit by magnitude, as in the index). Impossible dates and times
 * (2020-02-30, 25:00, 24:30) are usage errors, not rolled over into the next day or month.
 */
export function parseTimeArg(name: string, value: string | undefined): number {
  if (value === undefined) throw new UsageError(`--${name} is required`);
  const text = value.trim();
  let ms = NaN;
  if (/^[+-]?\d+(\.\d+)?$/.test(text)) ms = parseTimeValue(text, inferEpochUnit(Number(text)), undefined);
  // parseIso accepts 24:00 (the end of a day) but would roll 24:30 over into the next day.
  else if (/^\d{4}-\d{2}-\d{2}/.test(text) && !/^.{10}[Tt ]24:(?!00(:00([.,]0+)?)?([zZ+-]|$))/.test(text)) ms = parseTimeValue(text, 'iso', undefined);
  if (!(Math.abs(ms) <= MAX_TIME_MS)) {
    throw new UsageError(`--${name} must be an ISO-8601 date or time (2024-03-03, 2024-03-03T09:00:00Z) or an epoch number, got ${JSON.stringify(value)}`);
  }
  return ms;
}

/** The range of a JavaScript Date, in ms either side of the epoch. */
const MAX_TIME_MS = 8.64e15;
