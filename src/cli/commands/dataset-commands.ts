/** The dataset commands: sample (shuffled batch orders) and export (a time range as Arrow). */
import { environmentShard } from '../../datasets/plan.js';
import { sampleBatches, type SampleOptions } from '../../datasets/sample.js';
import { recordsPerRank, worldSizeProblem } from '../../datasets/shard.js';
import { exportTimeRangeToArrow, type ArrowExportResult, type ArrowTimeUnit } from '../../datasets/arrow.js';
import { ARROW_TIME_UNITS } from '../../datasets/arrow-time.js';
import { choiceFlag, COMMON_HELP, COMMON_OPTIONS, intFlag, stringFlag, UsageError, type CommandSpec, type Flags } from '../args.js';
import { makeProgress, warn, writeOut, type CliIo } from '../context.js';
import { openForRecords, parseTimeArg, RECORD_HELP, RECORD_OPTIONS } from '../records-open.js';

export const sampleSpec: CommandSpec = {
  name: 'sample',
  summary: 'Print the batches a shuffled dataset draws from FILE: record numbers (--indices) or the records.',
  usage: 'seekdata sample FILE --batch-size B [--seed S] [--epoch E] [--shuffle exact|chunked|none] [--shuffle-memory-mb M] [--rank R --world-size W] [--shard-policy pad|drop] [--batches N] [--indices]',
  options: {
    ...COMMON_OPTIONS,
    ...RECORD_OPTIONS,
    'batch-size': { type: 'string', short: 'b' },
    seed: { type: 'string' },
    epoch: { type: 'string' },
    shuffle: { type: 'string' },
    'shuffle-memory-mb': { type: 'string' },
    'window-chunks': { type: 'string' },
    rank: { type: 'string' },
    'world-size': { type: 'string' },
    'shard-policy': { type: 'string' },
    batches: { type: 'string' },
    indices: { type: 'boolean' },
  },
  optionHelp: [
    ['-b, --batch-size B', 'records per batch (default 32)'],
    ['--seed S', 'seed of the order (default 0)'],
    ['--epoch E', 'epoch (default 0): each epoch has its own order'],
    ['--shuffle MODE', 'exact (uniform), chunked (default: random chunks, shuffled within a window), none'],
    ['--shuffle-memory-mb M', 'exact: MiB of records a round holds (default 256); each round is one pass over the chunks it needs'],
    ['--window-chunks K', 'chunks in the chunked shuffle window (default 8)'],
    ['--rank R, --world-size W', 'print shard R of W (default: $SEEKDATA_RANK/$SEEKDATA_WORLD_SIZE, else $RANK/$WORLD_SIZE, else 0 of 1): the same shards as a dataset, equal in size'],
    ['--shard-policy P', 'pad (default: shards one short repeat a record) or drop (shards one over leave one out)'],
    ['--batches N', 'stop after N batches (default: the whole epoch)'],
    ['--indices', 'print record numbers, one batch per line'],
    ['--json', 'print {batch, records, text} objects, one per line (text null and base64 set for records that are not UTF-8)'],
    ...RECORD_HELP,
    ...COMMON_HELP,
  ],
  examples: [
    'seekdata sample events.csv.bz2 --batch-size 4 --batches 3 --indices',
    'seekdata sample events.csv.bz2 -b 256 --shuffle exact --seed 7 --epoch 2 --rank 1 --world-size 4 --indices',
    "seekdata sample 's3://b/p/*' --records csv --batch-size 1000 --indices --rank 1 --world-size 3",
  ],
  minPositionals: 1,
  maxPositionals: 1,
};

/** Record bytes as JSON: text when they are valid UTF-8; otherwise text null and the exact bytes in base64. */
function jsonRecords(records: Uint8Array[]): { text: Array<string | null>; base64?: Array<string | null> } {
  // fatal: invalid UTF-8 is not replaced by U+FFFD; ignoreBOM: a byte-order mark stays in the text.
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let base64: Array<string | null> | undefined;
  const text = records.map((r, k) => {
    try {
      return decoder.decode(r);
    } catch {
      base64 ??= records.map(() => null);
      base64[k] = Buffer.from(r.buffer, r.byteOffset, r.byteLength).toString('base64');
      return null;
    }
  });
  return base64 === undefined ? { text } : { text, base64 };
}

export async function runSample(io: CliIo, flags: Flags, [path]: string[]): Promise<void> {
  const batchSize = intFlag(flags, 'batch-size', { min: 1 }) ?? 32;
  const mode = choiceFlag(flags, 'shuffle', ['exact', 'chunked', 'none'] as const) ?? 'chunked';
  // Without --rank / --world-size, from SEEKDATA_RANK / SEEKDATA_WORLD_SIZE or RANK / WORLD_SIZE, as datasets do.
  const givenSize = intFlag(flags, 'world-size', { min: 1 });
  const givenRank = intFlag(flags, 'rank', { min: 0 });
  const fromEnv = givenSize === undefined && givenRank === undefined ? environmentShard() : undefined;
  const worldSize = givenSize ?? fromEnv?.worldSize ?? 1;
  const rank = givenRank ?? fromEnv?.rank ?? 0;
  if (rank >= worldSize) throw new UsageError(`--rank must be below --world-size (${worldSize}), got ${rank}`);
  const shardPolicy = choiceFlag(flags, 'shard-policy', ['pad', 'drop'] as const) ?? 'pad';
  const options: SampleOptions = {
    batchSize,
    shuffle: mode === 'none' ? false : mode,
    seed: intFlag(flags, 'seed') ?? 0,
    epoch: intFlag(flags, 'epoch', { min: 0 }) ?? 0,
    rank,
    worldSize,
    shardPolicy,
    windowChunks: intFlag(flags, 'window-chunks', { min: 1 }) ?? 8,
    // The order needs only the index: nothing is decoded unless records are printed.
    records: flags.indices !== true,
    // MiB to bytes by multiplication (a shift works in 32 bits).
    shuffleMemoryBytes: (intFlag(flags, 'shuffle-memory-mb', { min: 1, max: MAX_SHUFFLE_MB }) ?? 256) * 2 ** 20,
  };
  const limit = intFlag(flags, 'batches', { min: 0 }) ?? Infinity;
  const file = await openForRecords(io, flags, path);
  try {
    const problem = worldSizeProblem(path, file.records.count, worldSize, '--world-size');
    if (problem !== undefined) throw new UsageError(problem);
    if (limit === 0) return;
    const total = Math.min(recordsPerRank(file.records.count, worldSize, shardPolicy), limit * batchSize);
    const bar = makeProgress(io, flags, 'sampling', { output: true, unit: 'records', total });
    let drawn = 0;
    let read = { batches: 0, passes: 0 };
    for await (const { batch, numbers, records, passes } of sampleBatches(file, options)) {
      bar.update((drawn += numbers.length));
      read = { batches: batch + 1, passes };
      if (flags.json === true) {
        await writeOut(io.stdout, JSON.stringify({ batch, records: numbers, ...(flags.indices === true ? {} : jsonRecords(records)) }) + '\n');
      } else if (flags.indices === true) {
        await writeOut(io.stdout, numbers.join(' ') + '\n');
      } else {
        // The records' bytes as they are in the file, each followed by a newline.
        const parts: Uint8Array[] = [Buffer.from(`# batch ${batch}: records ${numbers.join(' ')}\n`)];
        for (const r of records) parts.push(r, NEWLINE);
        await writeOut(io.stdout, Buffer.concat(parts));
      }
      if (batch + 1 >= limit) break;
    }
    bar.done();
    if (mode === 'exact' && options.records === true && flags.quiet !== true) {
      const mb = (options.shuffleMemoryBytes ?? 0) / 2 ** 20;
      io.stderr.write(`seekdata: exact shuffle: ${read.batches} batches read in ${read.passes} ${read.passes === 1 ? 'pass' : 'passes'} over the file (rounds of at most ${mb} MiB of records: --shuffle-memory-mb)\n`);
    }
  } finally {
    await file.close();
  }
}

const NEWLINE = Uint8Array.of(0x0a);
/** The largest --shuffle-memory-mb whose byte count is still an exact (safe) integer. */
const MAX_SHUFFLE_MB = Math.floor(Number.MAX_SAFE_INTEGER / 2 ** 20);

export const exportSpec: CommandSpec = {
  name: 'export',
  summary: 'Write the records of FILE with time in [T0, T1) as an Apache Arrow IPC file, batch by batch (types from the index).',
  usage: 'seekdata export FILE --from T0 --to T1 --arrow OUT.arrow [--columns a,b,c] [--limit N] [--time-unit s|ms|us|ns] [--batch-rows N] [--stream]',
  options: {
    ...COMMON_OPTIONS,
    ...RECORD_OPTIONS,
    from: { type: 'string' },
    to: { type: 'string' },
    arrow: { type: 'string' },
    columns: { type: 'string' },
    limit: { type: 'string' },
    'time-unit': { type: 'string' },
    'batch-rows': { type: 'string' },
    stream: { type: 'boolean' },
  },
  optionHelp: [
    ['--from T0', 'start time, inclusive (ISO-8601 or epoch)'],
    ['--to T1', 'end time, exclusive'],
    ['--arrow OUT', 'the Arrow IPC file to write (required; its directory must exist; replaced atomically)'],
    ['--columns LIST', 'comma-separated columns to include (default: all)'],
    ['--limit N', 'at most N records'],
    ['--time-unit U', "unit of the time column: s, ms, us or ns (default: the file's resolution)"],
    ['--batch-rows N', 'rows per Arrow record batch (default 16384)'],
    ['--stream', 'write the Arrow IPC stream format instead of the file format'],
    ['--json', 'print the result as JSON'],
    ...RECORD_HELP,
    ...COMMON_HELP,
  ],
  examples: ['seekdata export ticks.csv.xz --from 2024-03-03T09:00 --to 2024-03-03T10:00 --arrow ticks-0900.arrow'],
  minPositionals: 1,
  maxPositionals: 1,
};

export async function runExport(io: CliIo, flags: Flags, [path]: string[]): Promise<void> {
  const t0 = parseTimeArg('from', stringFlag(flags, 'from'));
  const t1 = parseTimeArg('to', stringFlag(flags, 'to'));
  if (t0 > t1) throw new UsageError(`export: --from (${new Date(t0).toISOString()}) is after --to (${new Date(t1).toISOString()})`);
  const out = stringFlag(flags, 'arrow');
  if (out === undefined) throw new UsageError('export: --arrow OUT.arrow is required');
  const columns = stringFlag(flags, 'columns')?.split(',').map((c) => c.trim());
  const limit = intFlag(flags, 'limit', { min: 0 });
  const batchRows = intFlag(flags, 'batch-rows', { min: 1 });
  const timeUnit = stringFlag(flags, 'time-unit');
  if (timeUnit !== undefined && !(ARROW_TIME_UNITS as readonly string[]).includes(timeUnit)) throw new UsageError(`--time-unit must be one of ${ARROW_TIME_UNITS.join(', ')}, got ${JSON.stringify(timeUnit)}`);
  const file = await openForRecords(io, flags, path);
  try {
    if (file.time === undefined) throw new UsageError(`export: ${file.name} has no timestamp index; build one with \`seekdata index ${file.name} --records csv --time-column COLUMN\``);
    const bar = makeProgress(io, flags, 'exporting', { unit: 'rows' });
    let result: ArrowExportResult;
    try {
      result = await exportTimeRangeToArrow(file, t0, t1, out, {
        ...(columns === undefined ? {} : { columns }),
        ...(limit === undefined ? {} : { limit }),
        ...(batchRows === undefined ? {} : { batchRows }),
        ...(timeUnit === undefined ? {} : { timeUnit: timeUnit as ArrowTimeUnit }),
        format: flags.stream === true ? 'stream' : 'file',
        onProgress: (p) => bar.update(p.rows, p.rowsTotal),
      });
    } finally {
      bar.done();
    }
    const first = result.firstTextInNumeric;
    if (first !== undefined) {
      warn(io, flags, `${file.name}: ${result.textInNumeric} text value(s) in numeric columns written as null (first: record ${first.record}, column ${first.column}, ${JSON.stringify(first.value)})`);
    }
    const json = { file: file.name, out, format: result.format, rows: result.rows, batches: result.batches, columns: result.columns, bytes: result.bytes, textInNumeric: result.textInNumeric };
    if (flags.json === true) await writeOut(io.stdout, JSON.stringify(json, null, 2) + '\n');
    else await writeOut(io.stdout, `${out}: ${result.rows} rows in ${result.batches} batches, ${result.columns.map((c) => `${c.name} ${c.type}`).join(', ')} (${result.bytes} bytes)\n`);
  } finally {
    await file.close();
  }
}
