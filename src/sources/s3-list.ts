/**
 * Listing the objects of an `s3://` glob or prefix, with ListObjectsV2 pagination (ContinuationToken):
 *
 * - `s3://bucket/prefix/*.csv.gz` (`*`, `?`, `[...]`, `**`: the glob language of ./glob.ts): the keys it
 *   matches. Only keys under the pattern's literal prefix are listed, and, unless a wildcard can cross a
 *   `/`, only that "directory" (Delimiter `/`), so a deep bucket is not walked for a shallow glob;
 * - `s3://bucket/prefix/` (ending with `/`, no wildcard): every object under the prefix, at any depth;
 * - `s3://bucket/key`: that one object, when it exists.
 *
 * Objects come sorted by key in UTF-8 byte order (S3's order; `compareNames`), with size and ETag. Keys
 * ending with `/` ("folder" markers) are left out. Each page request is retried like every other request.
 */
import { SeekdataError, invalidOption } from '../errors.js';
import { checkKnownKeys, keyRecord } from '../options.js';
import { compareNames, globCrossesSlash, globMatcher, globPrefix, hasGlob } from './glob.js';
import { emptyStats, resolveRetry, Retrier, type RemoteStats, type RetryOptions } from './retry.js';
import { describeS3Error, resolvedSecrets, s3Context, s3Error, S3_OPTION_KEYS, type S3Options } from './s3-client.js';
import { parseS3Url } from './s3-source.js';

export interface ListS3Options extends S3Options {
  /** Keys asked for per ListObjectsV2 page (MaxKeys). Default 1,000 (the most S3 gives). */
  pageSize?: number;
  /** Retries of each page request. Default: as for sources. */
  retry?: RetryOptions;
  /** Time limit of each page request, in ms. Default 30,000. */
  timeoutMs?: number;
  /** Counters to add this listing's requests and retries to. */
  stats?: RemoteStats;
}

export interface S3Object {
  /** `s3://bucket/key`. */
  url: string;
  bucket: string;
  key: string;
  size: number;
  etag: string | undefined;
  lastModified: Date | undefined;
}

const KNOWN_KEYS = keyRecord([...S3_OPTION_KEYS, 'pageSize', 'retry', 'timeoutMs', 'stats']);

export async function listS3(pattern: string, options: ListS3Options = {}): Promise<S3Object[]> {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options);
  checkKnownKeys(options, KNOWN_KEYS, 'listS3');
  const { bucket, key: keyPattern } = parseS3Url(pattern);
  const pageSize = options.pageSize ?? 1000;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw invalidOption('pageSize', 'an integer from 1 to 1000', pageSize);
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) throw invalidOption('timeoutMs', 'a positive integer', timeoutMs);
  const glob = hasGlob(keyPattern);
  // Without a wildcard the pattern is a key or a prefix, with its escapes (`\*`) undone.
  const literal = globPrefix(keyPattern);
  const matches = glob ? globMatcher(keyPattern) : literal.endsWith('/') || literal === '' ? () => true : (k: string) => k === literal;
  const prefix = literal;
  const delimiter = glob && !globCrossesSlash(keyPattern) ? '/' : undefined;
  const context = await s3Context(options, timeoutMs);
  const scrubber = await resolvedSecrets(context);
  const retrier = new Retrier(resolveRetry(options.retry), options.stats ?? emptyStats());
  const where = `s3://${bucket}/${prefix}`;
  const found: S3Object[] = [];
  let token: string | undefined;
  for (let page = 0; ; page++) {
    const answer = await retrier.run({ file: where, range: `ListObjectsV2 page ${page + 1}` }, async () => {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), timeoutMs);
      try {
        return await context.client.send(
          new context.sdk.ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix,
            MaxKeys: pageSize,
            ...(delimiter === undefined ? {} : { Delimiter: delimiter }),
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
          { abortSignal: controller.signal },
        );
      } catch (cause) {
        const failure = describeS3Error(cause, scrubber);
        if (failure.status === 404 || failure.code === 'NoSuchBucket') throw new SeekdataError('NOT_FOUND', `s3://${bucket}/: no such bucket (${failure.text})`, { file: where });
        const what = controller.signal.aborted ? `no answer within ${timeoutMs} ms` : failure.status === 403 ? `access denied (${failure.text})` : `listing failed (${failure.text})`;
        throw s3Error(failure.status === 403 ? 'HTTP_ERROR' : 'SOURCE_ERROR', `${where}: ${what}`, where, undefined, failure);
      } finally {
        clearTimeout(timer);
      }
    });
    for (const object of answer.Contents ?? []) {
      const key = object.Key;
      if (key === undefined || key.endsWith('/') || !matches(key)) continue;
      found.push({ url: `s3://${bucket}/${key}`, bucket, key, size: object.Size ?? 0, etag: object.ETag, lastModified: object.LastModified });
    }
    if (answer.IsTruncated !== true) break;
    token = answer.NextContinuationToken;
    if (token === undefined || token === '') throw new SeekdataError('SOURCE_ERROR', `${where}: the listing says it is truncated but gives no continuation token`, { file: where });
  }
  return found.sort((a, b) => compareNames(a.key, b.key));
}
