/** A byte source over an HTTP(S) URL that supports `Range` requests (Node's built-in fetch). */
import { SeekdataError } from '../errors.js';
import { checkRange, type ByteSource } from './source.js';

export interface HttpSourceOptions {
  /** Extra request headers (for example `Authorization`). Default: none. */
  headers?: Record<string, string>;
  /** Time limit of each request, in ms (a stalled server is an HTTP_ERROR, not a hang). Default 30,000. */
  timeoutMs?: number;
}

export class HttpSource implements ByteSource {
  private closed = false;

  private constructor(
    readonly name: string,
    readonly size: number,
    readonly version: string | undefined,
    private readonly headers: Record<string, string>,
    private readonly timeoutMs: number,
  ) {}

  static async open(url: string, options: HttpSourceOptions = {}): Promise<HttpSource> {
    const headers = options.headers ?? {};
    const timeoutMs = options.timeoutMs ?? 30_000;
    // A one-byte range request tells both the total size (Content-Range) and whether ranges work.
    const response = await doFetch(url, { ...headers, Range: 'bytes=0-0' }, timeoutMs);
    await response.arrayBuffer();
    if (response.status === 416) {
      // Range not satisfiable on an empty resource.
      return new HttpSource(url, 0, versionOf(response), headers, timeoutMs);
    }
    if (response.status !== 206) {
      throw new SeekdataError(
        'HTTP_ERROR',
        `${url}: server answered ${response.status} to a Range request; seekdata needs a server with Range support`,
        { file: url },
      );
    }
    const total = /\/(\d+)\s*$/.exec(response.headers.get('content-range') ?? '');
    if (total === null) {
      throw new SeekdataError('HTTP_ERROR', `${url}: response has no usable Content-Range header`, { file: url });
    }
    return new HttpSource(url, Number(total[1]), versionOf(response), headers, timeoutMs);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (this.closed) throw new SeekdataError('CLOSED', `${this.name}: source is closed`, { file: this.name });
    checkRange(this, offset, length);
    if (length === 0) return new Uint8Array(0);
    const response = await doFetch(this.name, { ...this.headers, Range: `bytes=${offset}-${offset + length - 1}` }, this.timeoutMs);
    const body = new Uint8Array(await response.arrayBuffer());
    if (response.status !== 206) {
      throw new SeekdataError('HTTP_ERROR', `${this.name}: range ${offset}-${offset + length - 1} answered ${response.status}`, {
        file: this.name,
        compressedOffset: offset,
      });
    }
    if (body.length !== length) {
      throw new SeekdataError(
        'HTTP_ERROR',
        `${this.name}: range ${offset}-${offset + length - 1} returned ${body.length} bytes, expected ${length}`,
        { file: this.name, compressedOffset: offset },
      );
    }
    return body;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

async function doFetch(url: string, headers: Record<string, string>, timeoutMs: number): Promise<Response> {
  try {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    if (response.status === 404) {
      await response.arrayBuffer();
      throw new SeekdataError('NOT_FOUND', `${url}: not found (HTTP 404)`, { file: url });
    }
    return response;
  } catch (cause) {
    if (cause instanceof SeekdataError) throw cause;
    const timedOut = cause instanceof Error && cause.name === 'TimeoutError';
    throw new SeekdataError('HTTP_ERROR', `${url}: ${timedOut ? `no answer within ${timeoutMs} ms` : `request failed (${String(cause)})`}`, { file: url, cause });
  }
}

function versionOf(response: Response): string | undefined {
  return response.headers.get('etag') ?? response.headers.get('last-modified') ?? undefined;
}
