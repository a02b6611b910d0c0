/**
 * What a source is, checked before anything is decoded: its format (by magic bytes, and by name for files
 * too short to hold any), and the warnings its format gives once a file is opened.
 */
import { SeekdataError } from '../errors.js';
import type { ByteSource } from '../sources/source.js';
import { prepareDecoder } from '../workers/registry.js';
import { detectFormat, DETECT_BYTES, FORMAT_LABELS } from './detect.js';
import { FORMATS, formatOf, type Format } from './formats.js';
import type { UnitTable } from './units.js';

/** The compressed formats read, for messages ("bzip2, xz"). */
const READ = FORMATS.filter((f) => f.signature !== undefined)
  .map((f) => f.name)
  .join(', ');

/**
 * Reads the head of a source and returns its format; unsupported formats reject with UNSUPPORTED_FORMAT,
 * and a file too short for the compressed format its name or first bytes say with TRUNCATED. The format's
 * decoder is prepared in this thread on the way (`prepareDecoder`): what `info()` names, and a decoder
 * fallback said once, before anything is decoded.
 */
export async function sourceFormat(source: ByteSource): Promise<Format> {
  const format = await detectedFormat(source);
  await prepareDecoder(format);
  return format;
}

async function detectedFormat(source: ByteSource): Promise<Format> {
  const detected = detectFormat(await source.read(0, Math.min(DETECT_BYTES, source.size)), { size: source.size, name: source.name });
  if ('truncated' in detected) {
    const label = FORMAT_LABELS[detected.format];
    const bytes = `${detected.size} byte${detected.size === 1 ? '' : 's'}`;
    const why =
      detected.by === 'name'
        ? `the name says ${label}, but ${bytes} cannot hold its ${detected.needed}-byte header`
        : `its ${bytes} are only the start of the ${detected.needed}-byte ${label} header`;
    throw new SeekdataError('TRUNCATED', `${source.name}: truncated ${label} file: ${why}`, { file: source.name, compressedOffset: detected.size });
  }
  if ('unsupported' in detected) {
    const what = detected.format === 'binary' ? `unknown binary format (not ${READ} or text; damaged magic bytes?)` : `${detected.format} files are not supported`;
    throw new SeekdataError('UNSUPPORTED_FORMAT', `${source.name}: ${what}; seekdata reads ${READ} and plain text files`, { file: source.name });
  }
  return detected.format;
}

/** Gives the format's warnings about an opened file (e.g. xz blocks without an integrity check), once per open. */
export function warnOnOpen(units: UnitTable, file: string, onWarning: ((message: string) => void) | undefined): void {
  if (onWarning === undefined) return;
  for (const message of formatOf(units.format).warnings?.(units, file) ?? []) onWarning(message);
}
