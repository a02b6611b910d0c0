/**
 * Opening a file for the record commands. Record flags not given are taken from the data set's stored
 * index (openIndexed inherits them), so `--time-zone Europe/Paris` alone keeps `--records csv
 * --time-column ts`; `--header` and `--no-time-column` clear stored choices.
 */
import type { Progress } from '../readers/discover.js';
import { namesCollection } from '../index/collection-list.js';
import type { IndexedCollection } from '../index/indexed-collection.js';
import type { IndexedFile } from '../index/indexed-file.js';
import { openCollection } from '../index/open-collection.js';
import { openIndexed } from '../index/open-indexed.js';
import type { InheritableRecordOptions } from '../index/records/inherit.js';
import { parseTimeText, TIME_BOUND_FORMS } from '../index/records/time-bound.js';
import { TIME_FORMATS, type TimeFormat } from '../index/records/time.js';
import { choiceFlag, stringFlag, UsageError, type Flags } from './args.js';
import { makeProgress, noteDamage, readerOptions, type CliIo } from './context.js';

/** The flags that choose what a record is (given ones override the stored index's). */
const RECORD_ONLY_OPTIONS = {
  records: { type: 'string' },
  header: { type: 'boolean' },
  'no-header': { type: 'boolean' },
  delimiter: { type: 'string' },
  quoting: { type: 'string' },
  'max-record-mb': { type: 'string' },
  'time-column': { type: 'string' },
  'no-time-column': { type: 'boolean' },
  'time-format': { type: 'string' },
  'time-zone': { type: 'string' },
  strict: { type: 'boolean' },
  'no-stats': { type: 'boolean' },
  stats: { type: 'string' },
} as const;

/** The flags of the record commands: what a record is, and what to do with bad files of a collection. */
export { namesCollection };

export const RECORD_OPTIONS = { ...RECORD_ONLY_OPTIONS, 'on-bad-file': { type: 'string' } } as const;

export const RECORD_HELP: Array<[string, string]> = [
  ['--records KIND', 'what a record is: lines (default), csv or jsonl'],
  ['--header / --no-header', 'CSV: the first line holds column names (default) / is a record'],
  ['--delimiter C', 'CSV field delimiter (default ,)'],
  ['--quoting MODE', 'CSV: rfc4180 (default: " quotes fields) or none (" is an ordinary byte)'],
  ['--max-record-mb N', 'a record longer than N MiB (e.g. an unclosed quote) is an error (default 64)'],
  ['--time-column C', 'CSV column name or 0-based position, or JSONL field path, holding each record\'s time'],
  ['--no-time-column', 'no time index (drops a stored --time-column)'],
  ['--time-format F', `${TIME_FORMATS.join('|')} (default auto: epoch by magnitude, else ISO-8601)`],
  ['--time-zone Z', 'IANA zone of ISO times without an offset (default UTC)'],
  ['--strict', 'unparsable timestamps are an error'],
  ['--no-stats', 'do not compute column statistics'],
  ['--stats LIST', 'statistics of these columns only (comma-separated; faster on wide files)'],
  ['', 'record flags not given keep the values the index was built with'],
  ['--on-bad-file M', "collections: error (default) or skip (a file that cannot be opened is left out, with a warning)"],
];


/** Record options given on the command line (only those given), or undefined when none was. */
export function recordFlags(flags: Flags): InheritableRecordOptions | undefined {
  const given = Object.keys(RECORD_ONLY_OPTIONS).some((k) => flags[k] !== undefined);
  if (!given) return undefined;
  const options: InheritableRecordOptions = {};
  const kind = choiceFlag(flags, 'records', ['lines', 'csv', 'jsonl'] as const);
  if (kind !== undefined) options.records = kind;
  if (flags.header === true && flags['no-header'] === true) throw new UsageError('--header and --no-header contradict each other');
  if (flags.header === true) options.header = true;
  if (flags['no-header'] === true) options.header = false;
  const delimiter = stringFlag(flags, 'delimiter');
  if (delimiter !== undefined) options.delimiter = delimiter === '\\t' ? '\t' : delimiter;
  const quoting = choiceFlag(flags, 'quoting', ['rfc4180', 'none'] as const);
  if (quoting !== undefined) options.quoting = quoting;
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
  if (column !== undefined && flags['no-time-column'] === true) throw new UsageError('--time-column and --no-time-column contradict each other');
  // A digit string is a position in a CSV file without a header (resolved once the kind is known).
  if (column !== undefined) options.timeColumn = column;
  if (flags['no-time-column'] === true) options.timeColumn = null;
  const format = choiceFlag<TimeFormat>(flags, 'time-format', TIME_FORMATS);
  if (format !== undefined) options.timeFormat = format;
  const zone = stringFlag(flags, 'time-zone');
  if (zone !== undefined) options.timeZone = zone;
  if (flags.strict === true) options.strict = true;
  if (flags['no-stats'] === true) options.stats = false;
  const statsList = stringFlag(flags, 'stats');
  if (statsList !== undefined) options.stats = statsList.split(',').map((c) => c.trim()).filter((c) => c.length > 0);
  return options;
}

/**
 * Opens FILE with the record flags given, the rest as its index was built (or the defaults for a new one);
 * a glob, directory, manifest or `s3://` prefix as a collection (each file as its own index says).
 */
export async function openForRecords(
  io: CliIo,
  flags: Flags,
  file: string,
  extra: { rebuild?: boolean; upload?: boolean; manifest?: 'refresh'; lazy?: boolean } = {},
): Promise<IndexedFile | IndexedCollection> {
  const base = readerOptions(io, flags);
  const bar = makeProgress(io, flags, 'indexing', { unit: 'bytes' });
  const options = {
    ...base,
    ...(recordFlags(flags) ?? {}),
    onProgress: (p: Progress) => bar.update(p.bytesDone, p.bytesTotal, p.decodedBytes),
    ...(extra.rebuild === true ? { rebuild: true } : {}),
    ...(extra.upload === true ? { indexUpload: true } : {}),
  };
  try {
    if (await namesCollection(file)) {
      const onBadFile = choiceFlag(flags, 'on-bad-file', ['error', 'skip'] as const) ?? 'error';
      // Opened from its manifest, a collection keeps its files closed until read only for the commands that
      // open what they need themselves (`lazy`); the others get every file open, as without a manifest.
      const collection = await openCollection(file, { ...options, onBadFile, lazy: extra.lazy === true, ...(extra.manifest === undefined ? {} : { manifest: extra.manifest }) });
      return collection;
    }
    if (flags['on-bad-file'] !== undefined) throw new UsageError(`--on-bad-file applies to collections (a glob, directory, @manifest or s3:// prefix), and ${file} is one file`);
    const indexed = await openIndexed(file, options);
    noteDamage(io, indexed.reader);
    return indexed;
  } finally {
    bar.done();
  }
}

/**
 * Parses a CLI time strictly, as TimeRangeDataset does (time-bound.ts): an ISO-8601 date or date-time
 * (UTC unless it has an offset) or an epoch number (unit by magnitude, as in the index).
 */
export function parseTimeArg(name: string, value: string | undefined): number {
  if (value === undefined) throw new UsageError(`--${name} is required`);
  const ms = parseTimeText(value);
  if (ms === undefined) throw new UsageError(`--${name} must be ${TIME_BOUND_FORMS}, got ${JSON.stringify(value)}`);
  return ms;
}
