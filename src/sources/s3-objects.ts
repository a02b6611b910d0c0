/**
 * Whole small objects of an S3-compatible store, read and written: what the index layer needs for the
 * index beside a data object (`<key>.sdx`). GetObject answers "absent" for a missing object (it is optional),
 * refuses one larger than asked for without downloading it, and reads the body with the same checks and
 * time limits as ranges; PutObject writes the bytes given. Both are retried under the shared policy.
 */
import { SeekdataError } from '../errors.js';
import { resolveRetry, Retrier, emptyStats, transient, type RemoteStats, type RetryOptions } from './retry.js';
import { describeS3Error, resolvedSecrets, s3Context, s3Error, type S3Options } from './s3-client.js';
import { readExactly } from './s3-body.js';
import { parseS3Url } from './s3-source.js';

export interface S3ObjectOptions extends S3Options {
  /** Time limit of each wait on the store, in ms. Default 30,000. */
  timeoutMs?: number | undefined;
  retry?: RetryOptions | undefined;
  /** Counters to add the requests to. */
  stats?: RemoteStats | undefined;
}

/** What a whole-object request needs: the object's names, the client, the secrets to scrub, the retry policy. */
async function objectRequest(url: string, options: S3ObjectOptions) {
  const { bucket, key } = parseS3Url(url);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const context = await s3Context(options, timeoutMs);
  const scrubber = await resolvedSecrets(context);
  const retrier = new Retrier(resolveRetry(options.retry), options.stats ?? emptyStats());
  return { bucket, key, name: `s3://${bucket}/${key}`, timeoutMs, context, scrubber, retrier };
}

/** The bytes of an object, or undefined when there is none; `maxBytes` bounds what is downloaded. */
export async function getS3Object(url: string, maxBytes: number, options: S3ObjectOptions = {}): Promise<{ bytes: Uint8Array; etag: string | undefined } | undefined> {
  const { bucket, key, name, timeoutMs, context, scrubber, retrier } = await objectRequest(url, options);
  return retrier.run({ file: name, range: 'GetObject' }, async () => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    let answer;
    try {
      answer = await context.client.send(new context.sdk.GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: controller.signal });
    } catch (cause) {
      const failure = describeS3Error(cause, scrubber);
      if (failure.status === 404 || /NoSuchKey|NotFound/.test(failure.code)) return undefined;
      const what = controller.signal.aborted ? `no answer within ${timeoutMs} ms` : failure.status === 403 ? `access denied (${failure.text})` : `GetObject failed (${failure.text})`;
      throw s3Error(failure.status === 403 ? 'HTTP_ERROR' : 'SOURCE_ERROR', `${name}: ${what}`, name, undefined, failure);
    } finally {
      clearTimeout(timer);
    }
    const length = answer.ContentLength;
    const body = answer.Body as { destroy?: () => void } | undefined;
    if (length === undefined || !Number.isSafeInteger(length) || length < 0 || length > maxBytes) {
      body?.destroy?.();
      throw new SeekdataError('SOURCE_ERROR', `${name}: ${length === undefined ? 'no Content-Length' : `${length} bytes, more than the ${maxBytes} allowed`}: not downloaded`, { file: name });
    }
    const bytes = await readExactly(answer.Body, length, timeoutMs, (what, isTransient, cause) => {
      const error = new SeekdataError('SOURCE_ERROR', `${name}: ${scrubber.scrub(what)}`, { file: name, ...(cause === undefined ? {} : { cause: scrubber.scrubError(cause) }) });
      return isTransient ? transient(error) : error;
    });
    return { bytes, etag: answer.ETag };
  });
}

/** Writes an object (PutObject), retried on transient failures. */
export async function putS3Object(url: string, bytes: Uint8Array, options: S3ObjectOptions = {}): Promise<void> {
  const { bucket, key, name, timeoutMs, context, scrubber, retrier } = await objectRequest(url, options);
  await retrier.run({ file: name, range: 'PutObject' }, async () => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      await context.client.send(new context.sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentLength: bytes.length }), { abortSignal: controller.signal });
    } catch (cause) {
      const failure = describeS3Error(cause, scrubber);
      const what = controller.signal.aborted ? `no answer within ${timeoutMs} ms` : failure.status === 403 ? `access denied (${failure.text})` : `PutObject failed (${failure.text})`;
      throw s3Error(failure.status === 403 ? 'HTTP_ERROR' : 'SOURCE_ERROR', `${name}: ${what}`, name, undefined, failure);
    } finally {
      clearTimeout(timer);
    }
  });
}
