/**
 * Where the index of a data file lives: `<file>.sdx` beside it by default, or a file in the cache
 * directory when that one is not writable (read-only data directories, HTTP sources).
 */
import { access, mkdir } from 'node:fs/promises';
import { constants } from 'node:fs';
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { urlCacheKey } from '../sources/redact.js';

export const INDEX_SUFFIX = '.sdx';

/** The cache directory: $SEEKDATA_CACHE_DIR, else $XDG_CACHE_HOME/seekdata, else ~/.cache/seekdata. */
export function cacheDir(): string {
  const explicit = process.env.SEEKDATA_CACHE_DIR;
  if (explicit !== undefined && explicit !== '') return resolve(explicit);
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.cache'), 'seekdata');
}

function cachedName(id: string): string {
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 16);
  const base = basename(id.replace(/[?#].*$/, '')).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80) || 'data';
  return join(cacheDir(), `${base}-${hash}${INDEX_SUFFIX}`);
}

/** Places to look for an existing index, in order. `name` is a path or a URL (raw or redacted). */
export function indexCandidates(name: string, isUrl: boolean): string[] {
  // A URL is filed under its host and path, never its credentials or (signed) query string.
  if (isUrl) return [cachedName(urlCacheKey(name))];
  const path = resolve(name);
  return [path + INDEX_SUFFIX, cachedName(path)];
}

async function writableDir(dir: string): Promise<boolean> {
  try {
    await access(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where to write a new index. */
export async function indexWritePath(name: string, isUrl: boolean): Promise<string> {
  const [beside, cached] = indexCandidates(name, isUrl);
  if (!isUrl && (await writableDir(dirname(beside)))) return beside;
  const target = cached ?? beside;
  await mkdir(dirname(target), { recursive: true });
  return target;
}
