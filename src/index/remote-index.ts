/**
 * The index beside an object in a store: `s3://bucket/<key>.sdx`. Opening an `s3://` source whose local
 * cache holds no fresh index downloads that object (when there is one) into the cache place, where it is
 * checked like every index file read from disk — it is untrusted: its metadata and fingerprint (size, ETag,
 * first and last 64 KiB) must match the object, and every section is validated before use. With
 * `indexUpload` the index in use is put beside the object after opening, so that every other host only
 * downloads it. A failed download or upload is a warning, never an error: the index is optional.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { getS3Object, putS3Object, type S3ObjectOptions } from '../sources/s3-objects.js';
import { INDEX_SUFFIX } from './location.js';

/** Index files larger than this are not downloaded (a sane bound on what a bucket can make us fetch). */
const MAX_REMOTE_INDEX_BYTES = 2 ** 31;

export interface RemoteIndex {
  /** `s3://bucket/<key>.sdx` */
  readonly url: string;
  /** Downloads the index into `path` (atomically); false when the store has none. */
  fetch(path: string, onWarning: ((message: string) => void) | undefined): Promise<boolean>;
  /** Puts the index file at `path` beside the object. */
  upload(path: string, onWarning: ((message: string) => void) | undefined): Promise<boolean>;
}

export function remoteIndexOf(objectUrl: string, options: S3ObjectOptions): RemoteIndex {
  const url = `${objectUrl}${INDEX_SUFFIX}`;
  return {
    url,
    async fetch(path, onWarning) {
      let found;
      try {
        found = await getS3Object(url, MAX_REMOTE_INDEX_BYTES, options);
      } catch (error) {
        onWarning?.(`could not download the index beside the object (${error instanceof Error ? error.message : String(error)}); building one`);
        return false;
      }
      if (found === undefined) return false;
      // Written beside the target and renamed over it: a reader sees the old file or the whole new one.
      const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        await writeFile(temp, found.bytes, { flag: 'wx', mode: 0o644 });
        await rename(temp, path);
        return true;
      } catch (error) {
        await unlink(temp).catch(() => undefined);
        onWarning?.(`could not keep the index downloaded from ${url} at ${path} (${error instanceof Error ? error.message : String(error)})`);
        return false;
      }
    },
    async upload(path, onWarning) {
      try {
        await putS3Object(url, await readFile(path), options);
        return true;
      } catch (error) {
        onWarning?.(`could not upload the index to ${url} (${error instanceof Error ? error.message : String(error)})`);
        return false;
      }
    },
  };
}
