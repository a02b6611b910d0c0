/**
 * A byte source over an HTTP(S) URL served with `Range` requests (Node's built-in fetch).
 *
 * Every answer is checked before its body is read: a 206 whose `Content-Range` is not the range asked for
 * (start, end, and a total equal to the size seen at open) is an error, and so is any other status; the
 * body of a rejected answer is cancelled, never downloaded. The object must stay the one seen at open:
 * reads carry `If-Match` + `If-Range` with its strong ETag (or `If-Unmodified-Since` with its
 * Last-Modified when the ETag is weak or missing; a weak ETag may not be used in either header), and an
 * answer saying it changed (412, 416, a 200 instead of a 206, another ETag / Last-Modified / total) is a
 * `STALE_SOURCE` error, never a mix of old and new bytes.
 *
 * Failures a retry may cure (5xx, 429, 408, timeouts, dropped connections, bodies cut short) are retried
 * under the shared policy, within limits of requests in flight, with coalesced `readRanges` and the
 * optional disk cache (./remote.ts); what is left after the retry budget is a `SOURCE_ERROR`.
 *
 * The URL is shown only redacted (`name`); the real one, with its credentials and query string, and the
 * request headers stay private to this object (see ./redact.ts).
 */
import { SeekdataError, invalidOption } from '../errors.js';
import { describeRange, request, type Answer, type Asked, type Target } from './http-request.js';
import { redactUrl, SecretScrubber, urlCacheKey } from './redact.js';
import { RemoteRanges, resolveRemote, type RemoteOptions } from './remote.js';
import { transient, type RemoteStats } from './retry.js';
import { type ByteRange, type ByteSource } from './source.js';

export interface HttpSourceOptions extends RemoteOptions {
  /**
   * Extra request headers (for example `Authorization`). Never shown in messages. Default: none. An answer
   * with a `Content-Encoding` other than identity is refused: ranges are ranges of the stored bytes.
   */
  headers?: Record<string, string>;
}

/** The validators of the object seen at open. */
interface Validators {
  etag: string | undefined;
  lastModified: string | undefined;
}

export class HttpSource implements ByteSource {
  private closed = false;
  readonly #target: Target;
  readonly #seen: Validators;
  /** Conditional headers sent with every read, so a changed object is refused by the server itself. */
  readonly #conditions: Record<string, string>;
  readonly #ranges: RemoteRanges;

  private constructor(
    target: Target,
    readonly size: number,
    seen: Validators,
    setup: Awaited<ReturnType<typeof resolveRemote>>,
    identity: string,
  ) {
    this.#target = target;
    this.#seen = seen;
    this.#conditions = conditionsFor(seen);
    // The disk cache is keyed by a version the server vouches for with every read: a strong ETag or Last-Modified.
    const cacheVersion = this.#conditions['if-match'] ?? this.#conditions['if-unmodified-since'];
    this.#ranges = new RemoteRanges(this, identity, cacheVersion, setup, (offset, length) => this.fetchOnce(offset, length));
  }

  /** The redacted URL: no credentials, no query string. */
  get name(): string {
    return this.#target.name;
  }

  /** The ETag (else Last-Modified) seen at open. */
  get version(): string | undefined {
    return this.#seen.etag ?? this.#seen.lastModified;
  }

  /** Requests, retries and bytes of this source so far. */
  get stats(): RemoteStats {
    return this.#ranges.stats;
  }

  static async open(url: string | URL, options: HttpSourceOptions = {}): Promise<HttpSource> {
    const raw = url instanceof URL ? url.href : url;
    const name = redactUrl(raw);
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new SeekdataError('INVALID_OPTION', `${name}: not a valid URL`, { file: name });
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new SeekdataError('INVALID_OPTION', `${name}: only http(s) URLs are supported`, { file: name });
    }
    if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options);
    const headers = checkHeaders(options.headers);
    const setup = await resolveRemote(options);
    // fetch refuses URLs with credentials: they travel as Basic authorization (unless one is given).
    const fetchUrl = new URL(parsed.href);
    if (parsed.username !== '' || parsed.password !== '') {
      fetchUrl.username = '';
      fetchUrl.password = '';
      if (headers.authorization === undefined) {
        const pair = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
        headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
      }
    }
    // (No Accept-Encoding is set: fetch sends `identity` with every Range request, as the Fetch standard says.)
    const scrubber = new SecretScrubber(raw, parsed, Object.values(headers));
    const target: Target = { url: fetchUrl.href, name, headers, timeoutMs: setup.timeoutMs, scrubber };
    const { size, seen } = await setup.retrier.run({ file: name, range: 'bytes 0-0', offset: 0 }, () => setup.own.run(() => setup.shared.run(() => probe(target))));
    return new HttpSource(target, size, seen, setup, urlCacheKey(raw));
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

  /** One checked request for a range (retries, limits and coalescing are the caller's: ./remote.ts). */
  private async fetchOnce(offset: number, length: number): Promise<Uint8Array> {
    const asked = { first: offset, last: offset + length - 1 };
    const answer = await request(this.#target, { range: `bytes=${asked.first}-${asked.last}`, ...this.#conditions }, asked);
    const change = changeIn(this.#seen, answer);
    if (answer.status === 206) {
      const range = contentRange(answer);
      const why =
        change ?? (range?.total !== undefined && range.total !== this.size ? `its size changed from ${this.size} to ${range.total} bytes` : undefined);
      if (why !== undefined) {
        await answer.discard();
        throw this.stale(asked, why);
      }
      if (range === undefined || range.first !== asked.first || range.last !== asked.last || range.total === undefined) {
        await answer.discard();
        throw httpError(this.#target, asked, `the server answered with Content-Range ${JSON.stringify(answer.header('content-range') ?? null)}`);
      }
      return checkedBody(answer, length);
    }
    await answer.discard();
    switch (answer.status) {
      case 412:
        throw this.stale(asked, change ?? 'HTTP 412: its precondition failed');
      case 416:
        throw this.stale(asked, change ?? 'HTTP 416: the range is past its end now');
      case 200:
        throw this.stale(asked, change ?? 'HTTP 200: the whole object instead of the range asked for');
      default:
        throw statusError(this.#target, answer, '');
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.#ranges.close();
  }

  private stale(asked: Asked, why: string): SeekdataError {
    return new SeekdataError(
      'STALE_SOURCE',
      `${this.name}: the object changed on the server since it was opened (${why}) while reading ${describeRange(asked)}; open it again to read the new version`,
      { file: this.name, compressedOffset: asked.first },
    );
  }
}

/** The opening request: a one-byte range tells both the total size (Content-Range) and whether ranges work. */
async function probe(target: Target): Promise<{ size: number; seen: Validators }> {
  const asked = { first: 0, last: 0 };
  const answer = await request(target, { range: 'bytes=0-0' }, asked);
  const seen: Validators = { etag: answer.header('etag'), lastModified: answer.header('last-modified') };
  if (answer.status === 416) {
    // Range not satisfiable: an empty object (and only that: a non-empty one has a byte 0).
    const total = /^bytes \*\/(\d+)$/.exec(answer.header('content-range') ?? '');
    await answer.discard();
    if (total !== null && Number(total[1]) !== 0) {
      throw httpError(target, asked, `server answered 416 to bytes=0-0 for an object of ${total[1]} bytes`);
    }
    return { size: 0, seen };
  }
  if (answer.status !== 206) {
    await answer.discard();
    throw statusError(target, answer, `; seekdata needs a server with Range support`);
  }
  const range = contentRange(answer);
  if (range === undefined || range.first !== 0 || range.last !== 0 || range.total === undefined) {
    await answer.discard();
    throw httpError(target, asked, `answer has no usable Content-Range header (${JSON.stringify(answer.header('content-range') ?? null)})`);
  }
  await checkedBody(answer, 1);
  return { size: range.total, seen };
}

function checkHeaders(given: unknown): Record<string, string> {
  if (given === undefined) return {};
  if (typeof given !== 'object' || given === null || Array.isArray(given)) throw invalidOption('headers', 'an object of header names to strings', typeof given);
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(given)) {
    // Never echo a header's value: it may be a credential.
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) throw new SeekdataError('INVALID_OPTION', `options.headers: ${JSON.stringify(key)} is not a valid header name`);
    if (typeof value !== 'string' || /[\r\n\0]/.test(value)) {
      throw new SeekdataError('INVALID_OPTION', `options.headers[${JSON.stringify(key)}] must be a string without line breaks (value not shown)`);
    }
    out[key.toLowerCase()] = value;
  }
  // Ranges are ranges of the stored bytes: fetch asks for identity itself, no other encoding may be asked for.
  delete out['accept-encoding'];
  return out;
}

function conditionsFor(seen: Validators): Record<string, string> {
  // If-Match and If-Range compare strongly: a weak ETag would never match, so it is not sent.
  if (seen.etag !== undefined && !seen.etag.startsWith('W/')) return { 'if-match': seen.etag, 'if-range': seen.etag };
  if (seen.lastModified !== undefined) return { 'if-unmodified-since': seen.lastModified };
  return {};
}

/** How an answer's validators differ from those seen at open (weak comparison), or undefined. */
function changeIn(seen: Validators, answer: Answer): string | undefined {
  const etag = answer.header('etag');
  const opaque = (tag: string): string => tag.replace(/^W\//, '');
  if (etag !== undefined && seen.etag !== undefined && opaque(etag) !== opaque(seen.etag)) return `ETag ${seen.etag} → ${etag}`;
  const modified = answer.header('last-modified');
  if (modified !== undefined && seen.lastModified !== undefined && modified !== seen.lastModified) {
    return `Last-Modified ${seen.lastModified} → ${modified}`;
  }
  return undefined;
}

function contentRange(answer: Answer): { first: number; last: number; total: number | undefined } | undefined {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec((answer.header('content-range') ?? '').trim());
  if (match === null) return undefined;
  return { first: Number(match[1]), last: Number(match[2]), total: match[3] === '*' ? undefined : Number(match[3]) };
}

/** The body of a 206 that passed its checks: identity-encoded, announced with the right length, exactly that long. */
async function checkedBody(answer: Answer, length: number): Promise<Uint8Array> {
  const encoding = answer.header('content-encoding');
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
    await answer.discard();
    throw httpError(answer.target, answer.asked, `the server sent the range with Content-Encoding ${JSON.stringify(encoding)}; seekdata asks for identity`);
  }
  const announced = answer.header('content-length');
  if (announced !== undefined && Number(announced) !== length) {
    await answer.discard();
    throw httpError(answer.target, answer.asked, `the server announced ${announced} bytes (Content-Length), expected ${length}`);
  }
  return answer.body(length);
}

function httpError(target: Target, asked: Asked, what: string): SeekdataError {
  return new SeekdataError('HTTP_ERROR', `${target.name}: ${describeRange(asked)}: ${what}`, { file: target.name, compressedOffset: asked.first });
}

function statusError(target: Target, answer: Answer, hint: string): SeekdataError {
  const status = answer.status;
  if (status === 404 || status === 410) return new SeekdataError('NOT_FOUND', `${target.name}: not found (HTTP ${status})`, { file: target.name });
  const what = status === 401 || status === 403 ? `access denied (HTTP ${status})` : `server answered ${status} to a request for ${describeRange(answer.asked)}${hint}`;
  const error = new SeekdataError('HTTP_ERROR', `${target.name}: ${what}`, { file: target.name, compressedOffset: answer.asked.first });
  // A server error, "too many requests" or "request timeout" may be gone at the next try; other answers stay.
  return status >= 500 || status === 429 || status === 408 ? transient(error) : error;
}
