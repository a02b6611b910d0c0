/**
 * Choosing among a format's decoder backends: an environment variable may ask for one (to compare them, or
 * to avoid one), and a fallback from a backend that did not load is said once per process, as a process
 * warning from the main thread. (Every thread prepares its own decoders; the workers meet the same
 * failure as the main thread, which prepares the format of every file it opens, so they stay silent.)
 */
import { isMainThread } from 'node:worker_threads';

const said = new Set<string>();

/** Says `message` once per process (main thread only), as a `SeekdataWarning` on stderr. */
export function warnDecoderOnce(message: string): void {
  if (!isMainThread || said.has(message)) return;
  said.add(message);
  process.emitWarning(message, { type: 'SeekdataWarning', code: 'SEEKDATA_DECODER_FALLBACK' });
}

/**
 * The backend asked for by environment variable `variable`, or undefined (unset or empty: the default
 * order). An unknown name is said once and ignored.
 */
export function requestedBackend<T extends string>(variable: string, names: readonly T[]): T | undefined {
  const value = process.env[variable];
  if (value === undefined || value === '') return undefined;
  const found = names.find((name) => name === value);
  if (found === undefined) warnDecoderOnce(`${variable}=${JSON.stringify(value)} is not one of ${names.join(', ')}: ignored`);
  return found;
}

/** Why something failed to load, in a line. */
export function reason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0].slice(0, 200);
}
