/**
 * Finding a data file's index and reading its metadata (format, fingerprint, the data set's record
 * options); the chunk map's sections are in unit-sections.ts, the record layer's in record-sections.ts,
 * loading and saving in persist.ts. Finding an index looks at every candidate place and keeps every fresh one; the
 * metadata of a stale or damaged one is still read when its own checksum holds, so the record options
 * it was built with survive a rebuild.
 */
import { SeekdataError } from '../errors.js';
import type { Format } from '../readers/formats.js';
import { fingerprintDifference, type Fingerprint } from './fingerprint.js';
import { openIndexFile, type IndexFile } from './index-reader.js';
import { readLegacyMeta } from './legacy-index.js';
import { ownedBy, type IndexOwner } from './ownership.js';

export interface IndexMeta {
  format: Format;
  /** The source's name as it was opened (a path as given, a redacted URL); informative. */
  source: string;
  /**
   * The data file the index belongs to (ownership.ts): a real path, a URL's host and path, `s3://bucket/key`,
   * or null for data without a name of its own. Absent in indexes written before it was recorded.
   */
  owner?: string | null;
  fingerprint: Fingerprint;
  createdAt: string;
  /**
   * The record options of the data set (as resolved when they were given), `'unknown'` when an index
   * whose metadata could not be read was replaced, or absent when none were ever given.
   */
  recordOptions?: unknown;
  /** What the record layer of this file holds (sections `records.*`, `time.*`), when it has one. */
  records?: unknown;
}

const isInt = (v: unknown, min = 0): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
const isText = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;

function checkFingerprint(value: unknown): value is Fingerprint {
  if (typeof value !== 'object' || value === null) return false;
  const f = value as Record<string, unknown>;
  const hex = (v: unknown): boolean => typeof v === 'string' && /^[0-9a-f]{32}$/.test(v);
  return isInt(f.size) && (f.version === null || isText(f.version, 1024)) && hex(f.head) && hex(f.tail);
}

/** The metadata of an index file, checked for the types and sizes of its fields. */
export function parseMeta(json: unknown, path: string, legacy = false): IndexMeta {
  const fail = (what: string): SeekdataError => new SeekdataError('CORRUPT_INDEX', `${path}: corrupt index file: metadata ${what}`, { file: path });
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw fail('is not an object');
  const m = json as Record<string, unknown>;
  if (!isText(m.format, 32) || m.format.length === 0) throw fail('has no format');
  if (!isText(m.source, 1 << 16) || !isText(m.createdAt, 64)) throw fail('has no source or date');
  if (!checkFingerprint(m.fingerprint)) throw fail('has no valid fingerprint');
  const meta: IndexMeta = { format: m.format as Format, source: m.source, fingerprint: m.fingerprint, createdAt: m.createdAt };
  if (m.owner !== undefined) {
    if (m.owner !== null && !isText(m.owner, 1 << 16)) throw fail('has an invalid owner');
    meta.owner = m.owner;
  }
  if (legacy) {
    // Version 1 kept the options inside the record layer's metadata.
    const records = m.records;
    if (typeof records === 'object' && records !== null && 'options' in records) meta.recordOptions = records.options;
    return meta;
  }
  if (m.recordOptions !== undefined) {
    if (m.recordOptions !== 'unknown' && (typeof m.recordOptions !== 'object' || m.recordOptions === null)) throw fail('has invalid record options');
    meta.recordOptions = m.recordOptions;
  }
  if (m.records !== undefined) meta.records = m.records;
  return meta;
}

/** A fresh index: its file is open (close it through `FoundIndexes.close`), its metadata verified. */
export interface FreshCandidate {
  path: string;
  file: IndexFile;
  meta: IndexMeta;
}

/** A stale or damaged index, with its metadata when that could still be trusted. */
export interface ProblemCandidate {
  path: string;
  error: SeekdataError;
  meta: IndexMeta | undefined;
}

/** What the stored indexes say about the data set's record options. */
export type StoredOptionsState =
  | { state: 'known'; options: unknown; path: string }
  | { state: 'unknown'; path: string; why: string }
  | { state: 'none' };

export class FoundIndexes {
  constructor(
    readonly fresh: FreshCandidate[],
    readonly problems: ProblemCandidate[],
  ) {}

  /** A fresh index whose sections turned out damaged: now a problem (its metadata passed its checks). */
  async demote(candidate: FreshCandidate, error: SeekdataError): Promise<void> {
    const k = this.fresh.indexOf(candidate);
    if (k >= 0) this.fresh.splice(k, 1);
    await candidate.file.close();
    this.problems.unshift({ path: candidate.path, error, meta: candidate.meta });
  }

  /** The record options of the data set: from the first index that has them, fresh ones first. */
  recordOptions(): StoredOptionsState {
    let unknown: StoredOptionsState | undefined;
    for (const c of [...this.fresh, ...this.problems]) {
      const o = c.meta?.recordOptions;
      if (typeof o === 'object' && o !== null) return { state: 'known', options: o, path: c.path };
      if (unknown !== undefined) continue;
      if (c.meta === undefined) unknown = { state: 'unknown', path: c.path, why: 'error' in c ? c.error.message : 'unreadable metadata' };
      else if (o === 'unknown') unknown = { state: 'unknown', path: c.path, why: `${c.path} replaced an index whose metadata could not be read` };
    }
    return unknown ?? { state: 'none' };
  }

  async close(): Promise<void> {
    for (const c of this.fresh) await c.file.close();
    this.fresh.length = 0;
  }
}

/** Which candidate paths may hold another data file's index (ownership.ts), and whose index is wanted. */
export interface Ownership {
  owner: IndexOwner;
  shared: ReadonlySet<string>;
}

/**
 * Looks at every candidate path: fresh indexes (same format and fingerprint) are kept open in order;
 * stale and damaged ones are listed with their metadata when it is intact; paths that are not regular
 * files are skipped with a warning. At a shared path, a stale index of another data file is not this
 * data's at all: left out (neither rebuilt nor a source of record options); a fresh one describes these
 * very bytes and may be used.
 */
export async function findIndexes(
  paths: string[],
  actual: Fingerprint,
  format: Format,
  dataName: string,
  onWarning: ((message: string) => void) | undefined,
  ownership?: Ownership,
): Promise<FoundIndexes> {
  const found = new FoundIndexes([], []);
  const foreign = (path: string, meta: IndexMeta | undefined): boolean =>
    meta !== undefined && ownership !== undefined && ownership.shared.has(path) && !ownedBy(meta, ownership.owner);
  for (const path of paths) {
    const opening = await openIndexFile(path);
    if (opening.kind === 'missing') continue;
    if (opening.kind === 'unusable') {
      onWarning?.(`${opening.reason}; ignored`);
      continue;
    }
    if (opening.kind === 'corrupt') {
      found.problems.push({ path, error: opening.error, meta: undefined });
      continue;
    }
    if (opening.kind === 'old-version') {
      let meta: IndexMeta | undefined;
      let why = '';
      try {
        meta = parseMeta(await readLegacyMeta(opening.handle, opening.size, path), path, true);
      } catch (error) {
        why = ` (its metadata cannot be read: ${error instanceof Error ? error.message : String(error)})`;
      } finally {
        await opening.handle.close().catch(() => undefined);
      }
      if (foreign(path, meta)) continue;
      const error = new SeekdataError('STALE_INDEX', `${path}: index format version ${opening.version}, this seekdata reads version 2${why}`, { file: path });
      found.problems.push({ path, error, meta });
      continue;
    }
    const file = opening.file;
    let meta: IndexMeta;
    try {
      const json = (await file.load(['meta'])).get('meta');
      if (json === undefined || !('json' in json)) throw new SeekdataError('CORRUPT_INDEX', `${path}: corrupt index file: no metadata section`, { file: path });
      meta = parseMeta(json.json, path);
    } catch (error) {
      await file.close();
      if (!(error instanceof SeekdataError)) throw error;
      found.problems.push({ path, error, meta: undefined });
      continue;
    }
    const difference = fingerprintDifference(meta.fingerprint, actual) ?? (meta.format === format ? undefined : `it indexes a ${meta.format} file, ${dataName} is ${format}`);
    if (difference !== undefined) {
      await file.close();
      if (foreign(path, meta)) continue;
      found.problems.push({ path, error: new SeekdataError('STALE_INDEX', `${path}: index is stale for ${dataName}: ${difference}`, { file: path }), meta });
      continue;
    }
    found.fresh.push({ path, file, meta });
  }
  return found;
}
