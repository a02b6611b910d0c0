/** What a data file can be given as, and the byte source for it. */
import { SeekdataError, invalidOption } from '../errors.js';
import { FileSource } from '../sources/file-source.js';
import { HttpSource } from '../sources/http-source.js';
import { redactUrl } from '../sources/redact.js';
import { MemorySource, type ByteSource } from '../sources/source.js';

export type Input = string | URL | Uint8Array | ByteSource;

export async function openSource(input: Input, headers?: Record<string, string>, timeoutMs?: number): Promise<ByteSource> {
  if (input instanceof Uint8Array) return new MemorySource(input);
  if (input instanceof URL || (typeof input === 'string' && /^https?:\/\//i.test(input))) {
    const url = input instanceof URL ? input.href : input;
    if (!/^https?:/i.test(url)) {
      if (input instanceof URL && input.protocol === 'file:') return FileSource.open(decodeURIComponent(input.pathname));
      throw new SeekdataError('INVALID_OPTION', `${redactUrl(url)}: only file paths and http(s) URLs are supported`, { file: redactUrl(url) });
    }
    return HttpSource.open(url, { ...(headers === undefined ? {} : { headers }), ...(timeoutMs === undefined ? {} : { timeoutMs }) });
  }
  if (typeof input === 'string') return FileSource.open(input);
  if (typeof input === 'object' && input !== null && typeof input.read === 'function' && typeof input.size === 'number') return input;
  throw invalidOption('input', 'a path, URL, Uint8Array or ByteSource', input);
}
