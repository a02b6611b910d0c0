/**
 * The settings of a recompression, checked: the output format (given, or chosen by the output's name),
 * its level (each format's own range and default) and the unit size.
 */
import { invalidOption } from '../../errors.js';
import { WRITE_FORMATS, isWriteFormat, writeFormatOfName, writerOf, type WriteFormat } from './writers.js';

/** Default decompressed bytes per unit: 1 MiB. */
export const DEFAULT_UNIT_BYTES = 1 << 20;
/** Largest unit: 256 MiB (memory holds a window of units, each with its compressed form). */
export const MAX_UNIT_BYTES = 256 << 20;

export interface WriteSettings {
  format: WriteFormat;
  level: number;
  unitBytes: number;
}

/** Checks `format`, `level` and `unitBytes` for writing `output` (INVALID_OPTION naming the field). */
export function writeSettings(output: string, options: { format?: unknown; level?: unknown; unitBytes?: unknown }): WriteSettings {
  let format: WriteFormat;
  if (options.format === undefined) {
    const named = writeFormatOfName(output);
    if (named === undefined) {
      throw invalidOption('format', `given when the output's name does not end in .gz, .zst, .xz or .bz2 (one of ${WRITE_FORMATS.join(', ')})`, options.format);
    }
    format = named;
  } else if (typeof options.format === 'string' && isWriteFormat(options.format)) {
    format = options.format;
  } else {
    throw invalidOption('format', `one of ${WRITE_FORMATS.join(', ')}`, options.format);
  }
  const writer = writerOf(format);
  const { min, max, meaning } = writer.levels;
  const level = options.level ?? writer.levels.default;
  if (typeof level !== 'number' || !Number.isInteger(level) || level < min || level > max) {
    throw invalidOption('level', `an integer from ${min} to ${max} for ${format} (${meaning})`, level);
  }
  const maxUnit = Math.min(MAX_UNIT_BYTES, writer.maxUnitBytes);
  const unitBytes = options.unitBytes ?? DEFAULT_UNIT_BYTES;
  if (typeof unitBytes !== 'number' || !Number.isSafeInteger(unitBytes) || unitBytes < 1 || unitBytes > maxUnit) {
    throw invalidOption('unitBytes', `an integer from 1 to ${maxUnit} (${maxUnit / 2 ** 20} MiB)`, unitBytes);
  }
  return { format, level, unitBytes };
}
