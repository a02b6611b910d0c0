/** The reader commands: info, cat, read. */
import { IndexedCollection } from '../../index/indexed-collection.js';
import type { IndexedInfo } from '../../index/indexed-file.js';
import { listCollection } from '../../index/collection-list.js';
import { storedRecordOptions } from '../../index/open-indexed.js';
import { openReader } from '../../index/open-reader.js';
import type { Input } from '../../readers/input.js';
import type { ReaderInfo } from '../../readers/reader.js';
import { COMMON_HELP, COMMON_OPTIONS, COMMON_OPTIONS_NO_JSON, intFlag, UsageError, type CommandSpec, type Flags } from '../args.js';
import { formatBytes, makeProgress, noteDamage, readerOptions, writeOut, type CliIo } from '../context.js';
import { printCollectionInfo } from '../collection-report.js';
import { namesCollection, openForRecords, RECORD_HELP, RECORD_OPTIONS, recordFlags } from '../records-open.js';

export const infoSpec: CommandSpec = {
  name: 'info',
  summary: 'Describe FILE: format, sizes, chunks, the cost of a random read, and its index (building the index if needed); of a collection, its files, records and merged time range.',
  usage: 'seekdata info FILE [--json]',
  options: { ...COMMON_OPTIONS, ...RECORD_OPTIONS },
  optionHelp: [['--json', 'print as JSON'], ...RECORD_HELP, ...COMMON_HELP],
  examples: ['seekdata info events.csv.bz2', 'seekdata info ticks.csv.xz --json | jq .units'],
  minPositionals: 1,
  maxPositionals: 1,
};

export function randomReadCost(info: ReaderInfo): string {
  if (info.format === 'plain') return 'reads the bytes directly (plain file)';
  const verifying =
    info.verify === 'full' && info.unverifiedUnits > 0
      ? `; ${info.unverifiedUnits} such unit(s) not verified yet: the first read or cat of one first decodes all of it once, to its check`
      : '';
  // gzip and zstd say it themselves (kind of file, checkpoints, frames).
  if (info.details !== undefined) return `${info.details.randomRead}${info.sequentialUnits ? verifying : ''}`;
  if (info.sequentialUnits) {
    return `the file has a unit of ${formatBytes(info.largestUnit)}: a read inside it decodes from that unit's start (re-compress with \`xz -T0\` or \`xz --block-size=1MiB\` for fast random access)${verifying}`;
  }
  const prefix =
    info.prefixUnits > 0
      ? `; a read inside one unit${info.prefixUnits === info.units ? '' : ` (of the ${info.prefixUnits} of ${info.units} with sub-span CRC-32s)`} decodes only its start through the 64 KiB sub-span holding the read's last byte, checked against the CRC-32s the index recorded (about half a unit on average)`
      : info.format === 'xz' && info.verify === 'full'
        ? ' (a record index of this version, `seekdata index FILE --records csv` or `openIndexed`, would let a read decode and verify only a prefix of its block)'
        : '';
  return `decodes one unit (at most ${formatBytes(info.largestUnit)})${info.verify === 'full' && info.format === 'xz' ? ' and verifies it' : ''}${prefix}`;
}

export async function runInfo(io: CliIo, flags: Flags, [file]: string[]): Promise<void> {
  // With a record layer (from flags or the stored index) info also tells records, columns and time range.
  const index = readerOptions(io, flags).index;
  if (await namesCollection(file)) {
    const collection = await openForRecords(io, flags, file, { lazy: true });
    try {
      if (collection instanceof IndexedCollection) return await printCollectionInfo(io, flags, collection);
    } finally {
      await collection.close();
    }
  }
  const withRecords = recordFlags(flags) !== undefined || (await storedRecordOptions(file, index === undefined ? {} : { index })) !== undefined;
  let info: ReaderInfo & Partial<IndexedInfo>;
  if (withRecords) {
    const indexed = await openForRecords(io, flags, file);
    try {
      if (indexed instanceof IndexedCollection) throw new Error(`internal: ${file} opened as a collection`);
      info = indexed.info();
    } finally {
      await indexed.close();
    }
  } else {
    const bar = makeProgress(io, flags, 'indexing', { unit: 'bytes' });
    const reader = await openReader(file, readerOptions(io, flags, bar));
    bar.done();
    info = reader.info();
    noteDamage(io, reader);
    await reader.close();
  }
  if (flags.json === true) {
    await writeOut(io.stdout, JSON.stringify({ ...info, fresh: info.index.status === 'loaded' }, null, 2) + '\n');
    return;
  }
  // With --allow-damage the numbers describe the intact part only: said on each row they come from.
  const intact = info.damage === undefined ? '' : ', of the intact part before the damage';
  const rows: Array<[string, string]> = [
    ['file', info.file],
    ['format', info.format],
    ['compressed', `${formatBytes(info.compressedSize)} (${info.compressedSize} bytes)`],
    ['decompressed', `${formatBytes(info.size)} (${info.size} bytes, ratio ${(info.size / Math.max(1, info.compressedSize)).toFixed(2)})${intact}`],
    ['units', `${info.units} (largest ${formatBytes(info.largestUnit)})${intact}`],
    ...(info.details === undefined ? [] : ([['kind', `${info.details.kind}${intact}`]] as Array<[string, string]>)),
    ['random read', randomReadCost(info)],
    ...(info.details === undefined ? [] : ([['verified', info.details.verified]] as Array<[string, string]>)),
    ['decoder', info.decoder],
    ['index', info.index.path === undefined ? 'none saved' : `${info.index.path} (${info.index.status === 'loaded' ? 'fresh' : info.index.status + ' now'})`],
  ];
  if (info.records !== undefined) rows.push(['records', String(info.records)]);
  if (info.columns !== undefined && info.columns.length > 0) rows.push(['columns', info.columns.join(', ')]);
  if (info.timeRange !== undefined && info.timeRange !== null) {
    rows.push(['time range', `${info.timeRange.first} .. ${info.timeRange.last} (${info.sorted === true ? 'sorted' : 'not sorted'}, ${info.unparsableTimes ?? 0} unparsable)`]);
  }
  if (info.damage !== undefined) rows.push(['damage', info.damage]);
  await writeOut(io.stdout, rows.map(([k, v]) => `${k.padEnd(13)}${v}`).join('\n') + '\n');
}

export const catSpec: CommandSpec = {
  name: 'cat',
  summary: 'Write all decompressed bytes of FILE to stdout, in order, decoding chunks in parallel (a collection: its files one after the other).',
  usage: 'seekdata cat FILE',
  options: COMMON_OPTIONS_NO_JSON,
  optionHelp: COMMON_HELP,
  examples: ['seekdata cat events.csv.bz2 | head', 'seekdata cat -p 4 big.csv.xz > big.csv'],
  minPositionals: 1,
  maxPositionals: 1,
};

export async function runCat(io: CliIo, flags: Flags, [file]: string[]): Promise<void> {
  if (!(await namesCollection(file))) return catFile(io, flags, file);
  // A collection: its files one after the other, in collection order.
  for (const member of await listCollection(file)) await catFile(io, flags, member.input);
}

async function catFile(io: CliIo, flags: Flags, file: Input): Promise<void> {
  // Without a fresh index a bzip2 file is decoded once, by the scan that builds its index: its progress
  // (compressed bytes) is then the cat's own.
  const opening = makeProgress(io, flags, 'cat', { output: true, unit: 'bytes' });
  const reader = await openReader(file, { ...readerOptions(io, flags, opening), onScanChunk: (chunk) => writeOut(io.stdout, chunk.bytes) });
  try {
    // Otherwise the opening (an index loaded) was no part of the output: the bar below redraws over it.
    if (reader.scannedOnOpen) opening.done();
    else {
      // What the scan could not hand out yet (unverified spans of a gzip member) is read through the index.
      if (reader.scannedBytes > 0) opening.done();
      const bar = makeProgress(io, flags, 'cat', { output: true, unit: 'bytes', total: reader.size });
      let done = reader.scannedBytes;
      for await (const bytes of reader.stream(reader.scannedBytes)) {
        await writeOut(io.stdout, bytes);
        bar.update((done += bytes.length));
      }
      bar.done();
    }
    noteDamage(io, reader);
  } finally {
    await reader.close();
  }
}

export const readSpec: CommandSpec = {
  name: 'read',
  summary: 'Write exactly LENGTH decompressed bytes of FILE starting at OFFSET to stdout.',
  usage: 'seekdata read FILE --offset N --length M',
  options: { ...COMMON_OPTIONS_NO_JSON, offset: { type: 'string', short: 'o' }, length: { type: 'string', short: 'n' } },
  optionHelp: [['-o, --offset N', 'decompressed byte offset (required)'], ['-n, --length M', 'number of bytes (required)'], ...COMMON_HELP],
  examples: ['seekdata read events.csv.bz2 --offset 5000000000 --length 200'],
  minPositionals: 1,
  maxPositionals: 1,
};

export async function runRead(io: CliIo, flags: Flags, [file]: string[]): Promise<void> {
  const offset = intFlag(flags, 'offset', { min: 0 });
  const length = intFlag(flags, 'length', { min: 0 });
  if (offset === undefined || length === undefined) throw new UsageError('read: --offset and --length are required');
  if (await namesCollection(file)) throw new UsageError(`read: byte offsets are those of one file, and ${file} names a collection: give one of its files`);
  const bar = makeProgress(io, flags, 'indexing', { unit: 'bytes' });
  const reader = await openReader(file, readerOptions(io, flags, bar));
  bar.done();
  try {
    noteDamage(io, reader);
    await writeOut(io.stdout, await reader.read(offset, length));
  } finally {
    await reader.close();
  }
}
