/** What a command gets: its output streams and helpers shared by commands. */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { SeekdataError } from '../errors.js';
import type { ReaderOptions } from '../index/reader-options.js';
import { intFlag, stringFlag, UsageError, type Flags } from './args.js';
import { DEFAULT_PROGRESS_SECONDS, ProgressReporter, progressSecondsFromEnv, silentProgress, type ProgressBar, type TaskOptions } from './progress.js';

export interface CliIo {
  stdout: Writable;
  stderr: NodeJS.WriteStream | Writable;
}

/** Writes bytes to a stream, waiting when it asks us to (backpressure). */
export async function writeOut(stream: Writable, bytes: Uint8Array | string): Promise<void> {
  if (stream.destroyed) throw Object.assign(new Error('output closed'), { code: 'EPIPE' });
  if (!stream.write(bytes)) await once(stream, 'drain');
}

export function warn(io: CliIo, flags: Flags, message: string): void {
  if (flags.quiet !== true) io.stderr.write(`seekdata: warning: ${message}\n`);
}

const failures = new WeakMap<CliIo, string[]>();

/**
 * Notes that the command's result is incomplete although it ran to its end (a damaged file read only up to
 * its damage, an index that could not be saved): `runCli` prints each note on stderr after the output and
 * exits 1, so a script never takes a partial result for a whole one.
 */
export function noteFailure(io: CliIo, note: string): void {
  const notes = failures.get(io) ?? [];
  notes.push(note);
  failures.set(io, notes);
}

/**
 * Notes a file opened with --allow-damage whose intact part ended at damage: the command's output is
 * partial, so `runCli` says so (file and damage position) after it and exits 1.
 */
export function noteDamage(io: CliIo, reader: { name: string; size: number; damage: SeekdataError | undefined }): void {
  const damage = reader.damage;
  if (damage === undefined) return;
  const at = damage.compressedOffset === undefined ? '' : ` at compressed byte ${damage.compressedOffset}`;
  noteFailure(io, `${reader.name} is damaged${at}: only its intact part before the damage was read (${reader.size} decompressed bytes); ${damage.message}`);
}

/** `seekdata index` exists to save indexes: one that could not be saved (a warning said why) makes it exit 1. */
export function noteNotSaved(io: CliIo, file: string): void {
  noteFailure(io, `${file}: the index was not saved (see the warning above); give a writable place with --index PATH or $SEEKDATA_CACHE_DIR`);
}

/** The failure notes of the command that ran (and forgets them). */
export function takeFailures(io: CliIo): string[] {
  const notes = failures.get(io) ?? [];
  failures.delete(io);
  return notes;
}

const reporters = new WeakMap<CliIo, ProgressReporter>();

/** Ends the line of a progress bar a failing command left drawn (before its error message). */
export function endProgressLine(io: CliIo): void {
  reporters.get(io)?.endLine();
}

/** Seconds between plain progress lines off a terminal: $SEEKDATA_PROGRESS_SECONDS (0: none), default 5. */
function progressSeconds(io: CliIo, flags: Flags): number {
  const seconds = progressSecondsFromEnv();
  if (seconds !== 'invalid') return seconds;
  warn(io, flags, `SEEKDATA_PROGRESS_SECONDS must be a number of seconds (0: no progress lines), got ${JSON.stringify(process.env.SEEKDATA_PROGRESS_SECONDS)}; using ${DEFAULT_PROGRESS_SECONDS}`);
  return DEFAULT_PROGRESS_SECONDS;
}

/**
 * A progress task of the running command, on stderr (see progress.ts): none with -q. `--json` keeps it:
 * stdout carries the data, progress goes to stderr. `output: true` marks a task that runs while the
 * command writes its data to stdout (cat, sample, records): on a terminal that data is on screen, so the
 * task shows nothing there.
 */
export function makeProgress(io: CliIo, flags: Flags, label: string, options: TaskOptions & { output?: boolean }): ProgressBar {
  if (flags.quiet === true) return silentProgress();
  if (options.output === true && (io.stdout as Partial<NodeJS.WriteStream>).isTTY === true) return silentProgress();
  let reporter = reporters.get(io);
  if (reporter === undefined) {
    const tty = (io.stderr as Partial<NodeJS.WriteStream>).isTTY === true;
    const seconds = tty ? 0 : progressSeconds(io, flags);
    if (!tty && seconds === 0) return silentProgress();
    reporter = new ProgressReporter(io.stderr, { tty, intervalMs: seconds * 1000 });
    reporters.set(io, reporter);
  }
  return reporter.task(label, options);
}

const MIB = 2 ** 20;
/** The largest --cache-mb whose byte count is still an exact (safe) integer. */
const MAX_CACHE_MB = Math.floor(Number.MAX_SAFE_INTEGER / MIB);

/** Reader options from the common flags. */
export function readerOptions(io: CliIo, flags: Flags, bar?: ProgressBar): ReaderOptions {
  const options: ReaderOptions = { onWarning: (m) => warn(io, flags, m) };
  const index = stringFlag(flags, 'index');
  if (flags['no-index'] === true) options.index = false;
  else if (index !== undefined) options.index = index;
  const parallelism = intFlag(flags, 'parallelism', { min: 1 });
  if (parallelism !== undefined) options.parallelism = parallelism;
  // MiB to bytes by multiplication: a shift works in 32 bits (2048 << 20 is negative, 5000 << 20 is 904 MiB).
  const cacheMb = intFlag(flags, 'cache-mb', { min: 1, max: MAX_CACHE_MB });
  if (cacheMb !== undefined) options.cacheBytes = cacheMb * MIB;
  if (flags['allow-damage'] === true) options.allowDamage = true;
  const spacing = stringFlag(flags, 'gzip-spacing-mb');
  if (spacing !== undefined) options.gzipSpacingBytes = gzipSpacing(spacing);
  const maxDecoded = maxDecodedFlag(flags);
  if (maxDecoded !== undefined) options.maxDecodedBytes = maxDecoded;
  if (bar !== undefined) options.onProgress = (p) => bar.update(p.bytesDone, p.bytesTotal, p.decodedBytes);
  return options;
}

/** --max-decoded-mb in bytes (MiB, decimals allowed, from 0 up to what a byte count holds exactly), if given. */
export function maxDecodedFlag(flags: Flags): number | undefined {
  const raw = stringFlag(flags, 'max-decoded-mb');
  if (raw === undefined) return undefined;
  const mb = Number(raw.trim());
  if (!/^\d+(\.\d+)?$/.test(raw.trim()) || !(mb <= MAX_CACHE_MB)) throw new UsageError(`--max-decoded-mb must be a number of MiB from 0 to ${MAX_CACHE_MB}, got ${JSON.stringify(raw)}`);
  return Math.round(mb * MIB);
}

/** --gzip-spacing-mb: MiB (decimals allowed) from 1/16 (64 KiB) to 4096. */
function gzipSpacing(raw: string): number {
  const mb = Number(raw.trim());
  if (!/^\d+(\.\d+)?$/.test(raw.trim()) || !(mb >= 1 / 16 && mb <= 4096)) throw new UsageError(`--gzip-spacing-mb must be a number of MiB from 0.0625 to 4096, got ${JSON.stringify(raw)}`);
  return Math.round(mb * MIB);
}

export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

/**
 * The flags each API option is set from. An INVALID_OPTION the API raises about an option the user set
 * with a flag names that flag instead of the API field (`--time-zone`, not `options.timeZone`). Options
 * set from a flag in other units (`--cache-mb` → cacheBytes) are range-checked by the CLI itself, so the
 * API never reports their converted value.
 */
const FLAGS_OF_OPTION: Readonly<Record<string, readonly string[]>> = {
  cacheBytes: ['cache-mb'],
  gzipSpacingBytes: ['gzip-spacing-mb'],
  maxDecodedBytes: ['max-decoded-mb'],
  parallelism: ['parallelism'],
  index: ['index', 'no-index'],
  allowDamage: ['allow-damage'],
  records: ['records'],
  header: ['header', 'no-header'],
  delimiter: ['delimiter'],
  quoting: ['quoting'],
  maxRecordBytes: ['max-record-mb'],
  timeColumn: ['time-column', 'no-time-column'],
  timeFormat: ['time-format'],
  timeZone: ['time-zone'],
  strict: ['strict'],
  stats: ['stats', 'no-stats'],
  level: ['level'],
};

/** The message of an INVALID_OPTION error, in terms of the flag the user gave when one set that option. */
export function invalidOptionMessage(error: SeekdataError, flags: Flags): string {
  const option = error.option;
  const flag = option === undefined ? undefined : FLAGS_OF_OPTION[option]?.find((f) => flags[f] !== undefined);
  if (option === undefined || flag === undefined) return `invalid option: ${error.message}`;
  const field = `options.${option}`;
  return error.message.includes(field) ? error.message.replace(field, `--${flag}`) : `--${flag}: ${error.message}`;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A record for JSON output, exactly: `{ text }` when its bytes are valid UTF-8, else `{ base64 }` with
 * its bytes (a JSON string cannot carry invalid UTF-8; a lossy decode would print U+FFFD instead).
 */
export function recordJson(bytes: Uint8Array): { text: string } | { base64: string } {
  try {
    return { text: strictUtf8.decode(bytes) };
  } catch {
    return { base64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') };
  }
}
