/**
 * Opening a collection: list its files (collection-list.ts), open each with its own index (`openIndexed`:
 * loaded when fresh, else built and saved beside it), a few files at once so that building indexes and
 * remote round trips overlap, with one overall progress over all the files' compressed bytes. A file that
 * fails to open is a typed error naming it (`onBadFile: 'error'`, the default), or is left out, counted in
 * `report.skipped` and warned about (`onBadFile: 'skip'`). Files must agree on what a record is (the same
 * record kind; CSV files the same columns in the same order), since datasets parse every file alike; the
 * shape most files share is the collection's, and the files that differ from it are the bad ones.
 */
import { stat } from 'node:fs/promises';
import { invalidOption, isSeekdataError, SeekdataError } from '../errors.js';
import { checkKnownKeys, checkOneOf, checkPositiveInt } from '../options.js';
import { COLLECTION_OPTION_KEYS } from '../option-keys.js';
import type { Progress } from '../readers/discover.js';
import type { ListS3Options } from '../sources/s3-list.js';
import { S3_OPTION_KEYS } from '../sources/s3-client.js';
import { listCollection, type CollectionSources, type Member } from './collection-list.js';
import { IndexedCollection, type SkippedFile } from './indexed-collection.js';
import type { IndexedFile } from './indexed-file.js';
import { openIndexed, type IndexedOptions } from './open-indexed.js';
import { checkGivenRecordOptions } from './records/inherit.js';
import { resolveReaderOptions, runnerFor } from './open-reader.js';

export interface CollectionOptions extends IndexedOptions {
  /**
   * A file of the collection that cannot be opened (missing, damaged, another format of records):
   * `'error'` (default) rejects with its typed error, which names the file; `'skip'` leaves it out,
   * lists it in `collection.report.skipped` and calls `onWarning`. Never silent.
   */
  onBadFile?: 'error' | 'skip';
  /** Files opened (and indexed) at once. Default 4. */
  openConcurrency?: number;
  /**
   * Chunks datasets decode ahead of the one in use (and so, for remote files, requests in flight at most,
   * with a `limiter` or `maxInFlight` above it). Default: twice the parallelism. Raise it for object storage,
   * where each chunk waits for a round trip.
   */
  readAhead?: number;
}

/** The per-file decoded-chunk cache never goes below this, whatever the collection's size (bytes). */
const MIN_FILE_CACHE_BYTES = 8 * 2 ** 20;

function listOptions(options: CollectionOptions): ListS3Options {
  const out: Record<string, unknown> = {};
  for (const key of [...S3_OPTION_KEYS, 'retry', 'timeoutMs'] as const) if (options[key] !== undefined) out[key] = options[key];
  return out as ListS3Options;
}

/** Why `file` cannot join a collection that `first` began, if it cannot. */
function mismatch(first: IndexedFile, file: IndexedFile): string | undefined {
  if (file.options.kind !== first.options.kind) return `its records are ${file.options.kind}, those of ${first.name} ${first.options.kind}`;
  if ((file.time === undefined) !== (first.time === undefined)) return `it has ${file.time === undefined ? 'no' : 'a'} time index and ${first.name} ${first.time === undefined ? 'has none' : 'has one'}`;
  if (file.options.kind === 'csv' && file.columns.join('\u0000') !== first.columns.join('\u0000')) {
    return `its columns (${file.columns.join(', ')}) differ from those of ${first.name} (${first.columns.join(', ')})`;
  }
  // Records of every file are parsed with one spec: the same delimiter and quoting (as indexed, options or stored).
  if (file.options.kind === 'csv' && (file.options.delimiter !== first.options.delimiter || file.options.quoting !== first.options.quoting)) {
    return `it is indexed with delimiter ${JSON.stringify(file.options.delimiter)} and quoting ${file.options.quoting}, ${first.name} with ${JSON.stringify(first.options.delimiter)} and ${first.options.quoting}`;
  }
  if (String(file.options.timeColumn) !== String(first.options.timeColumn)) {
    return `its time column is ${JSON.stringify(file.options.timeColumn)}, that of ${first.name} ${JSON.stringify(first.options.timeColumn)}`;
  }
  return undefined;
}

/**
 * Opens a collection: a list of sources, a directory, a glob (local or `s3://`), an `s3://bucket/prefix/`
 * or a manifest (`@path`), as one data set with the surface of an indexed file.
 */
export async function openCollection(sources: CollectionSources, options: CollectionOptions = {}): Promise<IndexedCollection> {
  const started = performance.now();
  checkKnownKeys(options, COLLECTION_OPTION_KEYS, 'openCollection');
  const onBadFile = options.onBadFile ?? 'error';
  checkOneOf('onBadFile', onBadFile, ['error', 'skip']);
  const concurrency = checkPositiveInt('openConcurrency', options.openConcurrency ?? 4);
  const readAhead = options.readAhead === undefined ? undefined : checkPositiveInt('readAhead', options.readAhead);
  const resolved = resolveReaderOptions(options);
  checkGivenRecordOptions(options);
  if (typeof options.index === 'string') {
    // One index path for many files cannot be: a directory holds each file's `<name>.sdx`.
    const info = await stat(options.index).catch(() => undefined);
    if (info?.isDirectory() !== true) throw invalidOption('index', 'false or an existing directory for a collection (each file keeps its own index)', options.index);
  }
  const members = await listCollection(sources, listOptions(options));
  const cacheBytes = Math.max(MIN_FILE_CACHE_BYTES, Math.floor(resolved.cacheBytes / members.length));
  const runner = runnerFor(resolved.parallelism, options.pool);
  const { onBadFile: _bad, openConcurrency: _c, readAhead: _r, onProgress, ...rest } = options;
  void _bad;
  void _c;
  void _r;

  // One progress over all files: each file's bytes done, over the sizes listing told (or opening told).
  const done = new Float64Array(members.length);
  const totals = Float64Array.from(members, (m) => m.size ?? 0);
  const decoded = new Float64Array(members.length);
  const sum = (a: Float64Array): number => a.reduce((s, v) => s + v, 0);
  const report = (k: number, p: Progress | undefined): void => {
    if (p !== undefined) {
      totals[k] = Math.max(totals[k], p.bytesTotal);
      done[k] = Math.min(p.bytesDone, totals[k]);
      if (p.decodedBytes !== undefined) decoded[k] = p.decodedBytes;
    } else done[k] = totals[k];
    const decodedBytes = sum(decoded);
    onProgress?.({ bytesDone: sum(done), bytesTotal: sum(totals), ...(decodedBytes > 0 ? { decodedBytes } : {}) });
  };

  const opened: Array<IndexedFile | undefined> = new Array(members.length);
  const skipped: Array<SkippedFile | undefined> = new Array(members.length);
  let failure: unknown;
  const skip = (k: number, member: Member, error: SeekdataError): void => {
    skipped[k] = { file: member.name, code: error.code, reason: error.message };
    options.onWarning?.(`${member.name}: left out of the collection (onBadFile: 'skip'): ${error.message}`);
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < members.length) {
      const k = next++;
      const member = members[k];
      try {
        opened[k] = await openIndexed(member.input, { ...rest, cacheBytes, pool: runner, onProgress: (p) => report(k, p) });
        report(k, undefined);
      } catch (error) {
        // Options were checked up front: what fails now is this file (missing, damaged, lacking a column).
        if (onBadFile === 'skip' && isSeekdataError(error) && error.code !== 'ABORTED') skip(k, member, error);
        else failure ??= error;
        report(k, undefined);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, members.length) }, worker));

  const files: IndexedFile[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(opened.map((f) => f?.close()));
  };
  if (failure !== undefined) {
    await closeAll();
    throw failure;
  }
  // The record shape is the one most files agree on (ties: the first in order), so one stray file cannot
  // make every real shard the odd one out.
  const groups: Array<{ first: IndexedFile; count: number }> = [];
  for (const file of opened) {
    if (file === undefined) continue;
    const group = groups.find((g) => mismatch(g.first, file) === undefined);
    if (group === undefined) groups.push({ first: file, count: 1 });
    else group.count++;
  }
  const reference = groups.reduce<{ first: IndexedFile; count: number } | undefined>((a, g) => (a === undefined || g.count > a.count ? g : a), undefined)?.first;
  for (let k = 0; k < members.length; k++) {
    const file = opened[k];
    if (file === undefined) continue;
    const why = reference === undefined || file === reference ? undefined : mismatch(reference, file);
    if (why === undefined) {
      files.push(file);
      continue;
    }
    const error = new SeekdataError('INDEX_MISMATCH', `${file.name}: cannot join the collection: ${why}`, { file: file.name });
    if (onBadFile === 'error') {
      await closeAll();
      throw error;
    }
    skip(k, members[k], error);
    opened[k] = undefined;
    await file.close();
  }
  const name = typeof sources === 'string' ? (members.length === 1 ? members[0].name : sources) : `${members.length} files`;
  if (files.length === 0) {
    const reasons = skipped.filter((s): s is SkippedFile => s !== undefined);
    throw new SeekdataError('NOT_FOUND', `${name}: no file of the collection could be opened (${reasons.length} skipped; first: ${reasons[0]?.reason ?? 'none'})`, { file: name });
  }
  return new IndexedCollection(files, name, {
    parallelism: resolved.parallelism,
    runner,
    readAhead: readAhead ?? Math.max(2, resolved.parallelism * 2),
    skipped: skipped.filter((s): s is SkippedFile => s !== undefined),
    seconds: (performance.now() - started) / 1000,
  });
}
