/** What a data file can be given as, and the byte source for it. */
import { SeekdataError, invalidOption } from '../errors.js';
import { FileSource, type FileSourceOptions } from '../sources/file-source.js';
import { HttpSource } from '../sources/http-source.js';
import { redactUrl } from '../sources/redact.js';
import type { RemoteOptions } from '../sources/remote.js';
import type { S3Options } from '../sources/s3-client.js';
import { S3Source } from '../sources/s3-source.js';
import { MemorySource, type ByteSource } from '../sources/source.js';

export type Input = string | URL | Uint8Array | ByteSource;

/** How remote sources are reached: the options of HTTP(S) and S3 sources (see RemoteOptions, S3Options). */
export interface SourceOptions extends RemoteOptions, S3Options, FileSourceOptions {
  /** Extra HTTP request headers (HTTP(S) URLs only). */
  headers?: Record<string, string> | undefined;
}

const REMOTE_KEYS = ['timeoutMs', 'retry', 'maxInFlight', 'limiter', 'coalesce', 'remoteCacheDir', 'remoteCacheBytes'] as const;
const S3_KEYS = ['region', 'endpoint', 'forcePathStyle', 'credentials'] as const;

/** The options given (undefined ones left out: the sources validate what they get). */
function pick<K extends string>(options: Partial<Record<K, unknown>>, keys: readonly K[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) if (options[key] !== undefined) out[key] = options[key];
  return out;
}

const fileOptions = (options: SourceOptions): FileSourceOptions => (options.syncReadBytes === undefined ? {} : { syncReadBytes: options.syncReadBytes });

export function isS3Url(input: unknown): input is string {
  return typeof input === 'string' && /^s3:\/\//i.test(input);
}

/**
 * The byte source for an input: a local path, an `http(s)://` URL (Range requests), an `s3://bucket/key`
 * URL (the AWS SDK, an optional peer dependency), bytes in memory, or a `ByteSource` of the caller's.
 */
export async function openSource(input: Input, options: SourceOptions = {}): Promise<ByteSource> {
  if (input instanceof Uint8Array) return new MemorySource(input);
  if (isS3Url(input)) return S3Source.open(input, { ...pick(options, REMOTE_KEYS), ...pick(options, S3_KEYS) });
  if (input instanceof URL || (typeof input === 'string' && /^https?:\/\//i.test(input))) {
    const url = input instanceof URL ? input.href : input;
    if (/^s3:/i.test(url)) return S3Source.open(url, { ...pick(options, REMOTE_KEYS), ...pick(options, S3_KEYS) });
    if (!/^https?:/i.test(url)) {
      if (input instanceof URL && input.protocol === 'file:') return FileSource.open(decodeURIComponent(input.pathname), fileOptions(options));
      throw new SeekdataError('INVALID_OPTION', `${redactUrl(url)}: only file paths, http(s) and s3 URLs are supported`, { file: redactUrl(url) });
    }
    return HttpSource.open(url, { ...pick(options, REMOTE_KEYS), ...(options.headers === undefined ? {} : { headers: options.headers }) });
  }
  if (typeof input === 'string') return FileSource.open(input, fileOptions(options));
  if (typeof input === 'object' && input !== null && typeof input.read === 'function' && typeof input.size === 'number') return input;
  throw invalidOption('input', 'a path, URL, Uint8Array or ByteSource', input);
}
