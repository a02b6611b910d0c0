/**
 * The collection manifest: what a collection knows of each of its files (record count, records per chunk,
 * layout, column statistics and vocabularies, time span, record options), with a cheap fingerprint of each
 * file (local: size and mtime; `s3://`: size and ETag, as the listing gives them), so that opening the
 * collection again needs no file opened: the numbering, merged statistics and time spans come from here,
 * and a file is opened (its `.sdx` loaded, an object HEADed) only when a record of it is first read.
 *
 * It is an index file (index-file.ts: versioned header, a CRC32 per section, written atomically, read as
 * untrusted input) with two sections: `collection` (JSON: kind "seekdata-collection", version, the
 * collection's id, the record options given when it was written, one entry per file) and `layout` (f64:
 * per file, its records-per-chunk array then its layout arrays, in entry order, lengths in the entries).
 * Every value is checked before use; anything that fails is CORRUPT_INDEX, and the caller opens the
 * collection the normal way. Where it lives: collection-manifest-place.ts.
 */
import { afterWhere, SeekdataError } from '../errors.js';
import type { MemberFacts } from './collection-member.js';
import { writeIndexFile, type SectionValue } from './index-file.js';
import { openIndexFile } from './index-reader.js';
import { parseStoredOptions } from './records/inherit.js';
import type { ColumnStats } from './records/stats.js';

export const MANIFEST_KIND = 'seekdata-collection';
export const MANIFEST_VERSION = 1;
/** Files one manifest may describe (a bound on what an untrusted file can make us allocate). */
const MAX_FILES = 1_000_000;

/** A file's cheap fingerprint: local files size and mtime, objects size and ETag. */
export interface MemberPrint {
  size: number;
  mtimeMs?: number;
  etag?: string;
}

export interface ManifestEntry {
  facts: MemberFacts;
  print: MemberPrint;
}

export interface Manifest {
  /** The collection it describes (see manifestId). */
  id: string;
  /** The record options given when it was written (JSON text, keys sorted), '' when none. */
  given: string;
  entries: ManifestEntry[];
}

function corrupt(path: string, what: string): SeekdataError {
  // What the index reader found is said of the same path: it is not named twice.
  return new SeekdataError('CORRUPT_INDEX', `${path}: damaged collection manifest: ${afterWhere(what, path)}`, { file: path });
}

export async function writeManifest(path: string, manifest: Manifest): Promise<number> {
  const arrays: Float64Array[] = [];
  const files = manifest.entries.map(({ facts, print }) => {
    arrays.push(facts.firstRecord, ...facts.layout);
    const { firstRecord, layout, ...rest } = facts;
    return { ...rest, print, lengths: [firstRecord.length, ...layout.map((a) => a.length)] };
  });
  const total = arrays.reduce((n, a) => n + a.length, 0);
  const layout = new Float64Array(total);
  let at = 0;
  for (const a of arrays) {
    layout.set(a, at);
    at += a.length;
  }
  const sections = new Map<string, SectionValue>([
    ['collection', { json: { kind: MANIFEST_KIND, version: MANIFEST_VERSION, id: manifest.id, given: manifest.given, createdAt: new Date().toISOString(), files } }],
    ['layout', layout],
  ]);
  return writeIndexFile(path, sections);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isNumOrNull = (v: unknown): boolean => v === null || isNum(v);
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length <= 4096;

function checkStats(value: unknown): ColumnStats[] | undefined {
  if (!Array.isArray(value)) return undefined;
  for (const s of value) {
    if (!isObj(s) || !isStr(s.name) || !isCount(s.count) || !isCount(s.missing) || !isCount(s.nonNumeric)) return undefined;
    if (typeof s.numeric !== 'boolean' || typeof s.integer !== 'boolean') return undefined;
    if (![s.min, s.max, s.mean, s.std].every(isNumOrNull)) return undefined;
    if (s.categories !== null) {
      if (!Array.isArray(s.categories)) return undefined;
      if (!s.categories.every((c: unknown) => isObj(c) && typeof c.value === 'string' && isCount(c.count))) return undefined;
    }
  }
  return value as ColumnStats[];
}

function checkTime(value: unknown): MemberFacts['time'] | null {
  if (value === undefined) return undefined;
  if (!isObj(value) || !isCount(value.count) || !isCount(value.unparsable) || typeof value.sorted !== 'boolean') return null;
  if ((value.first !== undefined && !isNum(value.first)) || (value.last !== undefined && !isNum(value.last))) return null;
  return { count: value.count, unparsable: value.unparsable, sorted: value.sorted, first: value.first as number | undefined, last: value.last as number | undefined };
}

function checkTimeReport(value: unknown): MemberFacts['timeReport'] | null {
  if (value === undefined) return undefined;
  if (!isObj(value) || typeof value.sorted !== 'boolean' || !isCount(value.unparsable) || !Array.isArray(value.unparsableExamples)) return null;
  if (!value.unparsableExamples.every((e: unknown) => isObj(e) && isCount(e.record) && isStr(e.text))) return null;
  if (value.column !== undefined && !isStr(value.column) && !isCount(value.column)) return null;
  if (!isStr(value.format) || (value.zone !== undefined && !isStr(value.zone))) return null;
  if ((value.first !== undefined && !isNum(value.first)) || (value.last !== undefined && !isNum(value.last))) return null;
  return value as MemberFacts['timeReport'];
}

function checkPrint(value: unknown): MemberPrint | undefined {
  if (!isObj(value) || !isCount(value.size)) return undefined;
  if (value.mtimeMs !== undefined && !isNum(value.mtimeMs)) return undefined;
  if (value.etag !== undefined && !isStr(value.etag)) return undefined;
  if ((value.mtimeMs === undefined) === (value.etag === undefined)) return undefined;
  return { size: value.size, ...(value.mtimeMs === undefined ? {} : { mtimeMs: value.mtimeMs }), ...(value.etag === undefined ? {} : { etag: value.etag as string }) };
}

/** Records per chunk as an index holds them: from 0, never decreasing, ending at the record count. */
function validFirstRecord(first: Float64Array, records: number): boolean {
  if (first.length < 1 || first[0] !== 0 || first[first.length - 1] !== records) return false;
  for (let i = 1; i < first.length; i++) if (!(first[i] >= first[i - 1]) || !Number.isSafeInteger(first[i])) return false;
  return true;
}

function checkEntry(path: string, k: number, value: unknown, layout: Float64Array, at: number): { entry: ManifestEntry; next: number } {
  const bad = (what: string): SeekdataError => corrupt(path, `file entry ${k}: ${what}`);
  if (!isObj(value)) throw bad('not an object');
  const { name, records, kind, columns, stats, options, time, timeReport, status, indexPath, format, compressedSize, size, print, lengths } = value;
  if (!isStr(name) || name.length === 0) throw bad('no file name');
  if (!isCount(records)) throw bad('bad record count');
  if (kind !== 'csv' && kind !== 'jsonl' && kind !== 'lines') throw bad('bad record kind');
  if (!Array.isArray(columns) || !columns.every(isStr)) throw bad('bad columns');
  const checkedStats = checkStats(stats);
  if (checkedStats === undefined) throw bad('bad column statistics');
  const resolved = parseStoredOptions(options);
  if (resolved === undefined || resolved.kind !== kind) throw bad('bad record options');
  const checkedTime = checkTime(time);
  const checkedReport = checkTimeReport(timeReport);
  if (checkedTime === null || checkedReport === null) throw bad('bad time summary');
  if (status !== 'loaded' && status !== 'built' && status !== 'rebuilt' && status !== 'none') throw bad('bad index status');
  if (indexPath !== undefined && !isStr(indexPath)) throw bad('bad index path');
  if (!isStr(format) || !isCount(compressedSize) || !isCount(size)) throw bad('bad format or sizes');
  const checkedPrint = checkPrint(print);
  if (checkedPrint === undefined) throw bad('bad fingerprint');
  if (!Array.isArray(lengths) || lengths.length < 1 || lengths.length > 16 || !lengths.every(isCount)) throw bad('bad layout lengths');
  const arrays: Float64Array[] = [];
  let next = at;
  for (const n of lengths as number[]) {
    if (next + n > layout.length) throw bad('its layout runs past the layout section');
    // Copies: a manifest's arrays outlive the buffer they were read into.
    arrays.push(layout.slice(next, next + n));
    next += n;
  }
  const [firstRecord, ...rest] = arrays;
  if (!validFirstRecord(firstRecord, records)) throw bad('bad records per chunk');
  const facts: MemberFacts = {
    name,
    records,
    firstRecord,
    layout: rest,
    kind,
    columns: columns as string[],
    stats: checkedStats,
    options: resolved,
    time: checkedTime,
    timeReport: checkedReport,
    status,
    indexPath: indexPath as string | undefined,
    format,
    compressedSize,
    size,
  };
  return { entry: { facts, print: checkedPrint }, next };
}

/**
 * Reads the manifest at `path`: undefined when there is none; CORRUPT_INDEX when it is damaged, truncated,
 * of another version or not a collection manifest (the caller warns and opens the collection the normal way).
 */
export async function readManifest(path: string): Promise<Manifest | undefined> {
  const opening = await openIndexFile(path);
  if (opening.kind === 'missing') return undefined;
  if (opening.kind === 'unusable') throw corrupt(path, opening.reason);
  if (opening.kind === 'corrupt') throw corrupt(path, opening.error.message);
  if (opening.kind === 'old-version') {
    await opening.handle.close();
    throw corrupt(path, `index format version ${opening.version}`);
  }
  const file = opening.file;
  try {
    if (!file.has('collection') || !file.has('layout')) throw corrupt(path, 'not a collection manifest (no collection and layout sections)');
    const sections = await file.load(['collection', 'layout']);
    const head = sections.get('collection');
    const layout = sections.get('layout');
    if (head === undefined || !('json' in head) || !(layout instanceof Float64Array)) throw corrupt(path, 'sections of the wrong kind');
    const json = head.json;
    if (!isObj(json) || json.kind !== MANIFEST_KIND) throw corrupt(path, 'not a collection manifest');
    if (json.version !== MANIFEST_VERSION) throw corrupt(path, `manifest version ${String(json.version)} (this seekdata reads version ${MANIFEST_VERSION})`);
    if (!isStr(json.id) || typeof json.given !== 'string' || !Array.isArray(json.files) || json.files.length > MAX_FILES) throw corrupt(path, 'bad header');
    const entries: ManifestEntry[] = [];
    let at = 0;
    for (const [k, value] of json.files.entries()) {
      const { entry, next } = checkEntry(path, k, value, layout, at);
      entries.push(entry);
      at = next;
    }
    if (at !== layout.length) throw corrupt(path, `the layout section holds ${layout.length} values, the entries ${at}`);
    const names = new Set(entries.map((e) => e.facts.name));
    if (names.size !== entries.length) throw corrupt(path, 'a file is listed twice');
    return { id: json.id, given: json.given, entries };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof SeekdataError && message.startsWith(`${path}: damaged collection manifest`)) throw error;
    // The index reader's own findings (a section's checksum), restated as the manifest's.
    throw corrupt(path, message);
  } finally {
    await file.close();
  }
}
