/** What a command gets: its output streams and helpers shared by commands. */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { ReaderOptions } from '../readers/open.js';
import { intFlag, stringFlag, type Flags } from './args.js';
import { progressBar, type ProgressBar } from './progress.js';

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

export function makeProgress(io: CliIo, flags: Flags, label: string): ProgressBar {
  const stream = io.stderr as NodeJS.WriteStream;
  return progressBar(label, flags.quiet !== true && flags.json !== true, stream);
}

/** Reader options from the common flags. */
export function readerOptions(io: CliIo, flags: Flags, bar?: ProgressBar): ReaderOptions {
  const options: ReaderOptions = { onWarning: (m) => warn(io, flags, m) };
  const index = stringFlag(flags, 'index');
  if (flags['no-index'] === true) options.index = false;
  else if (index !== undefined) options.index = index;
  const parallelism = intFlag(flags, 'parallelism', { min: 1 });
  if (parallelism !== undefined) options.parallelism = parallelism;
  const cacheMb = intFlag(flags, 'cache-mb', { min: 1 });
  if (cacheMb !== undefined) options.cacheBytes = cacheMb << 20;
  if (flags['allow-damage'] === true) options.allowDamage = true;
  if (bar !== undefined) options.onProgress = (p) => bar.update(p.bytesDone, p.bytesTotal);
  return options;
}

export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}
