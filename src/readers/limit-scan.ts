/**
 * The decoded-size limit as a scan meets it (see limit.ts), with no import of the format registry, so that
 * a format's own scan (gzip's, which must stop inside a huge deflate block) can use it.
 */
import { SeekdataError } from '../errors.js';

export const mb = (n: number): string => `${(n / 2 ** 20).toFixed(n < 2 ** 20 ? 3 : 1)} MiB`;

export function limitText(limit: number): string {
  return `the limit maxDecodedBytes = ${limit} bytes (${mb(limit)}; --max-decoded-mb)`;
}

/**
 * Stops a decoding scan once the decoded bytes seen pass `limit`: the function returned is called with every chunk's end
 * (its decompressed offset plus length) and the compressed bytes consumed so far.
 */
export function scanLimit(file: string, limit: number | undefined): (end: number, compressedDone: number) => void {
  if (limit === undefined) return () => {};
  return (end, compressedDone) => {
    if (end <= limit) return;
    throw new SeekdataError(
      'LIMIT_EXCEEDED',
      `${file}: decodes to more than ${limitText(limit)}: passed at decompressed byte ${limit} while scanning (about compressed byte ${compressedDone}); stopped there`,
      { file, offset: limit, compressedOffset: compressedDone },
    );
  };
}
