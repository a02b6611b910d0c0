/**
 * The format registry: every format seekdata reads, in detection order. Adding a format is adding its
 * folder (a `FormatModule`, see format.ts) and one line here. Loading this module registers each format's
 * decoder for worker jobs (the worker entry imports it; so does everything that decodes in this thread).
 */
import { SeekdataError } from '../errors.js';
import { registerDecoder } from '../workers/registry.js';
import { bzip2Format } from './bzip2/format.js';
import type { FormatModule } from './format.js';
import { gzipFormat } from './gzip/format.js';
import { plainFormat } from './plain/format.js';
import { xzFormat } from './xz/format.js';
import { zstdFormat } from './zstd/format.js';

export const FORMATS = [bzip2Format, xzFormat, gzipFormat, zstdFormat, plainFormat] as const;

/** The name of a format seekdata reads. */
export type Format = (typeof FORMATS)[number]['name'];

const byName = new Map<string, FormatModule>();
const modules: readonly FormatModule[] = FORMATS;
for (const format of modules) {
  byName.set(format.name, format);
  if (format.decode !== undefined) registerDecoder(format.name, format.decode, format.prepare);
}

export function isFormat(name: string): name is Format {
  return byName.has(name);
}

/** The module of a format. */
export function formatOf(name: Format): FormatModule {
  const format = byName.get(name);
  if (format === undefined) throw new SeekdataError('UNSUPPORTED_FORMAT', `no reader for format ${JSON.stringify(name)}`);
  return format;
}
