/** Format detection by magic bytes. */

export type Format = 'bzip2' | 'xz' | 'plain';
export type UnsupportedFormat = 'gzip' | 'zstd' | 'lzip' | 'lzma-alone' | 'zip' | 'lz4' | 'binary';

export type Detected = { format: Format } | { format: UnsupportedFormat; unsupported: true };

/** How many leading bytes `detectFormat` looks at. */
export const DETECT_BYTES = 4096;

function startsWith(head: Uint8Array, magic: readonly number[]): boolean {
  if (head.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (head[i] !== magic[i]) return false;
  return true;
}

function matchingBytes(head: Uint8Array, magic: readonly number[]): number {
  let n = 0;
  for (let i = 0; i < magic.length && i < head.length; i++) if (head[i] === magic[i]) n++;
  return n;
}

export function detectFormat(head: Uint8Array): Detected {
  if (head.length >= 4 && head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68 && head[3] >= 0x31 && head[3] <= 0x39) {
    return { format: 'bzip2' };
  }
  // An xz header with one or two damaged magic bytes is still xz (and then reported as corrupt there,
  // with the offset) rather than an unknown format.
  if (matchingBytes(head, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) >= 4) return { format: 'xz' };
  if (startsWith(head, [0x1f, 0x8b])) return { format: 'gzip', unsupported: true };
  if (startsWith(head, [0x28, 0xb5, 0x2f, 0xfd])) return { format: 'zstd', unsupported: true };
  if (startsWith(head, [0x4c, 0x5a, 0x49, 0x50])) return { format: 'lzip', unsupported: true };
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04]) || startsWith(head, [0x50, 0x4b, 0x05, 0x06])) {
    return { format: 'zip', unsupported: true };
  }
  if (startsWith(head, [0x04, 0x22, 0x4d, 0x18])) return { format: 'lz4', unsupported: true };
  if (looksLikeLzmaAlone(head)) return { format: 'lzma-alone', unsupported: true };
  // Plain means text (CSV, JSONL, lines): a NUL byte means some binary format we do not know, such as a
  // compressed file whose magic bytes are damaged, and reading it as text would give garbage records.
  if (head.includes(0)) return { format: 'binary', unsupported: true };
  return { format: 'plain' };
}

/**
 * The legacy .lzma ("LZMA_Alone") header has no magic: a properties byte (lc/lp/pb, < 225), a 32-bit
 * dictionary size and a 64-bit uncompressed size (all ones when unknown). Like liblzma, accept it only
 * when the dictionary size is 2^n or 2^n + 2^(n-1) and the size is unknown or below 2^48, which text
 * files (the other thing we would read here) practically never satisfy: they would need NUL bytes.
 */
function looksLikeLzmaAlone(head: Uint8Array): boolean {
  if (head.length < 13 || head[0] > 224) return false;
  const dict = (head[1] | (head[2] << 8) | (head[3] << 16) | (head[4] << 24)) >>> 0;
  let ok = dict === 0xffffffff;
  for (let n = 12; n < 32 && !ok; n++) ok = dict === 2 ** n || dict === 2 ** n + 2 ** (n - 1);
  if (!ok) return false;
  let unknownSize = true;
  for (let i = 5; i < 13; i++) if (head[i] !== 0xff) unknownSize = false;
  return unknownSize || (head[11] === 0 && head[12] === 0);
}
