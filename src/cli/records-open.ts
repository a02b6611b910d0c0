/** Opening a file for the record commands: the record flags, or else the options the index was built with. */
import type { IndexedFile } from '../index/indexed-file.js';
import { openIndexed, storedRecordOptions } from '../index/open-indexed.js';
import type { RecordOptions } from '../index/records/options.js';
import { TIME_FORMATS, type TimeFormat } from '../index/records/time.js';
import { stringFlag, UsageError, type Flags } from './args.js';
import { makeProgress, readerOptions, type CliIo } from './context.js';

export const RECORD_OPTIONS = {
  records: { type: 'string' },
  'no-header': { type: 'boolean' },
  delimiter: { type: 'string' },
  quoting: { type: 'string' },
  'max-record-mb': { type: 'string' },
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
  ['--quoting MODE', 'CSV: rfc4180 (default: " quotes fields) or none (" is an ordinary byte)'],
  ['--max-record-mb N', 'a record longer than N MiB (e.g. an unclosed quote) is an error (default 64)'],
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
  const quoting = stringFlag(flags, 'quoting');
  if (quoting !== undefined) {
    if (quoting !== 'rfc4180' && quoting !== 'none') throw new UsageError(`--quoting must be rfc4180 or none, got ${JSON.stringify(quoting)}`);
    options.quoting = quoting;
  }
  const maxRecordMb = stringFlag(flags, 'max-record-mb');
  if (maxRecordMb !== undefined) {
    const mb = Number(maxRecordMb);
    const bytes = Math.floor(mb * 2 ** 20);
    if (!/^\d+(\.\d+)?$/.test(maxRecordMb) || !Number.isSafeInteger(bytes) || bytes < 1) {
      throw new UsageError(`--max-record-mb must be a positive number of MiB, got ${JSON.stringify(maxRecordMb)}`);
    }
    options.maxRecordBytes = bytes;
  }
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

/** Parses a CLI time: ISO-8601 (UTC unless it has an offset) or an epoch number (unit by magnitude). */
export function parseTimeArg(name: string, value: string | undefined): number {
  if (value === undefined) throw new UsageError(`--${name} is required`);
  if (/^[+-]?\d+(\.\d+)?$/.test(value)) {
    const n = Number(value);
    const v = Math.abs(n);
    return v < 1e11 ? n * 1000 : v < 1e14 ? n : v < 1e17 ? n / 1e3 : n / 1e6;
  }
  const withZone = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : /[zZ]|[+-]\d{2}:?\d{2}$/.test(value) ? value : `${value}Z`;
  const ms = Date.parse(withZone);
  if (Number.isNaN(ms)) throw new UsageError(`--${name} must be an ISO-8601 time or an epoch number, got ${JSON.stringify(value)}`);
  return ms;
}
