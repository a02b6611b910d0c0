/**
 * What a source is, checked before anything is decoded: its format (by magic bytes, and by name for files
 * too short to hold any), and whether its xz blocks have an integrity check at all.
 */
import { SeekdataError } from '../errors.js';
import type { ByteSource } from '../sources/source.js';
import { detectFormat, DETECT_BYTES, FORMAT_LABELS, type Format } from './detect.js';
import type { UnitTable } from './units.js';

/**
 * Reads the head of a source and returns its format; unsupported formats reject with UNSUPPORTED_FORMAT,
 * and a file too short for the compressed format its name or first bytes say with TRUNCATED.
 */
export async function sourceFormat(source: ByteSource): Promise<Format> {
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
    const what = detected.format === 'binary' ? 'unknown binary format (not bzip2, xz or text; damaged magic bytes?)' : `${detected.format} files are not supported`;
    throw new SeekdataError('UNSUPPORTED_FORMAT', `${source.name}: ${what}; seekdata reads bzip2, xz and plain text files`, { file: source.name });
  }
  return detected.format;
}

/**
 * An xz stream written with `--check=none` has nothing to verify a block's bytes against: 'full' can only
 * confirm that each block decodes to the size its index records. Says so once per open.
 */
export function warnUnchecked(units: UnitTable, file: string, onWarning: ((message: string) => void) | undefined): void {
  if (units.format !== 'xz' || onWarning === undefined) return;
  let unchecked = 0;
  for (let u = 0; u < units.count; u++) if (units.kind[u] === 0) unchecked++;
  if (unchecked > 0) {
    onWarning(`${file}: ${unchecked} of ${units.count} xz blocks have no integrity check (written with --check=none): damage inside them cannot be detected`);
  }
}
