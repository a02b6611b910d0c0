/**
 * Secrets stay secret. A URL is shown only in its redacted form: no `user:password@`, no query string, no
 * fragment (`https://host/path/file.csv?…redacted`), because presigned URLs (AWS `X-Amz-*`, GCS
 * `X-Goog-*`, Azure `sig=`) and API tokens travel there. Everything seekdata prints or stores about a
 * remote source (messages, warnings, `info`, the index file's `source`, cache file names) goes through
 * `redactUrl`; the real URL and the request headers stay inside the `HttpSource` that uses them.
 *
 * `SecretScrubber` is the second line of defence: text that seekdata did not write itself (the message of
 * a network error from fetch, which may quote the URL) is scrubbed of every secret value before it is
 * shown or attached as a `cause`.
 */

export const REDACTED = '…redacted';

/** The form of a URL that may be shown and stored: scheme, host, port and path; nothing that may be a secret. */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = url instanceof URL ? url : new URL(url);
  } catch {
    return redactUnparsable(String(url));
  }
  const userinfo = parsed.username !== '' || parsed.password !== '' ? `${REDACTED}@` : '';
  // `URL.search` is '' for both "no query" and a bare "?": a bare "?" holds nothing to hide.
  const query = parsed.search !== '' ? `?${REDACTED}` : '';
  const fragment = parsed.hash !== '' ? `#${REDACTED}` : '';
  const authority = parsed.host === '' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(parsed.href) ? '' : `//${userinfo}${parsed.host}`;
  return `${parsed.protocol}${authority}${parsed.pathname}${query}${fragment}`;
}

/** The same rules on text that is not a valid URL: cut userinfo, query and fragment by their delimiters. */
function redactUnparsable(text: string): string {
  const withoutUser = text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, `$1${REDACTED}@`);
  const cut = withoutUser.search(/[?#]/);
  if (cut < 0) return withoutUser;
  return `${withoutUser.slice(0, cut)}${withoutUser[cut]}${REDACTED}`;
}

/**
 * The key a remote file's cached index is filed under: scheme, host, port and path, never credentials or the
 * query string, so a re-signed URL of the same object finds the same index (its fingerprint — size, ETag,
 * head and tail hashes — still decides whether that index is fresh). Accepts raw and redacted URLs alike.
 */
export function urlCacheKey(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return redactUnparsable(url).replace(/[?#].*$/, '');
  }
}

/** Values shorter than this are not scrubbed one by one (they would match innocent text); they are still covered by the longer values holding them. */
const MIN_SECRET = 4;

/** Scrubs every secret of one source (its URL's credentials and query, its request headers) out of foreign text. */
export class SecretScrubber {
  private readonly secrets: string[];

  constructor(raw: string, url: URL | undefined, headerValues: readonly string[]) {
    const found = new Set<string>([raw, ...headerValues]);
    if (url !== undefined) {
      found.add(url.href);
      for (const part of [url.search.slice(1), url.hash.slice(1), url.username, url.password]) {
        found.add(part);
        found.add(safeDecode(part));
      }
      for (const [key, value] of url.searchParams) {
        found.add(value);
        found.add(`${key}=${value}`);
        found.add(encodeURIComponent(value));
      }
    }
    // Longest first, so a secret holding another is replaced whole.
    this.secrets = [...found].filter((s) => s.length >= MIN_SECRET).sort((a, b) => b.length - a.length);
  }

  /** A scrubber that also removes these values (for example credentials resolved later, by the AWS SDK's chain). */
  with(values: ReadonlyArray<string | undefined>): SecretScrubber {
    return new SecretScrubber('', undefined, [...this.secrets, ...values.filter((v): v is string => v !== undefined)]);
  }

  scrub(text: string): string {
    let out = text;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  }

  /** True when the text holds one of the secrets. */
  leaks(text: string): boolean {
    return this.secrets.some((s) => text.includes(s));
  }

  /**
   * An error safe to attach as a `cause`: the error itself when no secret appears in its chain of messages,
   * else a copy (name, message, `code`, and the chain of causes) with the secrets replaced.
   */
  scrubError(error: unknown, depth = 0): unknown {
    if (!(error instanceof Error)) return typeof error === 'string' ? this.scrub(error) : error;
    if (!this.chainLeaks(error, 0)) return error;
    const copy = new Error(this.scrub(error.message), depth < 4 && error.cause !== undefined ? { cause: this.scrubError(error.cause, depth + 1) } : undefined);
    copy.name = error.name;
    copy.stack = `${copy.name}: ${copy.message}`;
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') Object.assign(copy, { code });
    return copy;
  }

  private chainLeaks(error: unknown, depth: number): boolean {
    if (depth > 4) return false;
    if (typeof error === 'string') return this.leaks(error);
    if (!(error instanceof Error)) return false;
    return this.leaks(error.message) || this.leaks(error.stack ?? '') || this.chainLeaks(error.cause, depth + 1);
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}
