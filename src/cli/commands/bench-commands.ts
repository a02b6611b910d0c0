/**
 * `seekdata bench FILE`: measures the user's own file (sequential decode, random reads with an empty
 * cache, record batches) next to the naive way (decoding from the start), as ratios; and
 * `seekdata compare FILE.csv`: the same file as .bz2 and multi-block .xz, to choose a format.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { SeekdataError } from '../../errors.js';
import { ChunkedOrder } from '../../datasets/order.js';
import { mulberry32 } from '../../datasets/permutation.js';
import { storedRecordOptions } from '../../index/open-indexed.js';
import { openIndexed } from '../../index/open-indexed.js';
import { openReader } from '../../index/open-reader.js';
import type { SeekableReader } from '../../readers/reader.js';
import { COMMON_HELP, COMMON_OPTIONS, intFlag, stringFlag, UsageError, type CommandSpec, type Flags } from '../args.js';
import { formatBytes, makeProgress, readerOptions, writeOut, type CliIo } from '../context.js';
import type { ProgressBar } from '../progress.js';

const median = (values: number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[s.length >> 1];
};

interface FileMeasures {
  file: string;
  format: string;
  compressedBytes: number;
  size: number;
  units: number;
  sequentialMBs: { parallel: number; oneThread: number };
  randomReadMs: { median: number; reads: number };
  naiveReadMs: number;
  speedup: number;
  recordsPerSecond: number | null;
}

/** Sequential decode time of the whole file, in ms. */
async function decodeMs(reader: SeekableReader, bar: ProgressBar): Promise<number> {
  const started = performance.now();
  let done = 0;
  for await (const part of reader.stream()) bar.update((done += part.length));
  const ms = performance.now() - started;
  bar.done();
  return ms;
}

/** Measures one file; progress tasks are labelled `${stage}decoding ...` (stage: '' or 'xz: '). */
async function measure(io: CliIo, flags: Flags, path: string, reads: number, stage = ''): Promise<FileMeasures> {
  const base = readerOptions(io, flags);
  const reader = await openReader(path, { ...base, cacheBytes: 1 });
  const oneThread = await openReader(path, { ...base, cacheBytes: 1, parallelism: 1 });
  try {
    const size = reader.size;
    // Warm the workers, then decode everything: in parallel, and in one thread (the naive reader's speed).
    await Promise.all(Array.from({ length: Math.min(reader.layout.count, reader.parallelism) }, (_, c) => reader.chunk(c)));
    const parallel = await decodeMs(reader, makeProgress(io, flags, `${stage}decoding in parallel`, { unit: 'bytes', total: size }));
    const single = await decodeMs(oneThread, makeProgress(io, flags, `${stage}decoding in one thread`, { unit: 'bytes', total: size }));
    const rand = mulberry32(1);
    const offsets = Array.from({ length: reads }, () => Math.floor(rand() * Math.max(1, size - 100)));
    const times: number[] = [];
    const readsBar = makeProgress(io, flags, `${stage}random reads`, { unit: 'reads', total: reads });
    for (const offset of offsets) {
      const started = performance.now();
      await reader.read(offset, Math.min(100, size - offset));
      times.push(performance.now() - started);
      readsBar.update(times.length);
    }
    readsBar.done();
    // The naive reader decodes from the start to reach an offset: at the one-thread speed measured
    // above, the median random offset costs this much.
    const naive = (median(offsets) / Math.max(1, size)) * single;
    let recordsPerSecond: number | null = null;
    const stored = await storedRecordOptions(path, base.index === undefined ? {} : { index: base.index });
    if (stored !== undefined) {
      const file = await openIndexed(path, { ...base, ...stored });
      const order = new ChunkedOrder(file.records, { mode: 'chunked', seed: 0, epoch: 0, rank: 0, worldSize: 1, windowChunks: 8 });
      const started = performance.now();
      let n = 0;
      // Time-boxed (3 s): a count of records, without a total.
      const batchesBar = makeProgress(io, flags, `${stage}record batches`, { unit: 'records' });
      while (performance.now() - started < 3000) {
        const numbers: number[] = [];
        for (let k = 0; k < 256; k++) {
          const r = order.next()?.record;
          if (r !== undefined) numbers.push(r);
        }
        if (numbers.length === 0) break;
        await file.records.getMany(numbers);
        batchesBar.update((n += numbers.length));
      }
      batchesBar.done();
      recordsPerSecond = n / ((performance.now() - started) / 1000);
      await file.close();
    }
    return {
      file: reader.name,
      format: reader.format,
      compressedBytes: reader.compressedSize,
      size,
      units: reader.units.count,
      sequentialMBs: { parallel: size / 1e6 / (parallel / 1000), oneThread: size / 1e6 / (single / 1000) },
      randomReadMs: { median: median(times), reads },
      naiveReadMs: naive,
      speedup: naive / median(times),
      recordsPerSecond,
    };
  } finally {
    await reader.close();
    await oneThread.close();
  }
}

export const benchSpec: CommandSpec = {
  name: 'bench',
  summary: 'Measure FILE: sequential decode MB/s, random 100-byte reads with an empty cache, record batches/s, next to decoding from the start.',
  usage: 'seekdata bench FILE [--reads N] [--json]',
  options: { ...COMMON_OPTIONS, reads: { type: 'string' } },
  optionHelp: [['--reads N', 'random reads to time (default 50)'], ['--json', 'print as JSON'], ...COMMON_HELP],
  examples: ['seekdata bench events.csv.bz2', 'seekdata bench ticks.csv.xz --reads 200 --json'],
  minPositionals: 1,
  maxPositionals: 1,
};

function report(m: FileMeasures): string {
  return [
    `${m.file} (${m.format}, ${formatBytes(m.compressedBytes)} → ${formatBytes(m.size)}, ${m.units} units)`,
    `  sequential decode   ${m.sequentialMBs.parallel.toFixed(1)} MB/s in parallel, ${m.sequentialMBs.oneThread.toFixed(1)} MB/s in one thread`,
    `  random read, 100 B  ${m.randomReadMs.median.toFixed(2)} ms median of ${m.randomReadMs.reads} (empty cache)`,
    `  decode from start   ${m.naiveReadMs.toFixed(1)} ms for the median offset → seekdata is ${m.speedup.toFixed(0)}× faster`,
    `  record batches      ${m.recordsPerSecond === null ? 'no record index (seekdata index FILE --records ...)' : `${(m.recordsPerSecond / 1000).toFixed(1)}k records/s (chunked order, batch 256)`}`,
  ].join('\n');
}

export async function runBench(io: CliIo, flags: Flags, [path]: string[]): Promise<void> {
  const m = await measure(io, flags, path, intFlag(flags, 'reads', { min: 1 }) ?? 50);
  await writeOut(io.stdout, flags.json === true ? JSON.stringify(m, null, 2) + '\n' : report(m) + '\n');
}

export const compareSpec: CommandSpec = {
  name: 'compare',
  summary: 'Compress a plain FILE as .bz2 and as multi-block .xz and compare size, ratio, decode MB/s and random-read latency.',
  usage: 'seekdata compare FILE.csv [--out DIR] [--reads N] [--json]',
  options: { ...COMMON_OPTIONS, out: { type: 'string' }, reads: { type: 'string' } },
  optionHelp: [
    ['--out DIR', 'where to write the compressed files (default: a temporary directory, removed after)'],
    ['--reads N', 'random reads to time per format (default 30)'],
    ['--json', 'print as JSON'],
    ...COMMON_HELP,
  ],
  examples: ['seekdata compare events.csv', 'seekdata compare events.csv --out compressed/ --json'],
  minPositionals: 1,
  maxPositionals: 1,
};

/**
 * Runs `command args` with stdin read from the file `input` and stdout written to the file `output`: no
 * shell and no file name on the command line, so no name can be taken for shell syntax or an option.
 * Rejects naming the tool, its exit status (or signal) and its stderr; a failed run's output is removed.
 */
async function compressFile(command: string, args: string[], input: string, output: string, bar: ProgressBar): Promise<void> {
  const label = [command, ...args].join(' ');
  const from = await open(input, 'r');
  let to: FileHandle;
  try {
    to = await open(output, 'w');
  } catch (error) {
    await from.close();
    throw new SeekdataError('IO_ERROR', `compare: cannot write ${output}: ${(error as Error).message}`, { file: output, cause: error });
  }
  let stderr = '';
  try {
    const child = spawn(command, args, { stdio: ['pipe', to.fd, 'pipe'] });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      if (stderr.length < 2000) stderr += text;
    });
    // The input goes through a pipe rather than as the child's stdin descriptor, so that its progress
    // can be counted. A failed read must not pass for the end of the input: it is kept and reported.
    const source = from.createReadStream({ autoClose: false });
    let fed = 0;
    source.on('data', (chunk) => bar.update((fed += chunk.length)));
    const stdin = child.stdin;
    if (stdin === null) throw new Error(`${command} has no input pipe`);
    const feeding = pipeline(source, stdin).then(
      () => undefined,
      (error: unknown) => error,
    );
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c, s) => resolve([c, s]));
    });
    const feedError = await feeding;
    if (code !== 0) {
      const how = signal !== null ? `was killed by ${signal}` : `exited with status ${code}`;
      throw new SeekdataError('IO_ERROR', `compare: \`${label}\` ${how} compressing ${input}${stderr.trim() === '' ? '' : `: ${stderr.trim()}`}`, { file: input });
    }
    if (feedError !== undefined) {
      throw new SeekdataError('IO_ERROR', `compare: cannot read ${input} for \`${label}\`: ${(feedError as Error).message}`, { file: input, cause: feedError });
    }
    bar.done();
  } catch (error) {
    await rm(output, { force: true });
    if (error instanceof SeekdataError) throw error;
    const errno = error as NodeJS.ErrnoException;
    const why = errno.code === 'ENOENT' ? `${command} is not installed (not found on PATH)` : errno.message;
    throw new SeekdataError('IO_ERROR', `compare: cannot run \`${label}\`: ${why}`, { file: input, cause: error });
  } finally {
    await from.close();
    await to.close();
  }
}

export async function runCompare(io: CliIo, flags: Flags, [path]: string[]): Promise<void> {
  const reads = intFlag(flags, 'reads', { min: 1 }) ?? 30;
  const outFlag = stringFlag(flags, 'out');
  const probe = await openReader(path, { index: false });
  const format = probe.format;
  await probe.close();
  if (format !== 'plain') throw new UsageError(`compare: ${path} is ${format}; give an uncompressed file`);
  if (outFlag !== undefined) {
    try {
      await mkdir(outFlag, { recursive: true });
    } catch (error) {
      throw new SeekdataError('IO_ERROR', `compare: cannot create the --out directory ${outFlag}: ${(error as Error).message}`, { file: outFlag, cause: error });
    }
  }
  const dir = outFlag ?? mkdtempSync(join(tmpdir(), 'seekdata-compare-'));
  try {
    const name = basename(path);
    const size = statSync(path).size;
    await compressFile('bzip2', ['-9', '-c'], path, join(dir, `${name}.bz2`), makeProgress(io, flags, 'compressing with bzip2 -9', { unit: 'bytes', total: size }));
    await compressFile('xz', ['-6', '-T0', '--block-size=1MiB', '-c'], path, join(dir, `${name}.xz`), makeProgress(io, flags, 'compressing with xz -6', { unit: 'bytes', total: size }));
    const noIndex = { ...flags, 'no-index': outFlag === undefined ? true : flags['no-index'] };
    const rows: FileMeasures[] = [];
    for (const [stage, file] of [['plain: ', path], ['bzip2: ', join(dir, `${name}.bz2`)], ['xz: ', join(dir, `${name}.xz`)]]) rows.push(await measure(io, noIndex, file, reads, stage));
    if (flags.json === true) {
      await writeOut(io.stdout, JSON.stringify(rows, null, 2) + '\n');
      return;
    }
    const lines = ['format   size        ratio  decode (parallel)  random read  vs decode-from-start'];
    for (const r of rows) {
      lines.push(
        `${r.format.padEnd(8)} ${formatBytes(r.compressedBytes).padEnd(11)} ${(size / r.compressedBytes).toFixed(2).padStart(5)}  ${`${r.sequentialMBs.parallel.toFixed(1)} MB/s`.padStart(17)}  ${`${r.randomReadMs.median.toFixed(2)} ms`.padStart(11)}  ${r.format === 'plain' ? '-' : `${r.speedup.toFixed(0)}× faster`}`,
      );
    }
    await writeOut(io.stdout, lines.join('\n') + '\n');
  } finally {
    if (outFlag === undefined) rmSync(dir, { recursive: true, force: true });
  }
}
