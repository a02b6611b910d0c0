/**
 * Which collections have a manifest, and where it lives. A collection has one when every member is a local
 * file or an `s3://` object (whose listing gives size and ETag): HTTP URLs, bytes and byte sources cannot
 * be fingerprinted without being opened. Its id is the collection as given (paths resolved); the manifest
 * is `.seekdata-collection-<hash of the id>.sdc`, kept:
 *  - local files: in the directory of the first file (hidden: a directory collection never lists it), or
 *    in the `index` directory when one is given, else in the cache directory when that is not writable;
 *  - `s3://` collections: in the cache directory (as `collection-<hash>.sdc`).
 * Every place is read (the first fresh one wins); the cache directory is used only when it is the user's
 * own (location.ts).
 */
import { mkdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import type { CollectionSources, Member } from './collection-list.js';
import { cacheDir, checkCacheDir, writableDir } from './location.js';

/** The manifest's suffix (collection-list.ts leaves such files out of collections). */
export const MANIFEST_SUFFIX = '.sdc';

const isUrl = (text: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(text);
const isS3 = (text: string): boolean => /^s3:\/\//i.test(text);

/** The collection's id (its sources, local paths resolved), or undefined when it cannot have a manifest. */
export function manifestId(sources: CollectionSources, members: readonly Member[]): string | undefined {
  for (const m of members) {
    if (typeof m.input !== 'string') return undefined;
    if (isUrl(m.input) && !isS3(m.input)) return undefined;
    // Listed objects carry their ETag; a single s3:// key would need a HEAD to be checked.
    if (isS3(m.input) && m.etag === undefined) return undefined;
  }
  const one = (item: unknown): string | undefined => {
    if (item instanceof URL) return item.href;
    if (typeof item !== 'string') return undefined;
    if (item.startsWith('@')) return `@${resolve(item.slice(1))}`;
    return isUrl(item) ? item : resolve(item);
  };
  const items = Array.isArray(sources) ? (sources as readonly unknown[]) : [sources];
  const ids = items.map(one);
  if (ids.some((id) => id === undefined)) return undefined;
  return JSON.stringify(ids);
}

export interface ManifestPlaces {
  read: string[];
  /** Where to write (creating the cache directory when it is the place), or undefined when nowhere fits. */
  write: () => Promise<string | undefined>;
}

export async function manifestPlaces(id: string, members: readonly Member[], indexOption: string | undefined, onWarning?: (message: string) => void): Promise<ManifestPlaces> {
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 16);
  const cache = cacheDir();
  const cacheState = await checkCacheDir(cache);
  if (cacheState.status === 'refused') onWarning?.(cacheState.reason);
  const cached = cacheState.status === 'refused' ? undefined : join(cache, `collection-${hash}${MANIFEST_SUFFIX}`);
  const first = members[0]?.input;
  const local = typeof first === 'string' && !isUrl(first);
  const besideDir = indexOption ?? (local ? dirname(resolve(first)) : undefined);
  const beside = besideDir === undefined ? undefined : join(besideDir, `.seekdata-collection-${hash}${MANIFEST_SUFFIX}`);
  const read = [beside, cached].filter((p): p is string => p !== undefined);
  const write = async (): Promise<string | undefined> => {
    if (beside !== undefined && (await writableDir(dirname(beside)))) return beside;
    if (cached === undefined) return undefined;
    const again = await checkCacheDir(cache);
    if (again.status === 'refused') return undefined;
    if (again.status === 'missing') await mkdir(cache, { recursive: true, mode: 0o700 });
    return cached;
  };
  return { read, write };
}
