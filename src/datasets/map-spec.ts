/**
 * A user `map`: a module the caller names, whose exported function transforms parsed rows in the worker
 * pool (map-run.ts runs it in the parse step). Here, in the calling thread: the options, and the module
 * resolved once to an absolute file URL (a relative path against the current directory, at the call), which
 * is all the job carries. Only the module the caller names is ever loaded: nothing stored in an index, a
 * manifest or the data names one.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SeekdataError, invalidOption } from '../errors.js';
import type { CompiledField } from './parse.js';

export interface MapOptions {
  /**
   * The module: a file path (relative to the current directory when the dataset is made) or a `file:` URL.
   * It runs in every worker thread with the process's rights (see README, Security). Required.
   */
  module: string | URL;
  /** The export to call. Default `'default'`. */
  export?: string;
  /**
   * `false` (default): the function gets one row, `{ xs: { name: number }, ys: { name: number }, record,
   * time }`, and returns `{ xs, ys? }` of numbers (tf.data's `map` over tf.data.csv's rows). `true`: it gets
   * the rows of one parse job as columns, `{ xs: { name: Float32Array }, ys: { name: Float32Array |
   * Int32Array }, records, times, size }`, and returns `{ xs, ys? }` of arrays of `size` numbers (HF's
   * `map(batched=True)`); row k of the output must come from row k of the input.
   */
  batched?: boolean;
  /** Names of the feature columns the function returns, in order (the batches' xs columns). Default: its input's. */
  features?: string[];
  /**
   * Names of the label columns it returns, in order. Default: its input's; a function returning no `ys`
   * passes the labels through.
   */
  labels?: string[];
  /**
   * Time limit of one call of the function (one row, or one batched call), in ms, including the promise it
   * returns settling (and the module's first load in a thread). A call that runs longer stops the dataset
   * with a `MAP_ERROR` naming the records of the call, and its worker thread is terminated (a new one takes
   * its place). Only the call is timed: never a job's time in the pool's queue, its decoding or parsing.
   * Needs worker threads (not `parallelism: 1`). Default: no limit (PyTorch DataLoader's `timeout`).
   */
  timeoutMs?: number;
}

/** A map as a parse job carries it: plain data. */
export interface MapSpec {
  /** Absolute `file:` URL of the module. */
  url: string;
  /** The module as the caller named it (for messages). */
  module: string;
  exportName: string;
  batched: boolean;
  /** What the function gets: the fields parsed from each record (their labels as class ids or values, never one-hot). */
  input: { features: CompiledField[]; labels: CompiledField[]; labelType: 'float32' | 'int32' };
  /** Whether it must return `ys` (the output labels are not the input's). */
  ysRequired: boolean;
  /** Time limit of one call in ms (map-clock.ts keeps it, in the calling thread); undefined: none. */
  timeoutMs?: number | undefined;
}

/**
 * The MAP_ERROR of a map call on records `first`..`last` (`rows` of them: a batched call's first and last
 * record, or one record): `file: map module <why> on record n` / `on records a to b (a batched call of k rows)`.
 */
export function mapFailure(file: string, map: Pick<MapSpec, 'module'>, why: string, first: number, last: number, rows: number, cause?: unknown): SeekdataError {
  return new SeekdataError('MAP_ERROR', `${file}: map ${map.module} ${why} on ${callPlace(first, last, rows)}`, { file, record: first, cause });
}

/** The records of a map call, for a message: `record n`, or `records a to b (a batched call of k rows)`. */
export function callPlace(first: number, last: number, rows: number): string {
  return first === last ? `record ${first}` : `records ${first} to ${last} (a batched call of ${rows} rows)`;
}

/** Checks `map.timeoutMs`: a positive finite number of ms, or undefined (no limit). */
export function checkTimeout(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw invalidOption('map.timeoutMs', 'a positive finite number of milliseconds', value);
  return value;
}

/** Resolves the module option to an absolute file URL; the file must exist. */
export function resolveMapModule(module: unknown): { url: string; module: string } {
  let path: string;
  if (module instanceof URL || (typeof module === 'string' && /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(module) && !/^[a-zA-Z]:[\\/]/.test(module))) {
    const url = module instanceof URL ? module : new URL(module);
    if (url.protocol !== 'file:') throw invalidOption('map.module', 'a file path or a file: URL (only local modules are loaded)', String(module));
    path = fileURLToPath(url);
  } else if (typeof module === 'string' && module.length > 0) {
    path = resolve(process.cwd(), module);
  } else {
    throw invalidOption('map.module', 'a file path or a file: URL', module);
  }
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new SeekdataError('NOT_FOUND', `map module ${String(module)} not found (looked for ${path})`, { option: 'map.module' });
  }
  return { url: pathToFileURL(path).href, module: String(module) };
}

/** An output column of a map: a name, no field of its own. */
export function outputField(name: string): CompiledField {
  return { column: -1, path: [], name, vocab: undefined, fill: 0, shift: 0, scale: 1 };
}

/** Checks a list of output names (distinct, non-empty strings). */
export function checkNames(option: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v.length > 0) || new Set(value).size !== value.length) {
    throw invalidOption(option, 'a list of distinct column names', value);
  }
  return value as string[];
}
