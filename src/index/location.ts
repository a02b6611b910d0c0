/**
 * Where the index of a data file lives: `<file>.sdx` beside it by default, or a file in the cache
 * directory when that one is not writable (read-only data directories, HTTP sources). Every candidate
 * place is looked at when loading (a stale index beside the data must not hide a fresh one in the
 * cache). The cache directory is trusted only when it is the user's own: one owned by another user, or
 * writable by everyone, could hold planted index files and is refused with a warning. Before an index is
 * written, what is at its place is looked at (ownership.ts): another data file's index where the path does
 * not name the data (an `index` file path, `<dir>/<name>.sdx` in an `index` directory) and a file that is
 * no index are never replaced.
 */
import { access, mkdir, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { SeekdataError } from '../errors.js';
import { urlCacheKey } from '../sources/redact.js';
import { inspectPlace } from './index-place.js';
import { foreignIndex, notAnIndex, ownedBy, type IndexOwner } from './ownership.js';

export const INDEX_SUFFIX = '.sdx';

/** The cache directory: $SEEKDATA_CACHE_DIR, else $XDG_CACHE_HOME/seekdata, else ~/.cache/seekdata. */
export function cacheDir(): string {
  const explicit = process.env.SEEKDATA_CACHE_DIR;
  if (explicit !== undefined && explicit !== '') return resolve(explicit);
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.cache'), 'seekdata');
}

function cacheDirOrigin(): string {
  if ((process.env.SEEKDATA_CACHE_DIR ?? '') !== '') return '$SEEKDATA_CACHE_DIR';
  if ((process.env.XDG_CACHE_HOME ?? '') !== '') return '$XDG_CACHE_HOME/seekdata';
  return '~/.cache/seekdata';
}

/**
 * Whether the cache directory may be used: `ok`, `missing`, or refused with a reason (not a directory,
 * owned by another user, or writable by everyone).
 */
export async function checkCacheDir(dir = cacheDir()): Promise<{ status: 'ok' | 'missing' } | { status: 'refused'; reason: string }> {
  let s;
  try {
    s = await stat(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing' };
    return { status: 'refused', reason: `cache directory ${dir} (${cacheDirOrigin()}) cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})` };
  }
  const where = `cache directory ${dir} (${cacheDirOrigin()})`;
  if (!s.isDirectory()) return { status: 'refused', reason: `${where} is not a directory` };
  const uid = process.getuid?.();
  if (uid !== undefined && s.uid !== uid) {
    return { status: 'refused', reason: `${where} is owned by uid ${s.uid}, not by you (uid ${uid}): indexes are neither read from nor written to it; set SEEKDATA_CACHE_DIR to a directory of your own` };
  }
  if ((s.mode & 0o002) !== 0) {
    return { status: 'refused', reason: `${where} is writable by every user: indexes are neither read from nor written to it; chmod o-w it or set SEEKDATA_CACHE_DIR to a directory of your own` };
  }
  return { status: 'ok' };
}

/** The file name of an index in the cache directory: the data's base name and a hash of its full name. */
function cachedName(id: string, dir: string): string {
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 16);
  return join(dir, `${indexBaseName(id)}-${hash}${INDEX_SUFFIX}`);
}

function indexBaseName(id: string): string {
  return basename(id.replace(/[?#].*$/, '')).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80) || 'data';
}

/** Whether this process may create files in `dir`. */
export async function writableDir(dir: string): Promise<boolean> {
  try {
    await access(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether a path is free for an index file: missing, or a regular file (after following symlinks). */
async function fileOrMissing(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

export interface IndexPlaces {
  /** Where to look for an existing index, in order of preference (each one is looked at). */
  read: string[];
  /** The paths of `read` that may hold another data file's index (ownership.ts): the index there must name this owner. */
  shared: ReadonlySet<string>;
  owner: IndexOwner;
  /**
   * Where to write a new index (creates the cache directory when it is the place). Rejects with
   * INDEX_CONFLICT when the `index` option names a file that is another data file's index or no index.
   */
  write: () => Promise<string>;
  /**
   * Whether `path` may take this data's index now (called again just before the rename): `'create'` when
   * nothing is there (the index is linked into place, never over a file that appeared meanwhile),
   * `'replace'` when what is there is this data's (or nobody's: empty, damaged); rejects otherwise.
   */
  claim: (path: string) => Promise<'create' | 'replace'>;
}

/**
 * Whether `path` may take the owner's index: see `IndexPlaces.claim`. At a shared path another data
 * file's index is INDEX_CONFLICT; at a path derived from the data's own name it is replaced (it is this
 * data's by name). A file that is not an index is never replaced: INDEX_CONFLICT where the user named the
 * place, IO_ERROR (the index is then not saved, with a warning) where it was derived.
 */
async function claimPlace(path: string, owner: IndexOwner, shared: boolean, named: boolean): Promise<'create' | 'replace'> {
  const state = await inspectPlace(path);
  switch (state.kind) {
    case 'missing':
      return 'create';
    case 'empty':
    case 'damaged':
      return 'replace';
    case 'index':
      if (shared && !ownedBy(state.recorded, owner)) throw foreignIndex(path, state.recorded, owner);
      return 'replace';
    case 'not-index':
      if (named) throw notAnIndex(path, owner);
      throw new SeekdataError('IO_ERROR', `${path} is not an index file: it is left as it is`, { file: path });
    case 'unusable':
      throw new SeekdataError('IO_ERROR', state.reason, { file: path });
  }
}

/**
 * The index places of a data file or URL. `explicit` is the `index` option: a file path (the index there
 * must be this data's), or an existing directory to keep the index in: as `<dir>/<data file name>.sdx`
 * while that name is free or holds this data's index, else as `<dir>/<name>-<hash of the full name>.sdx`
 * (two data files of one name in different directories). An explicit path that exists but is not a
 * regular file or directory (a FIFO, `/dev/zero`) gives no index, with a warning.
 */
export async function indexPlacesFor(
  name: string,
  isUrl: boolean,
  explicit: string | undefined,
  onWarning: ((message: string) => void) | undefined,
  owner: IndexOwner = { id: null, name },
): Promise<IndexPlaces | undefined> {
  const id = owner.id ?? (isUrl ? urlCacheKey(name) : resolve(name));
  if (explicit !== undefined) {
    let isDir = false;
    try {
      const s = await stat(explicit);
      isDir = s.isDirectory();
      if (!isDir && !s.isFile()) {
        onWarning?.(`${explicit} is not a regular file or directory: no index is read or written`);
        return undefined;
      }
    } catch (error) {
      // Missing (or unreadable): the index is written there, or the write fails with a warning. A name
      // ending in a slash asks for a directory, which is not made here: no file is written by that name.
      if (explicit.endsWith('/') || explicit.endsWith(sep)) {
        const what = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be used (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
        onWarning?.(`index directory ${explicit} ${what}: no index is read or written (create it, or give an index file path)`);
        return undefined;
      }
    }
    if (!isDir) {
      const shared = new Set([explicit]);
      const claim = (path: string): Promise<'create' | 'replace'> => claimPlace(path, owner, shared.has(path), true);
      const write = async (): Promise<string> => {
        await claim(explicit);
        return explicit;
      };
      return { read: [explicit], shared, owner, claim, write };
    }
    const plain = join(explicit, `${indexBaseName(name)}${INDEX_SUFFIX}`);
    const hashed = cachedName(id, explicit);
    const shared = new Set([plain]);
    const claim = (path: string): Promise<'create' | 'replace'> => claimPlace(path, owner, shared.has(path), true);
    const write = async (): Promise<string> => {
      try {
        await claim(plain);
        return plain;
      } catch (error) {
        if (!(error instanceof SeekdataError)) throw error;
      }
      await claim(hashed);
      return hashed;
    };
    return { read: [plain, hashed], shared, owner, claim, write };
  }
  const dir = cacheDir();
  const cache = await checkCacheDir(dir);
  if (cache.status === 'refused') onWarning?.(cache.reason);
  // A URL is filed under its host and path, never its credentials or (signed) query string.
  const local = resolve(name);
  const beside = isUrl ? undefined : local + INDEX_SUFFIX;
  const cached = cache.status === 'refused' ? undefined : cachedName(isUrl ? urlCacheKey(name) : local, dir);
  const read = [beside, cached].filter((p): p is string => p !== undefined);
  const claim = (path: string): Promise<'create' | 'replace'> => claimPlace(path, owner, false, false);
  let warned = false;
  const besideFree = async (path: string): Promise<boolean> => {
    if (!(await writableDir(dirname(path))) || !(await fileOrMissing(path))) return false;
    try {
      await claim(path);
      return true;
    } catch (error) {
      if (!(error instanceof SeekdataError)) throw error;
      if (!warned) onWarning?.(`${error.message}; the index goes to the cache directory`);
      warned = true;
      return false;
    }
  };
  const write = async (): Promise<string> => {
    if (beside !== undefined && (await besideFree(beside))) return beside;
    const again = await checkCacheDir(dir);
    if (again.status === 'refused' || cached === undefined) {
      throw new SeekdataError('IO_ERROR', again.status === 'refused' ? again.reason : `cache directory ${dir} cannot be used`, { file: dir });
    }
    if (again.status === 'missing') await mkdir(dir, { recursive: true, mode: 0o700 });
    if (!(await fileOrMissing(cached))) throw new SeekdataError('IO_ERROR', `${cached} is not a regular file`, { file: cached });
    await claim(cached);
    return cached;
  };
  return { read, shared: new Set(), owner, claim, write };
}
