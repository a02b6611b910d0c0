/**
 * Which data file an index file belongs to, so that one data file's index is never overwritten by, or
 * used as if it were, another's. An index records its owner (`meta.owner`): a local file's real path
 * (symlinks resolved, so every name of one file is one owner), a URL's scheme, host and path (no
 * credentials, no query string: a re-signed URL is the same object), `s3://bucket/key`; null for data in
 * memory and byte sources of the caller's, which have no name of their own (the index path given for them
 * is their identity). Indexes written before owners were recorded name their source as it was given
 * (`meta.source`): that name, when absolute or a URL, stands in for the owner; a relative one proves nothing
 * (it was relative to a working directory the index does not record).
 *
 * Ownership is checked where the path does not say whose index it is: an `index` option naming a file, and
 * `<dir>/<data file name>.sdx` in an `index` directory (shared by every data file of that name). Paths
 * derived from the data's own name (`<file>.sdx` beside it, `<name>-<hash of its full name>.sdx` in the
 * cache or an index directory) are that data's whatever they record (a renamed directory keeps its indexes).
 */
import { existsSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { SeekdataError } from '../errors.js';
import { FileSource } from '../sources/file-source.js';
import { HttpSource } from '../sources/http-source.js';
import { urlCacheKey } from '../sources/redact.js';
import { S3Source } from '../sources/s3-source.js';
import type { ByteSource } from '../sources/source.js';

/** Who an index is for: `id` is what the index records (`meta.owner`), `name` the source's name for messages. */
export interface IndexOwner {
  id: string | null;
  name: string;
}

const isUrl = (text: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(text);

/** The owner of a source's index (see the opening comment). */
export async function ownerOf(source: ByteSource): Promise<IndexOwner> {
  if (source instanceof S3Source || source instanceof HttpSource) return { id: urlCacheKey(source.name), name: source.name };
  if (source instanceof FileSource) {
    const id = await realpath(source.name).catch(() => resolve(source.name));
    return { id, name: source.name };
  }
  return { id: null, name: source.name };
}

/** What an index file says of its source: `owner` (absent in indexes written before it was recorded) and `source`. */
export interface RecordedSource {
  owner?: string | null | undefined;
  source: string;
}

/** Whether an index whose metadata says `recorded` belongs to `owner`. */
export function ownedBy(recorded: RecordedSource, owner: IndexOwner): boolean {
  if (recorded.owner !== undefined) return recorded.owner === owner.id;
  // An older index: the name its source was opened by. A source without a name of its own is known by it.
  if (owner.id === null) return recorded.source === owner.name;
  // A relative file name was relative to a working directory the index does not record: from another
  // directory the same name is another file, so it proves nothing (a fresh such index is still used: it
  // describes these very bytes; a stale one is not replaced).
  if (!isUrl(recorded.source) && !isAbsolute(recorded.source)) return false;
  if (recorded.source === owner.name) return true;
  const key = (name: string): string => (isUrl(name) ? urlCacheKey(name) : resolve(name));
  const then = key(recorded.source);
  return then === owner.id || then === key(owner.name);
}

/** The data file an index belongs to, for messages: its recorded owner, else the name it was opened by. */
export function ownerName(recorded: RecordedSource): string {
  return typeof recorded.owner === 'string' ? recorded.owner : recorded.source;
}

/** The error for an `index` path that holds the index of another data file. */
export function foreignIndex(path: string, recorded: RecordedSource, owner: IndexOwner): SeekdataError {
  const other = ownerName(recorded);
  const unsure = recorded.owner === undefined && !isUrl(other) && !isAbsolute(other);
  const whose = unsure
    ? `this index file was written by an older seekdata for "${other}", a name relative to a working directory it does not record, so it may be another data file's`
    : `this index file belongs to ${other}, not to ${owner.name}`;
  const gone = !unsure && isAbsolute(other) && !existsSync(other);
  const remove = gone
    ? `or remove ${path}: ${other} no longer exists`
    : `or remove ${path} if ${unsure ? 'no other data file needs it' : `${other} no longer needs it`}`;
  return new SeekdataError(
    'INDEX_CONFLICT',
    `${path}: ${whose}: it is left as it is; give ${owner.name} an index path of its own (the \`index\` option, \`--index\` on the command line: another file, or a directory) ${remove}`,
    { file: path },
  );
}

/** The error for an `index` path that holds a file which is not an index at all. */
export function notAnIndex(path: string, owner: IndexOwner): SeekdataError {
  return new SeekdataError(
    'INDEX_CONFLICT',
    `${path} is not an index file (it does not start with "SEEKDATA"): it is left as it is; give ${owner.name} another index path (the \`index\` option, \`--index\` on the command line)`,
    { file: path },
  );
}
