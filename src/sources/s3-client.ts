/**
 * The AWS SDK v3 S3 client as seekdata uses it. The SDK is an optional peer dependency, imported only
 * when an `s3://` source is used; without it the error says what to install. Clients are shared by every
 * source with the same settings (one connection pool), use the SDK's standard credential chain and region
 * resolution unless told otherwise, and do not retry themselves (`maxAttempts: 1`): retries are
 * seekdata's own (./retry.ts), so the two never multiply. SDK failures become typed errors here; their
 * text is scrubbed of every secret known (credentials, endpoint userinfo) before it is shown.
 */
import { createHash } from 'node:crypto';
import { SeekdataError, invalidOption } from '../errors.js';
import { redactUrl, SecretScrubber } from './redact.js';
import { transient } from './retry.js';

type Sdk = typeof import('@aws-sdk/client-s3');
export type S3ClientInstance = InstanceType<Sdk['S3Client']>;

/** Where and as whom to reach the store. */
export interface S3Options {
  /** The bucket's region. Default: the SDK's chain (`AWS_REGION`, the profile), else `us-east-1` when an endpoint is set. */
  region?: string;
  /**
   * The URL of an S3-compatible store (MinIO, Ceph RGW, R2, GCS interop), e.g. `http://127.0.0.1:9000`.
   * Default: `$AWS_ENDPOINT_URL_S3`, else `$AWS_ENDPOINT_URL`, else AWS. Must hold no credentials or query.
   */
  endpoint?: string;
  /** Path-style addressing (`endpoint/bucket/key`), which most S3-compatible stores need. Default: true with an endpoint, false on AWS. */
  forcePathStyle?: boolean;
  /** Static credentials. Default: the SDK's standard chain (environment, profile files, SSO, web identity, container and instance roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export const S3_OPTION_KEYS = ['region', 'endpoint', 'forcePathStyle', 'credentials'] as const;

const SDK_PACKAGE = '@aws-sdk/client-s3';

/** Imports the SDK (once); a missing SDK is a `NOT_FOUND` that says what to install. */
export async function loadS3Sdk(specifier: string = SDK_PACKAGE): Promise<Sdk> {
  try {
    return (await import(specifier)) as Sdk;
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new SeekdataError('NOT_FOUND', `s3:// sources need the AWS SDK for JavaScript v3, which is not installed: run \`npm install ${SDK_PACKAGE}\` (an optional peer dependency of seekdata)`, { cause });
    }
    throw new SeekdataError('SOURCE_ERROR', `s3:// sources: the AWS SDK (${specifier}) failed to load`, { cause });
  }
}

export interface S3Context {
  readonly sdk: Sdk;
  readonly client: S3ClientInstance;
  /** Scrubs credentials and endpoint secrets out of SDK text. */
  readonly scrubber: SecretScrubber;
}

const clients = new Map<string, Promise<S3Context>>();

/** The shared client for these settings (validated, naming the field). */
export function s3Context(options: S3Options, timeoutMs: number): Promise<S3Context> {
  const endpoint = options.endpoint ?? nonEmpty(process.env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(process.env.AWS_ENDPOINT_URL);
  if (endpoint !== undefined) checkEndpoint(endpoint, options.endpoint !== undefined ? 'options.endpoint' : 'AWS_ENDPOINT_URL');
  if (options.region !== undefined && (typeof options.region !== 'string' || !/^[a-z0-9-]+$/.test(options.region))) throw invalidOption('region', 'a region name like "eu-west-1"', options.region);
  if (options.forcePathStyle !== undefined && typeof options.forcePathStyle !== 'boolean') throw invalidOption('forcePathStyle', 'a boolean', options.forcePathStyle);
  const credentials = options.credentials;
  if (credentials !== undefined && (typeof credentials !== 'object' || credentials === null || typeof credentials.accessKeyId !== 'string' || typeof credentials.secretAccessKey !== 'string')) {
    throw new SeekdataError('INVALID_OPTION', 'options.credentials must be { accessKeyId, secretAccessKey, sessionToken? } strings (value not shown)');
  }
  const region = options.region ?? nonEmpty(process.env.AWS_REGION) ?? nonEmpty(process.env.AWS_DEFAULT_REGION) ?? (endpoint !== undefined ? 'us-east-1' : undefined);
  const forcePathStyle = options.forcePathStyle ?? endpoint !== undefined;
  const secretId = credentials === undefined ? 'chain' : createHash('sha256').update(`${credentials.accessKeyId}\0${credentials.secretAccessKey}\0${credentials.sessionToken ?? ''}`).digest('hex');
  const key = JSON.stringify([region, endpoint, forcePathStyle, secretId, timeoutMs]);
  let context = clients.get(key);
  if (context === undefined) {
    context = (async () => {
      const sdk = await loadS3Sdk();
      const client = new sdk.S3Client({
        ...(region === undefined ? {} : { region }),
        ...(endpoint === undefined ? { followRegionRedirects: true } : { endpoint }),
        forcePathStyle,
        ...(credentials === undefined ? {} : { credentials }),
        // seekdata retries (./retry.ts): the SDK must not retry too, or a failure would cost attempts x attempts.
        maxAttempts: 1,
        // Reads are ranges, which S3 does not checksum; S3-compatible stores may refuse checksum headers.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        // Sockets unbounded here: seekdata's limiters bound the requests in flight (64 by default across the
        // process), and the SDK's own default of 50 sockets per host would silently queue the rest.
        requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs, httpAgent: { keepAlive: true, maxSockets: Infinity }, httpsAgent: { keepAlive: true, maxSockets: Infinity } },
      });
      const secrets = [credentials?.accessKeyId, credentials?.secretAccessKey, credentials?.sessionToken, endpoint, process.env.AWS_SECRET_ACCESS_KEY, process.env.AWS_SESSION_TOKEN];
      return { sdk, client, scrubber: new SecretScrubber('', undefined, secrets.filter((s): s is string => s !== undefined && s !== '')) };
    })();
    clients.set(key, context);
    context.catch(() => clients.delete(key));
  }
  return context;
}

/** Destroys the shared clients (closing their idle connections). Sources opened before must not be read afterwards. */
export async function closeS3Clients(): Promise<void> {
  const all = [...clients.values()];
  clients.clear();
  for (const context of all) (await context.catch(() => undefined))?.client.destroy();
}

/** Adds the credentials the SDK resolved (from its chain) to the secrets scrubbed out of its text. */
export async function resolvedSecrets(context: S3Context): Promise<SecretScrubber> {
  try {
    const found = await context.client.config.credentials();
    return context.scrubber.with([found.accessKeyId, found.secretAccessKey, found.sessionToken]);
  } catch {
    return context.scrubber;
  }
}

function checkEndpoint(endpoint: unknown, field: string): void {
  if (typeof endpoint !== 'string') throw new SeekdataError('INVALID_OPTION', `${field} must be a URL string`);
  let parsed: URL;
  try {
    parsed = new URL(endpoint);
  } catch {
    throw new SeekdataError('INVALID_OPTION', `${field} ${JSON.stringify(redactUrl(endpoint))} is not a valid URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new SeekdataError('INVALID_OPTION', `${field} ${redactUrl(parsed)} must be an http(s) URL`);
  if (parsed.username !== '' || parsed.password !== '' || parsed.search !== '' || parsed.hash !== '') {
    throw new SeekdataError(
      'INVALID_OPTION',
      `${field} ${redactUrl(parsed)} holds credentials or a query string, which are not used: give credentials through the AWS credential chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile) or options.credentials`,
    );
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** What an SDK failure was, in the terms seekdata acts on. */
export interface S3Failure {
  /** HTTP status of the answer, when there was one. */
  status: number | undefined;
  /** The S3 error code or the error's name (`NoSuchKey`, `SlowDown`, `TimeoutError`, `ECONNRESET`…). */
  code: string;
  /** A scrubbed one-line description. */
  text: string;
}

export function describeS3Error(error: unknown, scrubber: SecretScrubber): S3Failure {
  const e = (typeof error === 'object' && error !== null ? error : {}) as { name?: unknown; code?: unknown; message?: unknown; Code?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  const code = [e.Code, e.code, e.name].find((v): v is string => typeof v === 'string' && v !== '' && v !== 'Error') ?? 'Error';
  const message = typeof e.message === 'string' && e.message !== '' && e.message !== code ? `: ${e.message}` : '';
  const text = scrubber.scrub(`${status === undefined ? '' : `HTTP ${status} `}${code}${message}`.replace(/\s+/g, ' ').slice(0, 300));
  return { status, code, text };
}

/** Failures a retry may cure: 5xx, 429 / SlowDown / throttling, timeouts, refused / reset / dropped connections. */
export function isTransientS3(failure: S3Failure): boolean {
  if (failure.status !== undefined) return failure.status >= 500 || failure.status === 429 || failure.status === 408 || /SlowDown|Throttl|RequestTimeout/i.test(failure.code);
  // No answer at all: the network, a time limit, or an answer the SDK could not parse (a cut XML error body).
  return !/Credential|Region|InvalidEndpoint|ERR_INVALID|TypeError|RangeError/i.test(failure.code);
}

/**
 * The cause to attach for an SDK failure: a plain error with its scrubbed description, never the SDK's
 * own error object, which carries the raw request (its signed Authorization header names the access key).
 */
export function plainCause(failure: S3Failure): Error {
  const cause = new Error(failure.text);
  cause.name = failure.code;
  cause.stack = `${cause.name}: ${cause.message}`;
  return Object.assign(cause, { code: failure.code, status: failure.status });
}

/** An error from an SDK failure: transient ones marked for the retry policy. */
export function s3Error(code: 'HTTP_ERROR' | 'SOURCE_ERROR', message: string, file: string, offset: number | undefined, failure: S3Failure): SeekdataError {
  const error = new SeekdataError(code, message, { file, compressedOffset: offset, cause: plainCause(failure) });
  return isTransientS3(failure) ? transient(error) : error;
}
