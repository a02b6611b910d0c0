/**
 * Using and keeping a collection's manifest when it is opened: which files the manifest still describes
 * (same name, same cheap fingerprint: a stat of a local file, the size and ETag the `s3://` listing gave —
 * no HEAD), which it lists that are gone, and writing a new one after an open that had to open files. A
 * missing manifest is silent; a damaged, foreign or other-version one is a warning and the collection is
 * opened the normal way; files that changed are opened the normal way, with one warning naming them.
 */
import { stat } from 'node:fs/promises';
import { afterWhere, isSeekdataError, SeekdataError } from '../errors.js';
import { RECORD_OPTION_KEYS } from '../option-keys.js';
import type { CollectionSources, Member } from './collection-list.js';
import { readManifest, writeManifest, type ManifestEntry, type MemberPrint } from './collection-manifest.js';
import { manifestId, manifestPlaces, type ManifestPlaces } from './collection-manifest-place.js';
import type { CollectionMember, MemberFacts } from './collection-member.js';
import { inspectPlace } from './index-place.js';

export interface ManifestUse {
  id: string;
  places: ManifestPlaces;
  given: string;
  /** The manifest read, its path, per member its fresh entry (or undefined: open it now), and the entries of files gone. */
  found?: { path: string; fresh: Array<ManifestEntry | undefined>; gone: ManifestEntry[] };
}

/** The record options given (JSON, keys sorted; '' when none), or undefined when one is a function (no manifest then). */
function givenRecordOptions(options: Record<string, unknown>): string | undefined {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(RECORD_OPTION_KEYS).sort()) {
    const value = options[key];
    if (value === undefined) continue;
    if (typeof value === 'function') return undefined;
    out[key] = value;
  }
  return Object.keys(out).length === 0 ? '' : JSON.stringify(out);
}

const isLocal = (m: Member): m is Member & { input: string } => typeof m.input === 'string' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(m.input);

/** The cheap fingerprint of a member now (a stat, or the listing's size and ETag), undefined when it has none. */
export async function printNow(m: Member): Promise<MemberPrint | undefined> {
  if (isLocal(m)) {
    const s = await stat(m.input).catch(() => undefined);
    return s?.isFile() === true ? { size: s.size, mtimeMs: s.mtimeMs } : undefined;
  }
  return m.size !== undefined && m.etag !== undefined ? { size: m.size, etag: m.etag } : undefined;
}

/** Whether JSON keeps every number of the facts as it is (not NaN, ±Infinity or -0, which it cannot). */
function jsonExact(facts: MemberFacts): boolean {
  const exact = (v: number | null | undefined): boolean => v === null || v === undefined || (Number.isFinite(v) && !Object.is(v, -0));
  const stats = facts.stats.every((s) => [s.count, s.missing, s.nonNumeric, s.min, s.max, s.mean, s.std].every(exact) && (s.categories ?? []).every((c) => exact(c.count)));
  return stats && [facts.time?.first, facts.time?.last, facts.timeReport?.first, facts.timeReport?.last].every(exact);
}

const samePrint = (a: MemberPrint | undefined, b: MemberPrint): boolean => a !== undefined && a.size === b.size && a.mtimeMs === b.mtimeMs && a.etag === b.etag;

/**
 * Reads the collection's manifest when it may be used (`manifest` not false, indexes kept): what is fresh
 * in it. Undefined when the collection cannot have a manifest at all.
 */
export async function findManifest(
  sources: CollectionSources,
  members: readonly Member[],
  options: { manifest?: boolean | 'refresh'; index?: string | false; rebuild?: boolean; onWarning?: (message: string) => void } & Record<string, unknown>,
): Promise<ManifestUse | undefined> {
  const mode = options.manifest ?? true;
  if (mode === false || options.index === false) return undefined;
  const id = manifestId(sources, members);
  const given = givenRecordOptions(options);
  if (id === undefined || given === undefined) return undefined;
  const places = await manifestPlaces(id, members, typeof options.index === 'string' ? options.index : undefined, options.onWarning);
  const use: ManifestUse = { id, places, given };
  if (mode === 'refresh' || options.rebuild === true) return use;
  for (const path of places.read) {
    let manifest;
    try {
      manifest = await readManifest(path);
    } catch (error) {
      if (!isSeekdataError(error)) throw error;
      options.onWarning?.(`${error.message}; the collection's files are opened one by one (run \`seekdata index\` on the collection to write a new manifest)`);
      continue;
    }
    if (manifest === undefined) continue;
    if (manifest.id !== id) {
      // A copied file, or a hash collision: another collection's facts are never used.
      options.onWarning?.(`${path}: the collection manifest there describes another collection (${manifest.id}): the collection's files are opened one by one`);
      continue;
    }
    // Other record options than it was written with: the files are opened with those (and a new manifest written).
    if (given !== '' && given !== manifest.given) continue;
    const byName = new Map(manifest.entries.map((e) => [e.facts.name, e]));
    const prints = await Promise.all(members.map(printNow));
    const fresh = members.map((m, k) => {
      const entry = byName.get(m.name);
      return entry !== undefined && entry.facts.options.timeFunction === undefined && samePrint(prints[k], entry.print) ? entry : undefined;
    });
    const names = new Set(members.map((m) => m.name));
    const gone = manifest.entries.filter((e) => !names.has(e.facts.name));
    const changed = members.filter((m, k) => fresh[k] === undefined && byName.has(m.name) && prints[k] !== undefined).map((m) => m.name);
    if (changed.length > 0) {
      options.onWarning?.(`${path}: ${changed.length} file(s) changed since the collection manifest was written (${changed.slice(0, 5).join(', ')}${changed.length > 5 ? ', …' : ''}): opened and indexed again`);
    }
    use.found = { path, fresh, gone };
    return use;
  }
  return use;
}

/**
 * Writes the manifest of a collection whose every file is known (no skips): the facts of its members and
 * their cheap fingerprints. A failure to write is a warning (the collection is open and correct anyway).
 */
export async function keepManifest(use: ManifestUse, members: readonly Member[], opened: readonly CollectionMember[], onWarning?: (message: string) => void): Promise<string | undefined> {
  let path: string | undefined;
  try {
    const entries: ManifestEntry[] = [];
    for (const [k, m] of members.entries()) {
      const facts = opened[k].facts;
      // A time function cannot be stored; numbers JSON would change would make the merged views differ.
      if (facts.options.timeFunction !== undefined || !jsonExact(facts)) return undefined;
      const print = use.found?.fresh[k]?.print ?? (await printNow(m));
      // A file that changed size while it was opened is left to the next open (its index knows better).
      if (print === undefined || (isLocal(m) && print.size !== facts.compressedSize)) return undefined;
      // Next time the file's index is there to be loaded (unless it could not be saved).
      entries.push({ facts: { ...facts, status: facts.status === 'none' ? 'none' : 'loaded' }, print });
    }
    path = await use.places.write();
    if (path === undefined) return undefined;
    // A file of that name that is no seekdata file is not ours to replace (a damaged manifest is).
    const there = await inspectPlace(path);
    if (there.kind === 'not-index' || there.kind === 'unusable') {
      const what = there.kind === 'unusable' ? there.reason : `${path} is not a collection manifest (it does not start with "SEEKDATA")`;
      throw new SeekdataError('IO_ERROR', `${what}: it is left as it is`, { file: path });
    }
    await writeManifest(path, { id: use.id, given: use.given, entries });
    return path;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // A message that starts by naming the same path (writeIndexFile's) does not name it twice.
    const why = path === undefined ? message : afterWhere(message, path);
    onWarning?.(`could not save the collection manifest${path === undefined ? '' : ` to ${path}`}: ${why}`);
    return undefined;
  }
}
