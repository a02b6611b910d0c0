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
import { listCollection, type CollectionSources } from './collection-list.js';
import { findManifest, keepManifest } from './collection-lazy.js';
import { CollectionMember, type MemberFacts } from './collection-member.js';
import { IndexedCollection, type SkippedFile } from './indexed-collection.js';
import type { IndexedFile } from './indexed-file.js';
import { openIndexed, type IndexedOptions } from './open-indexed.js';
import { checkGivenRecordOptions } from './records/inherit.js';
import { resolveReaderOptions, runnerFor } from './reader-options.js';

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
  /**
   * The collection manifest (collection-manifest.ts): `true` (default) opens the collection from a fresh
   * manifest without opening its files (each is opened when first read), and writes a new manifest after an
   * open that had to open files; `'refresh'` opens every file and writes a new manifest (what `seekdata index`
   * does); `false` neither reads nor writes one.
   */
  manifest?: boolean | 'refresh';
  /**
   * Whether a collection opened from a fresh manifest keeps its files closed until they are first read
   * (`true`), or opens them all before `openCollection` returns (`false`, the default). Lazy opening makes
   * opening cheap and a time range open only the files it meets, but the synchronous lookups (`range`,
   * `nearest`, `locate`, `new TimeRangeDataset`, ...) then need `await collection.prepare(...)` first
   * (`NOT_OPENED` otherwise), so code that works on the first run (no manifest yet) works on every run only
   * if it prepares: hence opt-in.
   */
  lazy?: boolean;
}

/** The per-file decoded-chunk cache never goes below this, whatever the collection's size (bytes). */
const MIN_FILE_CACHE_BYTES = 8 * 2 ** 20;

function listOptions(options: CollectionOptions): ListS3Options {
  const out: Record<string, unknown> = {};
  for (const key of [...S3_OPTION_KEYS, 'retry', 'timeoutMs'] as const) if (options[key] !== undefined) out[key] = options[key];
  return out as ListS3Options;
}

/** Why `file` cannot join a collection that `first` began, if it cannot. */
function mismatch(first: MemberFacts, file: MemberFacts): string | undefined {
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
  const manifestMode = options.manifest ?? true;
  const lazy = options.lazy ?? false;
  if (typeof lazy !== 'boolean') throw invalidOption('lazy', 'true or false', lazy);
  if (manifestMode !== true && manifestMode !== false && manifestMode !== 'refresh') throw invalidOption('manifest', "true, false or 'refresh'", manifestMode);
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
  const { onBadFile: _bad, openConcurrency: _c, readAhead: _r, manifest: _m, lazy: _l, onProgress, ...rest } = options;
  void _l;
  void _bad;
  void _c;
  void _r;
  void _m;
  const use = await findManifest(sources, members, options as CollectionOptions & Record<string, unknown>);
  const fresh = use?.found?.fresh;

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
  // Skipped files in collection order (files the manifest lists that are gone after the members).
  const skippedAt: Array<{ at: number; file: SkippedFile }> = [];
  let failure: unknown;
  const skip = (at: number, name: string, error: SeekdataError): void => {
    skippedAt.push({ at, file: { file: name, code: error.code, reason: error.message } });
    options.onWarning?.(`${name}: left out of the collection (onBadFile: 'skip'): ${error.message}`);
  };
  let next = 0;
  // Files the manifest vouches for are not opened now; the others are (all of them without a manifest).
  const todo = members.map((_, k) => k).filter((k) => fresh?.[k] === undefined);
  for (const [j, entry] of (use?.found?.gone ?? []).entries()) {
    const error = new SeekdataError('NOT_FOUND', `${entry.facts.name}: listed in the collection manifest ${use?.found?.path ?? ''} but gone`, { file: entry.facts.name });
    if (onBadFile === 'skip') skip(members.length + j, entry.facts.name, error);
    else failure ??= error;
  }
  for (let k = 0; k < members.length; k++) if (fresh?.[k] !== undefined) report(k, undefined);
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < todo.length) {
      const k = todo[next++];
      const member = members[k];
      try {
        opened[k] = await openIndexed(member.input, { ...rest, cacheBytes, pool: runner, onProgress: (p) => report(k, p) });
        report(k, undefined);
      } catch (error) {
        // Options were checked up front: what fails now is this file (missing, damaged, lacking a column).
        if (onBadFile === 'skip' && isSeekdataError(error) && error.code !== 'ABORTED') skip(k, member.name, error);
        else failure ??= error;
        report(k, undefined);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, worker));

  const closeAll = async (): Promise<void> => {
    await Promise.all(opened.map((f) => f?.close()));
  };
  if (failure !== undefined) {
    await closeAll();
    throw failure;
  }
  // Each file as a member: open now, or (fresh in the manifest) opened when first read.
  const lazyOptions = { ...rest, cacheBytes, pool: runner };
  const candidates: Array<CollectionMember | undefined> = members.map((m, k) => {
    const file = opened[k];
    if (file !== undefined) return CollectionMember.of(file);
    const entry = fresh?.[k];
    if (entry === undefined) return undefined;
    return new CollectionMember(entry.facts, undefined, () => openIndexed(m.input, lazyOptions), use?.found?.path);
  });
  // The record shape is the one most files agree on (ties: the first in order), so one stray file cannot
  // make every real shard the odd one out.
  const groups: Array<{ first: MemberFacts; count: number }> = [];
  for (const member of candidates) {
    if (member === undefined) continue;
    const group = groups.find((g) => mismatch(g.first, member.facts) === undefined);
    if (group === undefined) groups.push({ first: member.facts, count: 1 });
    else group.count++;
  }
  const reference = groups.reduce<{ first: MemberFacts; count: number } | undefined>((a, g) => (a === undefined || g.count > a.count ? g : a), undefined)?.first;
  const files: CollectionMember[] = [];
  for (let k = 0; k < members.length; k++) {
    const member = candidates[k];
    if (member === undefined) continue;
    const why = reference === undefined || member.facts === reference ? undefined : mismatch(reference, member.facts);
    if (why === undefined) {
      files.push(member);
      continue;
    }
    const error = new SeekdataError('INDEX_MISMATCH', `${member.name}: cannot join the collection: ${why}`, { file: member.name });
    if (onBadFile === 'error') {
      await closeAll();
      throw error;
    }
    skip(k, members[k].name, error);
    await member.close();
  }
  const skipped = skippedAt.sort((a, b) => a.at - b.at).map((s) => s.file);
  const name = typeof sources === 'string' ? (members.length === 1 ? members[0].name : sources) : `${members.length} files`;
  if (files.length === 0) {
    throw new SeekdataError('NOT_FOUND', `${name}: no file of the collection could be opened (${skipped.length} skipped; first: ${skipped[0]?.reason ?? 'none'})`, { file: name });
  }
  // A manifest for the next open, when this one had to open files and every file is in.
  const allFresh = fresh !== undefined && fresh.every((e) => e !== undefined) && (use?.found?.gone.length ?? 0) === 0;
  const manifestPath = use !== undefined && skipped.length === 0 && files.length === members.length && !allFresh ? await keepManifest(use, members, files, options.onWarning) : undefined;
  const collection = new IndexedCollection(files, name, {
    parallelism: resolved.parallelism,
    runner,
    readAhead: readAhead ?? Math.max(2, resolved.parallelism * 2),
    skipped,
    seconds: (performance.now() - started) / 1000,
    manifest: fresh?.some((e) => e !== undefined) === true ? use?.found?.path : undefined,
    manifestWritten: manifestPath,
    openConcurrency: concurrency,
  });
  // Not lazy: every file open before the caller gets the collection, as without a manifest (each file is
  // still checked against the manifest's counts and layout as it opens).
  if (!lazy && collection.openedFiles < files.length) {
    try {
      await collection.prepare();
    } catch (error) {
      await collection.close();
      throw error;
    }
  }
  return collection;
}
