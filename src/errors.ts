/**
 * The one error type of seekdata. Every failure a user can cause or meet (bad input, bad options,
 * damaged data, stale indexes) is a `SeekdataError` with a stable `code`, a message that names the
 * file and the place, and the underlying `cause` when there is one.
 */

export const ERROR_CODES = [
  'CORRUPT_DATA',
  'TRUNCATED',
  'UNSUPPORTED_FORMAT',
  'STALE_INDEX',
  'CORRUPT_INDEX',
  'INDEX_MISMATCH',
  'INDEX_CONFLICT',
  'OUT_OF_RANGE',
  'INVALID_OPTION',
  'NOT_FOUND',
  'IO_ERROR',
  'HTTP_ERROR',
  'STALE_SOURCE',
  'SOURCE_ERROR',
  'ABORTED',
  'CLOSED',
  'PARSE_ERROR',
  'WORKER_ERROR',
  'MAP_ERROR',
  'LIMIT_EXCEEDED',
  'NOT_OPENED',
] as const;

export type SeekdataErrorCode = (typeof ERROR_CODES)[number];

export interface SeekdataErrorDetails {
  /** The file (path or URL) the error is about. */
  file?: string | undefined;
  /** Byte offset in the compressed file, when the error is about a place in it. */
  compressedOffset?: number | undefined;
  /** Byte offset in the decompressed data, when the error is about a place in it. */
  offset?: number | undefined;
  /** Record number, when the error is about a record. */
  record?: number | undefined;
  /** INVALID_OPTION: the options key at fault (`cacheBytes`), so a caller such as the CLI can name its own flag. */
  option?: string | undefined;
  cause?: unknown;
}

export class SeekdataError extends Error {
  override readonly name = 'SeekdataError';
  readonly code: SeekdataErrorCode;
  readonly file: string | undefined;
  readonly compressedOffset: number | undefined;
  readonly offset: number | undefined;
  readonly record: number | undefined;
  readonly option: string | undefined;

  constructor(code: SeekdataErrorCode, message: string, details: SeekdataErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.file = details.file;
    this.compressedOffset = details.compressedOffset;
    this.offset = details.offset;
    this.record = details.record;
    this.option = details.option;
  }

  /** Plain-data form, used to carry the error across the worker boundary intact. */
  toJSON(): SerializedSeekdataError {
    return {
      __seekdataError: true,
      code: this.code,
      message: this.message,
      file: this.file,
      compressedOffset: this.compressedOffset,
      offset: this.offset,
      record: this.record,
      option: this.option,
    };
  }
}

export interface SerializedSeekdataError {
  __seekdataError: true;
  code: SeekdataErrorCode;
  message: string;
  file: string | undefined;
  compressedOffset: number | undefined;
  offset: number | undefined;
  record: number | undefined;
  option?: string | undefined;
}

export function isSerializedSeekdataError(value: unknown): value is SerializedSeekdataError {
  return typeof value === 'object' && value !== null && (value as { __seekdataError?: unknown }).__seekdataError === true;
}

export function deserializeError(value: SerializedSeekdataError): SeekdataError {
  return new SeekdataError(value.code, value.message, {
    file: value.file,
    compressedOffset: value.compressedOffset,
    offset: value.offset,
    record: value.record,
    option: value.option,
  });
}

/** Formats "file: " for messages, or nothing when no file is known. */
export function where(file: string | undefined): string {
  return file === undefined ? '' : `${file}: `;
}

/** `message` without a leading "file: " (`where(file)`), for a message said again of the same file. */
export function afterWhere(message: string, file: string): string {
  const prefix = where(file);
  return message.startsWith(prefix) ? message.slice(prefix.length) : message;
}

export function invalidOption(name: string, expected: string, got: unknown): SeekdataError {
  return new SeekdataError('INVALID_OPTION', `options.${name} must be ${expected}, got ${describe(got)}`, { option: name });
}

/** A value as an error message shows it: at most 200 characters (an object of a class by its class name). */
function describe(value: unknown): string {
  const text = describeWhole(value);
  return text.length > 200 ? `${text.slice(0, 200)}… (${text.length} characters)` : text;
}

function describeWhole(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return String(value);
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== null && proto !== Object.prototype && proto !== Array.prototype) {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === 'string' && name !== '') return `a ${name}`;
  }
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

export function isSeekdataError(error: unknown, code?: SeekdataErrorCode): error is SeekdataError {
  return error instanceof SeekdataError && (code === undefined || error.code === code);
}
