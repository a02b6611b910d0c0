/** The recompress command: make a file seekable once. */
import { recompress, type RecompressResult } from '../../index/recompress.js';
import { writeFormatOfName, WRITE_FORMATS } from '../../readers/write/writers.js';
import { MAX_UNIT_BYTES } from '../../readers/write/settings.js';
import { choiceFlag, intFlag, UsageError, type CommandSpec, type Flags } from '../args.js';
import { formatBytes, makeProgress, maxDecodedFlag, warn, writeOut, type CliIo } from '../context.js';

const MIB = 2 ** 20;

export const recompressSpec: CommandSpec = {
  name: 'recompress',
  summary: 'Write IN (any supported format, or plain) to OUT compressed in independent units, so OUT is seekable: gzip (BGZF), zstd (seekable format), xz (multi-block) or bzip2.',
  usage: 'seekdata recompress IN OUT [--format gzip|zstd|xz|bzip2] [--unit-mb N] [--level L] [--force]',
  options: {
    help: { type: 'boolean', short: 'h' },
    quiet: { type: 'boolean', short: 'q' },
    json: { type: 'boolean' },
    parallelism: { type: 'string', short: 'p' },
    format: { type: 'string', short: 'f' },
    'unit-mb': { type: 'string' },
    level: { type: 'string', short: 'l' },
    force: { type: 'boolean' },
    'max-decoded-mb': { type: 'string' },
  },
  optionHelp: [
    ['-f, --format F', "gzip, zstd, xz or bzip2 (default: from OUT's name: .gz, .zst, .xz, .bz2)"],
    ['--unit-mb N', `decompressed MiB per unit, the output's unit of random access (default 1, at most ${MAX_UNIT_BYTES / MIB})`],
    ['-l, --level L', 'compression level: gzip 0-9 (default 6), zstd 1-22 (3), xz 0-9 (6), bzip2 1-9 (9)'],
    ['--force', 'replace OUT if it exists (default: an existing OUT is an error; either way OUT is replaced only once complete)'],
    ['--max-decoded-mb N', 'refuse an input that decodes to more than N MiB (decompression bombs), e.g. 0.5; LIMIT_EXCEEDED (default: no limit)'],
    ['-p, --parallelism N', 'units compressed at once (default: number of cores; 1 = no worker threads)'],
    ['--json', 'print the result as JSON'],
    ['-q, --quiet', 'no progress or warnings'],
    ['-h, --help', 'show this help'],
  ],
  examples: ['seekdata recompress events.csv.bz2 events.csv.zst', 'seekdata recompress dump.csv.gz dump.csv.xz --unit-mb 4 --level 9', 'seekdata recompress data.jsonl data.jsonl.gz'],
  minPositionals: 2,
  maxPositionals: 2,
};

export async function runRecompress(io: CliIo, flags: Flags, [input, output]: string[]): Promise<void> {
  const format = choiceFlag(flags, 'format', WRITE_FORMATS) ?? writeFormatOfName(output);
  if (format === undefined) throw new UsageError(`recompress: cannot tell the format from the name ${JSON.stringify(output)}; give --format ${WRITE_FORMATS.join('|')} (or name it .gz, .zst, .xz, .bz2)`);
  const unitMb = intFlag(flags, 'unit-mb', { min: 1, max: MAX_UNIT_BYTES / MIB });
  const level = intFlag(flags, 'level');
  const parallelism = intFlag(flags, 'parallelism', { min: 1 });
  const maxDecoded = maxDecodedFlag(flags);
  const bar = makeProgress(io, flags, 'recompress', { unit: 'bytes' });
  const started = performance.now();
  let result: RecompressResult;
  try {
    result = await recompress(input, output, {
      format,
      ...(unitMb === undefined ? {} : { unitBytes: unitMb * MIB }),
      ...(level === undefined ? {} : { level }),
      ...(parallelism === undefined ? {} : { parallelism }),
      overwrite: flags.force === true,
      ...(maxDecoded === undefined ? {} : { maxDecodedBytes: maxDecoded }),
      onProgress: (p) => bar.update(p.bytesDone, p.bytesTotal),
      onWarning: (m) => warn(io, flags, m),
    });
  } finally {
    bar.done();
  }
  const seconds = (performance.now() - started) / 1000;
  if (flags.json === true) {
    await writeOut(io.stdout, JSON.stringify({ input, output: result.path, format: result.format, level: result.level, unitBytes: result.unitBytes, units: result.units, decompressedBytes: result.decompressedBytes, compressedBytes: result.compressedBytes, seconds }, null, 2) + '\n');
    return;
  }
  const ratio = (result.decompressedBytes / Math.max(1, result.compressedBytes)).toFixed(2);
  await writeOut(
    io.stdout,
    `${result.path}: ${result.format} level ${result.level}, ${result.units} unit(s) of ${result.unitBytes % MIB === 0 ? `${result.unitBytes / MIB} MiB` : `${result.unitBytes} bytes`}, ${formatBytes(result.decompressedBytes)} -> ${formatBytes(result.compressedBytes)} (ratio ${ratio}) in ${seconds.toFixed(1)} s\n`,
  );
}
