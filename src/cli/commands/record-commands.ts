/** The record commands: index (with records), records, range, stats. */
import { SeekdataError } from '../../errors.js';
import { IndexedCollection } from '../../index/indexed-collection.js';
import type { Indexed } from '../../index/indexed.js';
import { storedRecordOptions } from '../../index/open-indexed.js';
import { openReader } from '../../index/open-reader.js';
import { COMMON_HELP, COMMON_OPTIONS, intFlag, stringFlag, UsageError, type CommandSpec, type Flags } from '../args.js';
import { formatBytes, makeProgress, noteDamage, noteNotSaved, readerOptions, recordJson, writeOut, type CliIo } from '../context.js';
import { statsTable } from '../stats-table.js';
import { printCollectionIndex } from '../collection-report.js';
import { namesCollection, openForRecords, parseTimeArg, RECORD_HELP, RECORD_OPTIONS, recordFlags } from '../records-open.js';

export const indexSpec: CommandSpec = {
  name: 'index',
  summary: 'Build (or refresh) the index of FILE and save it: the chunk map, and with --records the record offsets, timestamps and column statistics. FILE may be a collection (a quoted glob, a directory, @manifest, s3://bucket/prefix/): each file gets its own index, built in parallel.',
  usage: 'seekdata index FILE [--records csv|lines|jsonl] [--no-header] [--time-column C] [--time-format F] [--rebuild] [--upload] [--json]',
  options: { ...COMMON_OPTIONS, ...RECORD_OPTIONS, rebuild: { type: 'boolean' }, upload: { type: 'boolean' } },
  optionHelp: [
    ...RECORD_HELP,
    ['--rebuild', 'build a new index even when a fresh one exists'],
    ['--upload', 's3:// objects: also put each index beside its object (<key>.sdx), so other hosts download it instead of building it'],
    ['--json', 'print the report as JSON'],
    ...COMMON_HELP,
  ],
  examples: [
    'seekdata index events.csv.bz2 --records csv --time-column time',
    'seekdata index logs.jsonl.xz --records jsonl --time-column meta.ts --time-format ms',
    'seekdata index big.txt.bz2',
    "seekdata index 'data/*.csv.gz' --records csv --time-column ts",
    "seekdata index 's3://bucket/p/*.csv.gz' --records csv --upload",
  ],
  minPositionals: 1,
  maxPositionals: 1,
};

const iso = (ms: number | undefined): string => (ms === undefined ? '-' : new Date(ms).toISOString());

export async function runIndex(io: CliIo, flags: Flags, [file]: string[]): Promise<void> {
  const started = performance.now();
  // The record layer when record flags are given or the data set's index has record options (so
  // `index --rebuild` rebuilds it as it was); else the chunk map alone (random byte access).
  const index = readerOptions(io, flags).index;
  const upload = flags.upload === true;
  if (await namesCollection(file)) {
    // Every file opened (its index loaded, or built) and a new collection manifest written.
    const collection = await openForRecords(io, flags, file, { rebuild: flags.rebuild === true, upload, manifest: 'refresh' });
    try {
      if (collection instanceof IndexedCollection) return await printCollectionIndex(io, flags, collection);
    } finally {
      await collection.close();
    }
  }
  if (recordFlags(flags) === undefined && (await storedRecordOptions(file, index === undefined ? {} : { index })) === undefined) {
    const bar = makeProgress(io, flags, 'indexing', { unit: 'bytes' });
    // recordChecks: frames without a checksum (zstd --no-check) get their CRC-32 recorded in the index.
    const reader = await openReader(file, { ...readerOptions(io, flags, bar), rebuild: flags.rebuild === true, recordChecks: true, ...(upload ? { indexUpload: true } : {}) });
    bar.done();
    const info = reader.info();
    noteDamage(io, reader);
    await reader.close();
    const seconds = (performance.now() - started) / 1000;
    if (info.index.status === 'none') noteNotSaved(io, info.file);
    if (flags.json === true) return writeOut(io.stdout, JSON.stringify({ ...info, seconds }, null, 2) + '\n');
    const verb = info.index.status === 'loaded' ? 'index is fresh' : info.index.status === 'none' ? 'index not saved' : `index ${info.index.status}`;
    return writeOut(io.stdout, `${info.file}: ${info.format}, ${info.units} chunks, ${formatBytes(info.size)} decompressed; ${verb}${info.index.path === undefined ? '' : ` (${info.index.path})`} in ${seconds.toFixed(2)} s\n`);
  }
  const indexed = await openForRecords(io, flags, file, { rebuild: flags.rebuild === true, upload });
  if (indexed instanceof IndexedCollection) {
    await indexed.close();
    throw new Error(`internal: ${file} opened as a collection`);
  }
  const report = indexed.report;
  const info = indexed.info();
  await indexed.close();
  if (report.status === 'none') noteNotSaved(io, info.file);
  if (flags.json === true) return writeOut(io.stdout, JSON.stringify({ ...info, report }, null, 2) + '\n');
  const lines = [
    `${info.file}: ${report.records} records (${indexed.options.kind}), ${info.format}, ${formatBytes(info.size)} decompressed`,
    `  index ${report.status}${report.indexPath === undefined ? ' (not saved)' : `: ${report.indexPath}`}, ${report.indexBytes === undefined ? '?' : formatBytes(report.indexBytes)}, in ${report.seconds.toFixed(2)} s`,
  ];
  if (indexed.columns.length > 0) lines.push(`  columns: ${indexed.columns.join(', ')}`);
  const t = report.time;
  if (t !== undefined) {
    lines.push(`  time (${t.column ?? 'function'}, ${t.format}${t.zone === undefined ? '' : `, ${t.zone}`}): ${iso(t.first)} .. ${iso(t.last)}, ${t.sorted ? 'sorted' : 'not sorted (a sorted permutation is kept)'}`);
    lines.push(`  unparsable timestamps: ${t.unparsable}${t.unparsableExamples.length > 0 ? ` (e.g. record ${t.unparsableExamples[0].record}: ${JSON.stringify(t.unparsableExamples[0].text)})` : ''}`);
  }
  return writeOut(io.stdout, lines.join('\n') + '\n');
}

export const recordsSpec: CommandSpec = {
  name: 'records',
  summary: 'Print records I..I+K-1 of FILE (fewer at its end), one per line, byte for byte as they are in the file.',
  usage: 'seekdata records FILE --from I [--count K] [--json]',
  options: { ...COMMON_OPTIONS, ...RECORD_OPTIONS, from: { type: 'string' }, count: { type: 'string', short: 'n' } },
  optionHelp: [['--from I', 'first record number (0-based, required)'], ['-n, --count K', 'number of records (default 10)'], ['--json', 'print {record, text} objects, one per line ({record, base64} for a record that is not valid UTF-8)'], ...RECORD_HELP, ...COMMON_HELP],
  examples: ['seekdata records events.csv.bz2 --from 1000000 --count 5', 'seekdata records logs.jsonl.xz --records jsonl --from 0'],
  minPositionals: 1,
  maxPositionals: 1,
};

const NEWLINE = Buffer.from('\n');

/**
 * Prints records: their bytes exactly, one per line (no decoding: invalid UTF-8 stays as it is in the
 * file), or with --json one object per line (see recordJson), with the record's time when `time` is given.
 */
async function printRecords(io: CliIo, flags: Flags, file: Indexed, numbers: ArrayLike<number>, time?: (record: number) => number): Promise<void> {
  const batch = 4096;
  const bar = makeProgress(io, flags, 'printing', { output: true, unit: 'records', total: numbers.length });
  for (let k = 0; k < numbers.length; k += batch) {
    bar.update(k);
    const part = Array.from({ length: Math.min(batch, numbers.length - k) }, (_, j) => numbers[k + j]);
    const records = await file.records.getMany(part);
    if (flags.json === true) {
      const lines = records.map((r, j) => JSON.stringify({ record: part[j], ...(time === undefined ? {} : { time: new Date(time(part[j])).toISOString() }), ...recordJson(r) }));
      await writeOut(io.stdout, lines.join('\n') + '\n');
    } else {
      await writeOut(io.stdout, Buffer.concat(records.flatMap((r) => [r, NEWLINE])));
    }
  }
  bar.update(numbers.length);
  bar.done();
}

export async function runRecords(io: CliIo, flags: Flags, [path]: string[]): Promise<void> {
  const from = intFlag(flags, 'from', { min: 0 });
  if (from === undefined) throw new UsageError('records: --from is required');
  const count = intFlag(flags, 'count', { min: 0 }) ?? 10;
  const file = await openForRecords(io, flags, path);
  try {
    if (from >= file.records.count && count > 0) {
      throw new SeekdataError('OUT_OF_RANGE', `${path}: record ${from} is past the end (${file.records.count} records)`, { file: path, record: from });
    }
    const to = Math.min(file.records.count, from + count);
    await printRecords(io, flags, file, Array.from({ length: to - from }, (_, k) => from + k));
  } finally {
    await file.close();
  }
}

export const rangeSpec: CommandSpec = {
  name: 'range',
  summary: 'Print the records of FILE with time in [T0, T1), in time order (needs a timestamp index).',
  usage: 'seekdata range FILE --from T0 --to T1 [--limit N] [--count-only] [--json]',
  options: { ...COMMON_OPTIONS, ...RECORD_OPTIONS, from: { type: 'string' }, to: { type: 'string' }, limit: { type: 'string' }, 'count-only': { type: 'boolean' } },
  optionHelp: [
    ['--from T0', 'start time, inclusive: ISO-8601 (UTC unless it has an offset) or epoch s/ms/us/ns'],
    ['--to T1', 'end time, exclusive'],
    ['--limit N', 'print at most N records'],
    ['--count-only', 'print only the number of records in the range'],
    ['--json', 'print {record, time, text} objects, one per line ({record, time, base64} for a record that is not valid UTF-8)'],
    ...RECORD_HELP,
    ...COMMON_HELP,
  ],
  examples: ['seekdata range ticks.csv.xz --from 2024-03-03T09:00 --to 2024-03-03T09:05', 'seekdata range events.csv.bz2 --time-column ts --records csv --from 1709456400 --to 1709456700 --limit 20'],
  minPositionals: 1,
  maxPositionals: 1,
};

export async function runRange(io: CliIo, flags: Flags, [path]: string[]): Promise<void> {
  const t0 = parseTimeArg('from', stringFlag(flags, 'from'));
  const t1 = parseTimeArg('to', stringFlag(flags, 'to'));
  if (t0 > t1) throw new UsageError(`range: --from (${new Date(t0).toISOString()}) is after --to (${new Date(t1).toISOString()})`);
  const limit = intFlag(flags, 'limit', { min: 0 });
  const file = await openForRecords(io, flags, path, { lazy: true });
  try {
    if (file.time === undefined) {
      throw new UsageError(`range: ${file.name} has no timestamp index; build one with \`seekdata index ${file.name} --records csv --time-column COLUMN\``);
    }
    // A collection opened from its manifest opens only the files whose time spans meet the range.
    if (file instanceof IndexedCollection) await file.prepare({ from: t0, to: t1 });
    const numbers = file.range(t0, t1, limit);
    if (flags['count-only'] === true) return await writeOut(io.stdout, `${numbers.length}\n`);
    const time = file.time;
    await printRecords(io, flags, file, numbers, (record) => time.timeOf(record));
  } finally {
    await file.close();
  }
}

export const statsSpec: CommandSpec = {
  name: 'stats',
  summary: 'Print the column statistics of FILE from its index: count, missing, min, max, mean and std of numeric columns; top values of text columns.',
  usage: 'seekdata stats FILE [--json]',
  options: { ...COMMON_OPTIONS, ...RECORD_OPTIONS },
  optionHelp: [['--json', 'print as JSON'], ...RECORD_HELP, ...COMMON_HELP],
  examples: ['seekdata stats events.csv.bz2 --records csv', 'seekdata stats events.csv.bz2 --json'],
  minPositionals: 1,
  maxPositionals: 1,
};

export async function runStats(io: CliIo, flags: Flags, [path]: string[]): Promise<void> {
  const file = await openForRecords(io, flags, path);
  const stats = file.stats;
  const records = file.records.count;
  await file.close();
  if (flags.json === true) return writeOut(io.stdout, JSON.stringify({ file: file.name, records, columns: stats }, null, 2) + '\n');
  if (stats.length === 0) return writeOut(io.stdout, `${file.name}: no column statistics (index it with --records csv or jsonl)\n`);
  const t = file.report.time;
  return writeOut(io.stdout, statsTable(file.name, records, stats, t === undefined ? undefined : { column: t.column, first: t.first, last: t.last }));
}
