/**
 * The files of a collection, from what the caller gave: a list of sources (paths, URLs, `s3://` keys,
 * bytes, byte sources; each string may itself be any of the forms below), a directory (its regular files,
 * not its `.sdx` indexes or hidden files), a glob (`data/*.csv.bz2`, `s3://bucket/events/2024-*.jsonl.gz`),
 * an `s3://bucket/prefix/` (every object under it), or a manifest file given as `@path`: one source per line,
 * blank lines and lines starting with `#` ignored, relative paths taken from the manifest's directory.
 * Globs, directories and prefixes come sorted by name (`compareNames`: UTF-8 bytes, S3's order); a list or
 * manifest keeps its order. Index files (`*.sdx`) and collection manifests (`*.sdc`) are never members. A file named twice is refused, also
 * under a second name (a symlink or hard link: local files are known by device and inode).
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { invalidOption, SeekdataError } from '../errors.js';
import { compareNames, hasGlob } from '../sources/glob.js';
import { listLocal } from '../sources/local-glob.js';
import { listS3, type ListS3Options } from '../sources/s3-list.js';
import { redactUrl } from '../sources/redact.js';
import type { ByteSource } from '../sources/source.js';
import type { Input } from '../readers/input.js';
import { MANIFEST_SUFFIX } from './collection-manifest-place.js';
import { INDEX_SUFFIX } from './location.js';
/** One source of a collection, or several. */
export type CollectionSources = string | URL | Uint8Array | ByteSource | ReadonlyArray<string | URL | Uint8Array | ByteSource>;

export interface Member {
  input: Input;
  /** How the file is named in messages (a path, a redacted URL, `s3://bucket/key`). */
  name: string;
  /** Compressed size when listing told it (local files, S3), for progress. */
  size: number | undefined;
  /** The ETag the listing gave (`s3://` globs and prefixes): with the size, the object's cheap fingerprint. */
  etag?: string | undefined;
}

const notIndex = (name: string): boolean => !name.endsWith(INDEX_SUFFIX) && !name.endsWith(MANIFEST_SUFFIX);

function isUrlText(text: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(text);
}

/** The members one string names. */
async function expand(text: string, s3: ListS3Options, inManifest: string | undefined): Promise<Member[]> {
  if (text.startsWith('@')) {
    if (inManifest !== undefined) throw new SeekdataError('INVALID_OPTION', `${inManifest}: a manifest may not name another manifest (${text})`, { file: inManifest });
    return readManifest(text.slice(1), s3);
  }
  if (/^s3:\/\//i.test(text)) {
    if (!hasGlob(text) && !text.endsWith('/')) return [{ input: text, name: text, size: undefined }];
    const objects = await listS3(text, s3);
    return objects.filter((o) => notIndex(o.key)).map((o) => ({ input: o.url, name: o.url, size: o.size, etag: o.etag }));
  }
  if (isUrlText(text)) return [{ input: text, name: redactUrl(text), size: undefined }];
  if (hasGlob(text)) {
    const paths = await listLocal(text, notIndex);
    return Promise.all(paths.map(async (path) => ({ input: path, name: path, size: (await stat(path).catch(() => undefined))?.size })));
  }
  let info;
  try {
    info = await stat(text);
  } catch {
    // Missing: opening it says so (NOT_FOUND naming it), or onBadFile: 'skip' skips it.
    return [{ input: text, name: text, size: undefined }];
  }
  if (!info.isDirectory()) return [{ input: text, name: text, size: info.size }];
  const entries = await readdir(text, { withFileTypes: true });
  const files: Member[] = [];
  for (const entry of entries.sort((a, b) => compareNames(a.name, b.name))) {
    if (entry.name.startsWith('.') || !notIndex(entry.name)) continue;
    const path = join(text, entry.name);
    const s = await stat(path).catch(() => undefined);
    if (s?.isFile() === true) files.push({ input: path, name: path, size: s.size });
    // A dangling symlink is a member that cannot be opened: reported (or skipped with a warning), never dropped.
    else if (s === undefined && entry.isSymbolicLink()) files.push({ input: path, name: path, size: undefined });
  }
  return files;
}

/** The sources a manifest lists, in its order. */
async function readManifest(path: string, s3: ListS3Options): Promise<Member[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new SeekdataError(code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR', `${path}: cannot read the manifest (${code ?? String(cause)})`, { file: path, cause });
  }
  const out: Member[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const source = isUrlText(line) || isAbsolute(line) ? line : join(dirname(path), line);
    out.push(...(await expand(source, s3, path)));
  }
  return out;
}

function describe(sources: CollectionSources): string {
  if (typeof sources === 'string') return isUrlText(sources) ? redactUrl(sources) : sources;
  if (sources instanceof URL) return redactUrl(sources);
  return 'the collection';
}

/** The members of a collection, in collection order. */
export async function listCollection(sources: CollectionSources, s3: ListS3Options = {}): Promise<Member[]> {
  const items = Array.isArray(sources) ? (sources as ReadonlyArray<unknown>) : [sources];
  const members: Member[] = [];
  for (const [k, item] of items.entries()) {
    if (typeof item === 'string') {
      if (item === '') throw invalidOption(Array.isArray(sources) ? `sources[${k}]` : 'sources', 'a path, URL, glob, directory or @manifest', item);
      members.push(...(await expand(item, s3, undefined)));
    } else if (item instanceof URL) {
      members.push(...(await expand(item.href, s3, undefined)));
    } else if (item instanceof Uint8Array) {
      members.push({ input: item, name: `<memory ${k}>`, size: item.length });
    } else if (typeof item === 'object' && item !== null && typeof (item as ByteSource).read === 'function' && typeof (item as ByteSource).size === 'number') {
      const source = item as ByteSource;
      members.push({ input: source, name: source.name, size: source.size });
    } else {
      throw invalidOption(Array.isArray(sources) ? `sources[${k}]` : 'sources', 'a path, URL, glob, directory, @manifest, Uint8Array or ByteSource (or a list of them)', item);
    }
  }
  if (members.length === 0) throw new SeekdataError('NOT_FOUND', `${describe(sources)}: no files match`, { file: describe(sources) });
  const seen = new Set<string>();
  // Local files are also known by device and inode (links followed): a second name of one file is a duplicate.
  const files = new Map<string, string>();
  for (const m of members) {
    if (typeof m.input !== 'string') continue;
    if (seen.has(m.name)) throw new SeekdataError('INVALID_OPTION', `${m.name} is named twice in the collection: each file may be a member once`, { file: m.name });
    seen.add(m.name);
    if (isUrlText(m.input)) continue;
    const info = await stat(m.input).catch(() => undefined);
    if (info === undefined) continue;
    const id = `${info.dev}:${info.ino}`;
    const other = files.get(id);
    if (other !== undefined) {
      throw new SeekdataError('INVALID_OPTION', `${m.name} is named twice in the collection (it is the same file as ${other}, through a link): each file may be a member once`, { file: m.name });
    }
    files.set(id, m.name);
  }
  return members;
}

/**
 * Whether a path names a collection rather than one file: a glob (`data/*.csv.gz`, `s3://b/p/*.jsonl.zst`), a
 * directory, a manifest `@list.txt`, or an `s3://bucket/prefix/`. A file whose name holds glob characters is
 * still that file; other URLs are one file.
 */
export async function namesCollection(path: string): Promise<boolean> {
  if (path.startsWith('@')) return true;
  if (/^s3:\/\//i.test(path)) return path.endsWith('/') || hasGlob(path);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) return false;
  const info = await stat(path).catch(() => undefined);
  if (info !== undefined) return info.isDirectory();
  return hasGlob(path);
}
