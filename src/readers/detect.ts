/**
 * Format detection by magic bytes, and by name for files too short to hold any: a compressed file cut to
 * a few bytes must be reported as truncated, never read as the plain text its first bytes spell ("BZh").
 * The formats read bring their signatures (format.ts); formats only recognised are listed here.
 */
import type { Signature } from './format.js';
import { FORMATS, isFormat, type Format } from './formats.js';

export type { Format } from './formats.js';

/** Compressed formats we recognise by their magic, read or not. */
type KnownFormat = 'bzip2' | 'xz' | 'gzip' | 'zstd' | 'lzip' | 'lzma-alone' | 'zip' | 'lz4';
/** Formats recognised but not read (those of the registry are read), and binary data of no known format. */
export type UnsupportedFormat = Exclude<KnownFormat, Format> | 'binary';
type CompressedFormat = Exclude<Format, 'plain'> | Exclude<UnsupportedFormat, 'binary'>;

export type Detected =
  | { format: Format }
  | { format: UnsupportedFormat; unsupported: true }
  /**
   * Too short to be the compressed format its name or its first bytes say (`by`): `size` bytes where the
   * format's header alone takes `needed`.
   */
  | { format: CompressedFormat; truncated: true; by: 'name' | 'content'; size: number; needed: number };

/** How many leading bytes `detectFormat` looks at. */
export const DETECT_BYTES = 4096;

interface NamedSignature extends Signature {
  format: CompressedFormat;
}

/**
 * Compressed formats recognised but not read: detected so that they are reported as unsupported (or
 * truncated), never read as text. A format of the registry (formats.ts) brings its own signature, and its
 * row here is then left out. Header sizes: gzip fixed header; zstd magic + frame header descriptor +
 * window byte; lzip "LZIP" + version + dictionary size; zip end-of-central-directory record (an empty
 * archive); lz4 magic + FLG + BD + header checksum; LZMA_Alone properties + dictionary + size.
 */
const OTHER_SIGNATURES: ReadonlyArray<Signature & { format: KnownFormat }> = [
  { format: 'gzip', magic: [0x1f, 0x8b], header: 10, extensions: ['.gz', '.tgz', '.bgz', '.gzip'] },
  { format: 'zstd', magic: [0x28, 0xb5, 0x2f, 0xfd], header: 6, extensions: ['.zst', '.tzst', '.zstd'] },
  { format: 'lzip', magic: [0x4c, 0x5a, 0x49, 0x50], header: 6, extensions: ['.lz', '.tlz'] },
  { format: 'zip', magic: [0x50, 0x4b, [0x03, 0x07], [0x04, 0x08]], header: 22, extensions: ['.zip'] },
  { format: 'lz4', magic: [0x04, 0x22, 0x4d, 0x18], header: 7, extensions: ['.lz4'] },
  { format: 'lzma-alone', magic: [], header: 13, extensions: ['.lzma'] },
];

function unsupported(sig: Signature & { format: KnownFormat }): sig is Signature & { format: Exclude<KnownFormat, Format> } {
  return !isFormat(sig.format);
}

const UNSUPPORTED: ReadonlyArray<Signature & { format: Exclude<KnownFormat, Format> }> = OTHER_SIGNATURES.filter(unsupported);

/** The signatures of the formats read (in registry order), then of those only recognised. */
const SIGNATURES: readonly NamedSignature[] = [
  ...FORMATS.flatMap((f): NamedSignature[] => (f.signature === undefined || f.name === 'plain' ? [] : [{ ...f.signature, format: f.name }])),
  ...UNSUPPORTED,
];

function byteMatches(byte: number, want: number | readonly [number, number]): boolean {
  return typeof want === 'number' ? byte === want : byte >= want[0] && byte <= want[1];
}

function hasMagic(head: Uint8Array, sig: Signature): boolean {
  if (sig.magic.length === 0 || head.length < sig.magic.length) return false;
  for (let i = 0; i < sig.magic.length; i++) if (!byteMatches(head[i], sig.magic[i])) return false;
  return true;
}

/** Whether a byte could be part of a text file: printable ASCII, tab / line ends, or any byte ≥ 0x80 of UTF-8 but 0xfd-0xff / 0xc0-0xc1. */
function isTextByte(byte: number): boolean {
  if (byte === 0x09 || byte === 0x0a || byte === 0x0d) return true;
  if (byte < 0x20 || byte === 0x7f) return false;
  return !(byte === 0xc0 || byte === 0xc1 || byte >= 0xf5);
}

/** The format whose magic the whole (short) file is a proper prefix of, when that is telling enough. */
function cutMagic(head: Uint8Array, size: number): NamedSignature | undefined {
  if (size === 0 || head.length < size) return undefined;
  for (const sig of SIGNATURES) {
    if (sig.magic.length === 0 || size >= sig.magic.length) continue;
    let prefix = true;
    for (let i = 0; i < size && prefix; i++) prefix = byteMatches(head[i], sig.magic[i]);
    // One text byte ("B", "(", "L", "P") is too little to call a text file a cut compressed one.
    if (prefix && (size >= 2 || !isTextByte(head[0]))) return sig;
  }
  return undefined;
}

/** The format a file name (path or URL) says by its ending, if any. */
function formatByName(name: string): NamedSignature | undefined {
  let path = name;
  if (/^https?:\/\//i.test(path)) path = path.replace(/[?#].*$/, '');
  path = path.toLowerCase();
  return SIGNATURES.find((sig) => sig.extensions.some((ext) => path.endsWith(ext)));
}

/**
 * Detects the format of a file from its first bytes (`head`, up to DETECT_BYTES), its `size` (default:
 * `head` is the whole file) and its `name`. A file shorter than the header of the format its name says,
 * or that is a proper prefix of a format's magic (two bytes or more, or one non-text byte), is
 * `truncated`.
 */
export function detectFormat(head: Uint8Array, file: { size?: number; name?: string } = {}): Detected {
  const size = file.size ?? head.length;
  const named = file.name === undefined ? undefined : formatByName(file.name);
  if (named !== undefined && size < named.header) return { format: named.format, truncated: true, by: 'name', size, needed: named.header };
  const cut = cutMagic(head, size);
  if (cut !== undefined) return { format: cut.format, truncated: true, by: 'content', size, needed: cut.header };
  // The formats read, in registry order: a match is theirs to parse (and to report truncated, with the offset).
  for (const f of FORMATS) {
    if (f.signature !== undefined && (f.detect === undefined ? hasMagic(head, f.signature) : f.detect(head))) return { format: f.name };
  }
  for (const sig of UNSUPPORTED) {
    if (!hasMagic(head, sig)) continue;
    // The whole magic but not the rest of the header: cut short, whatever the format.
    if (size < sig.header) return { format: sig.format, truncated: true, by: 'content', size, needed: sig.header };
    return { format: sig.format, unsupported: true };
  }
  if (looksLikeLzmaAlone(head)) return { format: 'lzma-alone', unsupported: true };
  // Plain means text (CSV, JSONL, lines): a NUL byte means some binary format we do not know, such as a
  // compressed file whose magic bytes are damaged, and reading it as text would give garbage records.
  if (head.includes(0)) return { format: 'binary', unsupported: true };
  return { format: 'plain' };
}

/** Names of formats in messages. */
export const FORMAT_LABELS: Readonly<Record<KnownFormat | 'binary', string>> = {
  bzip2: 'bzip2',
  xz: 'xz',
  gzip: 'gzip',
  zstd: 'zstd',
  lzip: 'lzip',
  'lzma-alone': '.lzma',
  zip: 'zip',
  lz4: 'lz4',
  binary: 'binary',
};

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
