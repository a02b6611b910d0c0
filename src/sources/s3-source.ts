/**
 * A byte source over an object in an S3-compatible store (`s3://bucket/key`), through the AWS SDK v3.
 *
 * At open, a HeadObject gives the size and the ETag (the source's `version`). Every read is a ranged
 * GetObject carrying `If-Match` with that ETag, and every answer is checked whatever the store did with
 * that condition (some S3-compatible stores ignore it on GET): its ETag must be the one seen at open and its
 * Content-Range exactly the range asked for, with the total seen at open. A changed object (412, another
 * ETag or total, a 404 or 416 now) is `STALE_SOURCE`, never a mix of old and new bytes; a wrong range or a
 * body longer than asked is a `SOURCE_ERROR` at once. Transient failures are retried (./remote.ts).
 *
 * `name` is `s3://bucket/key`: credentials never appear in it, in messages, or in cache keys.
 */
import { SeekdataError, invalidOption } from '../errors.js';
import { checkKnownKeys, keyRecord } from '../options.js';
import { RemoteRanges, resolveRemote, REMOTE_OPTION_KEYS, type RemoteOptions } from './remote.js';
import { describeS3Error, plainCause, resolvedSecrets, s3Context, s3Error, S3_OPTION_KEYS, type S3Options } from './s3-client.js';
import { readExactly } from './s3-body.js';
import type { SecretScrubber } from './redact.js';
import { transient, type RemoteStats } from './retry.js';
import type { ByteRange, ByteSource } from './source.js';
import type { S3Context } from './s3-client.js';

export interface S3SourceOptions extends RemoteOptions, S3Options {}

const KNOWN_KEYS = keyRecord([...REMOTE_OPTION_KEYS, ...S3_OPTION_KEYS]);

/** Bucket and key of an `s3://bucket/key` URL (the key taken literally: no percent-decoding). */
export function parseS3Url(url: string): { bucket: string; key: string } {
  const match = typeof url === 'string' ? /^s3:\/\/([^/?#]+)\/(.*)$/is.exec(url) : null;
  if (match === null) throw new SeekdataError('INVALID_OPTION', `${typeof url === 'string' ? JSON.stringify(url.slice(0, 200)) : String(url)} is not an s3://bucket/key URL`);
  const [, bucket, key] = match;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new SeekdataError('INVALID_OPTION', `s3://${bucket}/: not a valid bucket name (3 to 63 lowercase letters, digits, dots and hyphens)`);
  }
  return { bucket, key };
}

export function checkS3Options(options: unknown): asserts options is S3SourceOptions {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options);
  checkKnownKeys(options, KNOWN_KEYS, 'S3Source.open');
}

export class S3Source implements ByteSource {
  readonly name: string;
  private closed = false;
  readonly #bucket: string;
  readonly #key: string;
  readonly #etag: string;
  readonly #context: S3Context;
  readonly #scrubber: SecretScrubber;
  readonly #timeoutMs: number;
  readonly #ranges: RemoteRanges;

  private constructor(
    bucket: string,
    key: string,
    readonly size: number,
    etag: string,
    context: S3Context,
    scrubber: SecretScrubber,
    setup: Awaited<ReturnType<typeof resolveRemote>>,
  ) {
    this.name = `s3://${bucket}/${key}`;
    this.#bucket = bucket;
    this.#key = key;
    this.#etag = etag;
    this.#context = context;
    this.#scrubber = scrubber;
    this.#timeoutMs = setup.timeoutMs;
    this.#ranges = new RemoteRanges(this, this.name, etag, setup, (offset, length) => this.fetchOnce(offset, length));
  }

  /** The ETag seen at open. */
  get version(): string {
    return this.#etag;
  }

  /** Requests, retries and bytes of this source so far. */
  get stats(): RemoteStats {
    return this.#ranges.stats;
  }

  static async open(url: string, options: S3SourceOptions = {}): Promise<S3Source> {
    const { bucket, key } = parseS3Url(url);
    const name = `s3://${bucket}/${key}`;
    if (key === '' || key.endsWith('/')) throw new SeekdataError('INVALID_OPTION', `${name}: names a prefix, not an object (list it with listS3)`, { file: name });
    checkS3Options(options);
    const setup = await resolveRemote(options);
    const context = await s3Context(options, setup.timeoutMs);
    const scrubber = await resolvedSecrets(context);
    const head = await setup.retrier.run({ file: name, range: 'HeadObject', offset: 0 }, () =>
      setup.own.run(() => setup.shared.run(() => headObject(context, scrubber, bucket, key, name, setup.timeoutMs))),
    );
    return new S3Source(bucket, key, head.size, head.etag, context, scrubber, setup);
  }

  /**
   * Every read is an array of the caller's own (see `ByteSource.ownsReads` and ./remote.ts `readRanges`: a
   * fresh download, a copy out of a shared request or of read-ahead, or a disk-cache entry read anew; the cache
   * is written before the answer is handed out). A getter, so an object spread from this source does not inherit it.
   */
  get ownsReads(): boolean {
    return true;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (this.closed) throw new SeekdataError('CLOSED', `${this.name}: source is closed`, { file: this.name });
    return this.#ranges.read(offset, length);
  }

  async readRanges(ranges: ReadonlyArray<ByteRange>): Promise<Uint8Array[]> {
    if (this.closed) throw new SeekdataError('CLOSED', `${this.name}: source is closed`, { file: this.name });
    return this.#ranges.readRanges(ranges);
  }

  /** Fetches ranges that will be read soon, coalesced, and holds them until read (see ./read-ahead.ts). */
  async prefetch(ranges: ReadonlyArray<ByteRange>): Promise<void> {
    if (this.closed) throw new SeekdataError('CLOSED', `${this.name}: source is closed`, { file: this.name });
    return this.#ranges.prefetch(ranges);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.#ranges.close();
  }

  /** One checked ranged GET. */
  private async fetchOnce(offset: number, length: number): Promise<Uint8Array> {
    const last = offset + length - 1;
    const range = `bytes ${offset}-${last}`;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#timeoutMs);
    let answer;
    try {
      answer = await this.#context.client.send(
        new this.#context.sdk.GetObjectCommand({ Bucket: this.#bucket, Key: this.#key, Range: `bytes=${offset}-${last}`, IfMatch: this.#etag }),
        { abortSignal: controller.signal },
      );
    } catch (cause) {
      const failure = describeS3Error(cause, this.#scrubber);
      if (failure.status === 412 || failure.code === 'PreconditionFailed') throw this.stale(offset, range, `${failure.text}: its ETag is no longer ${this.#etag}`);
      if (failure.status === 404 || failure.code === 'NoSuchKey') throw this.stale(offset, range, `${failure.text}: it was deleted`);
      if (failure.status === 416 || failure.code === 'InvalidRange') throw this.stale(offset, range, `${failure.text}: it is shorter now`);
      const what = controller.signal.aborted ? `no answer within ${this.#timeoutMs} ms` : failure.status === 403 ? `access denied (${failure.text})` : `GetObject failed (${failure.text})`;
      throw s3Error(failure.status === 403 ? 'HTTP_ERROR' : 'SOURCE_ERROR', `${this.name}: ${range}: ${what}`, this.name, offset, failure);
    } finally {
      clearTimeout(timer);
    }
    const body = answer.Body;
    const fail = (what: string): SeekdataError => new SeekdataError('SOURCE_ERROR', `${this.name}: ${range}: ${what}`, { file: this.name, compressedOffset: offset });
    const discard = (): void => {
      (body as { destroy?: () => void } | undefined)?.destroy?.();
    };
    // The store may ignore If-Match on GET: the answer's own validators decide.
    if (answer.ETag !== undefined && answer.ETag !== this.#etag) {
      discard();
      throw this.stale(offset, range, `ETag ${this.#etag} → ${answer.ETag}`);
    }
    const got = /^bytes (\d+)-(\d+)\/(\d+)$/.exec((answer.ContentRange ?? '').trim());
    if (got !== null && Number(got[3]) !== this.size) {
      discard();
      throw this.stale(offset, range, `its size changed from ${this.size} to ${got[3]} bytes`);
    }
    if (answer.$metadata.httpStatusCode !== 206 || got === null || Number(got[1]) !== offset || Number(got[2]) !== last) {
      discard();
      throw fail(`the store answered HTTP ${answer.$metadata.httpStatusCode ?? '?'} with Content-Range ${JSON.stringify(answer.ContentRange ?? null)}`);
    }
    if (answer.ContentLength !== undefined && answer.ContentLength !== length) {
      discard();
      throw fail(`the store announced ${answer.ContentLength} bytes (Content-Length), expected ${length}`);
    }
    return readExactly(body, length, this.#timeoutMs, (what, isTransient, cause) => {
      const error = new SeekdataError('SOURCE_ERROR', `${this.name}: ${range}: ${this.#scrubber.scrub(what)}`, {
        file: this.name,
        compressedOffset: offset,
        ...(cause === undefined ? {} : { cause: this.#scrubber.scrubError(cause) }),
      });
      return isTransient ? transient(error) : error;
    });
  }

  private stale(offset: number, range: string, why: string): SeekdataError {
    return new SeekdataError('STALE_SOURCE', `${this.name}: the object changed in the store since it was opened (${why}) while reading ${range}; open it again to read the new version`, {
      file: this.name,
      compressedOffset: offset,
    });
  }
}

/** HeadObject: the size and ETag the source is bound to. */
async function headObject(context: S3Context, scrubber: SecretScrubber, bucket: string, key: string, name: string, timeoutMs: number): Promise<{ size: number; etag: string }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const head = await context.client.send(new context.sdk.HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: controller.signal });
    const size = head.ContentLength;
    if (size === undefined || !Number.isSafeInteger(size) || size < 0) throw new SeekdataError('SOURCE_ERROR', `${name}: HeadObject gave no usable size`, { file: name });
    if (head.ETag === undefined || head.ETag === '') throw new SeekdataError('SOURCE_ERROR', `${name}: the store gave no ETag, so a changed object could not be detected; seekdata refuses it`, { file: name });
    return { size, etag: head.ETag };
  } catch (cause) {
    if (cause instanceof SeekdataError) throw cause;
    const failure = describeS3Error(cause, scrubber);
    if (failure.status === 404 || /NotFound|NoSuchKey|NoSuchBucket/.test(failure.code)) {
      throw new SeekdataError('NOT_FOUND', `${name}: no such object (${failure.text})`, { file: name, cause: plainCause(failure) });
    }
    if (/Credential/i.test(failure.code)) {
      throw new SeekdataError('SOURCE_ERROR', `${name}: no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or options.credentials)`, { file: name, cause: plainCause(failure) });
    }
    if (/Region is missing/i.test(failure.text)) {
      throw new SeekdataError('INVALID_OPTION', `${name}: no AWS region (set AWS_REGION or options.region)`, { file: name });
    }
    const what = controller.signal.aborted ? `no answer within ${timeoutMs} ms` : failure.status === 403 ? `access denied (${failure.text})` : `HeadObject failed (${failure.text})`;
    throw s3Error(failure.status === 403 ? 'HTTP_ERROR' : 'SOURCE_ERROR', `${name}: ${what}`, name, undefined, failure);
  } finally {
    clearTimeout(timer);
  }
}
