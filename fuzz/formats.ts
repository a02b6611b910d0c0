/**
 * The fuzzed formats: how to make valid files of each (with the real compressors, at run time) and how the
 * reference tool decodes one. A format is one row: a compress command per variant, and the reference
 * decode command (`gzip -dc`, which exits 2 for a warning such as trailing garbage, `zstd -dc`).
 */
import { spawn } from 'node:child_process';
import { mulberry32 } from '../src/datasets/permutation.js';
import { openReader, type ReaderOptions } from '../src/index.js';

/** A valid file to mutate, with what it decodes to. */
export interface Base {
  variant: string;
  bytes: Buffer;
  /** The decompressed bytes (the independent truth for reads past the reference's failure). */
  plain: Buffer;
  /** Byte ranges of its streams (concatenated files have several). */
  streams: Array<[number, number]>;
  /** Bit ranges of its units (bzip2 / xz blocks), for block swaps and cuts at unit boundaries. */
  units: Array<[number, number]>;
  /** Reader options the variant is read with (e.g. small `bigUnitBytes` to read one block in pieces). */
  readerOptions: Partial<ReaderOptions>;
  /** The file has no integrity check (xz --check=none). */
  unchecked: boolean;
}

export interface Variant {
  name: string;
  /** Plain data of each stream, and the command (argv) that compresses it; streams are concatenated. */
  streams: Array<{ plain: () => Buffer; compress: string[]; padAfter?: number }>;
  readerOptions?: Partial<ReaderOptions>;
  unchecked?: boolean;
}

export interface FuzzFormat {
  name: string;
  /** File name ending of mutants (so that detection by name applies). */
  ext: string;
  /** Reference decoder: argv, the mutant's path appended; exit status 0 (or one of `accepts`) means it accepted the file. */
  reference: string[];
  /** Exit statuses of the reference that still mean "accepted" (gzip: 2, a warning). Default [0]. */
  accepts?: number[];
  variants: Variant[];
}

/** Varied text: CSV and JSON lines, words in several scripts, numbers, runs, a few binary bytes. */
export function variedText(bytes: number, seed: number): Buffer {
  const rand = mulberry32(seed);
  const words = ['alpha', 'beta', 'gamma', 'délta', 'ε', 'zeta', '東京', 'kappa', 'λάμβδα', 'mu', 'nü', 'ξ', 'omicron', 'пи', 'rho'];
  const parts: Buffer[] = [];
  let size = 0;
  let i = 0;
  while (size < bytes) {
    const r = rand();
    let part: Buffer;
    if (r < 0.6) {
      const fields = [String(i), (rand() * 1e4).toFixed(2), new Date(1_600_000_000_000 + i * 61_000).toISOString()];
      for (let k = Math.floor(rand() * 8); k > 0; k--) fields.push(words[Math.floor(rand() * words.length)]);
      part = Buffer.from(fields.join(',') + '\n');
    } else if (r < 0.85) {
      part = Buffer.from(JSON.stringify({ id: i, v: rand(), tag: words[Math.floor(rand() * words.length)], ok: rand() < 0.5 }) + '\n');
    } else if (r < 0.95) {
      // Runs (bzip2's run-length stages, LZMA's matches).
      part = Buffer.alloc(4 + Math.floor(rand() * 300), words[Math.floor(rand() * words.length)].charCodeAt(0) & 0x7f);
    } else {
      part = Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 200) }, () => Math.floor(rand() * 256)));
    }
    parts.push(part);
    size += part.length;
    i++;
  }
  return Buffer.concat(parts).subarray(0, bytes);
}

export function randomBytes(bytes: number, seed: number): Buffer {
  const rand = mulberry32(seed);
  return Buffer.from(Array.from({ length: bytes }, () => Math.floor(rand() * 256)));
}

/** Runs a compressor asynchronously (the harness also runs inside the test runner, whose event loop must not stall). */
function compress(argv: string[], input: Buffer): Promise<Buffer> {
  const [command, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (status) => {
      if (status === 0) resolve(Buffer.concat(out));
      else reject(new Error(`${argv.join(' ')} failed: ${Buffer.concat(err).toString()}`));
    });
    child.stdin.end(input);
  });
}

const text300 = (): Buffer => variedText(300_000, 1);
/** Text with stretches of random bytes: stored deflate blocks, raw zstd blocks (only the check finds damage there). */
const mixed = (seed: number) => (): Buffer => Buffer.concat([variedText(100_000, seed), randomBytes(60_000, seed + 1), variedText(100_000, seed + 2)]);
/** zstd reading a pipe writes no content size unless told the size. */
const zstdSized = (size: number, ...args: string[]): string[] => ['zstd', '-q', '-c', `--stream-size=${size}`, ...args];
const GZIP_SPACING = { gzipSpacingBytes: 64 << 10 };
const text120 = (seed: number) => (): Buffer => variedText(120_000, seed);

export const FORMATS: readonly FuzzFormat[] = [
  {
    name: 'bzip2',
    ext: '.bz2',
    reference: ['bzip2', '-dc'],
    variants: [
      { name: 'level1', streams: [{ plain: text300, compress: ['bzip2', '-1', '-c'] }] },
      {
        name: 'multi-stream',
        streams: [
          { plain: text120(2), compress: ['bzip2', '-1', '-c'] },
          { plain: text120(3), compress: ['bzip2', '-9', '-c'] },
          { plain: () => variedText(20_000, 4), compress: ['bzip2', '-2', '-c'] },
        ],
      },
      { name: 'level9-one-block', streams: [{ plain: () => variedText(200_000, 5), compress: ['bzip2', '-9', '-c'] }] },
      { name: 'random-level1', streams: [{ plain: () => randomBytes(150_000, 6), compress: ['bzip2', '-1', '-c'] }] },
    ],
  },
  {
    name: 'xz',
    ext: '.xz',
    reference: ['xz', '-dc'],
    variants: [
      { name: 'blocks-crc64', streams: [{ plain: text300, compress: ['xz', '-c', '--block-size=32KiB'] }] },
      { name: 'blocks-crc32', streams: [{ plain: text120(7), compress: ['xz', '-c', '--block-size=32KiB', '--check=crc32'] }] },
      { name: 'blocks-sha256', streams: [{ plain: text120(8), compress: ['xz', '-c', '--block-size=32KiB', '--check=sha256'] }] },
      { name: 'blocks-none', streams: [{ plain: text120(9), compress: ['xz', '-c', '--block-size=32KiB', '--check=none'] }], unchecked: true },
      {
        name: 'multi-stream',
        streams: [
          { plain: text120(10), compress: ['xz', '-c', '--block-size=32KiB'], padAfter: 4 },
          { plain: text120(11), compress: ['xz', '-c', '-1', '--block-size=48KiB', '--check=crc32'] },
        ],
      },
      // Stored (incompressible) LZMA2 chunks: damage inside them decodes silently; only the check finds it.
      { name: 'incompressible', streams: [{ plain: () => randomBytes(160_000, 12), compress: ['xz', '-c', '--block-size=32KiB'] }] },
      {
        name: 'one-block-pieces',
        streams: [{ plain: () => variedText(200_000, 13), compress: ['xz', '-c'] }],
        readerOptions: { bigUnitBytes: 64 << 10, pieceBytes: 16 << 10 },
      },
    ],
  },
  {
    name: 'gzip',
    ext: '.gz',
    reference: ['gzip', '-dc'],
    accepts: [0, 2],
    variants: [
      { name: 'single-6', streams: [{ plain: text300, compress: ['gzip', '-6', '-c'] }], readerOptions: GZIP_SPACING },
      { name: 'stored-1', streams: [{ plain: mixed(20), compress: ['gzip', '-1', '-c'] }], readerOptions: GZIP_SPACING },
      { name: 'pigz', streams: [{ plain: () => variedText(250_000, 23), compress: ['pigz', '-p', '2', '-b', '32', '-c'] }], readerOptions: GZIP_SPACING },
      { name: 'bgzf', streams: [{ plain: () => variedText(200_000, 24), compress: ['bgzip', '-c'] }], readerOptions: GZIP_SPACING },
      {
        name: 'multi-member',
        streams: [
          { plain: text120(25), compress: ['gzip', '-9', '-c'] },
          { plain: () => Buffer.alloc(0), compress: ['gzip', '-c'] },
          { plain: text120(26), compress: ['gzip', '-1', '-c'] },
          { plain: () => variedText(20_000, 27), compress: ['gzip', '-c'] },
        ],
        readerOptions: GZIP_SPACING,
      },
    ],
  },
  {
    name: 'zstd',
    ext: '.zst',
    reference: ['zstd', '-dc', '-q'],
    variants: [
      {
        name: 'frames',
        streams: [
          { plain: text120(30), compress: zstdSized(120_000, '-3') },
          { plain: text120(31), compress: zstdSized(120_000, '-1') },
          { plain: () => variedText(20_000, 32), compress: zstdSized(20_000, '-9') },
        ],
      },
      { name: 'one-frame-pieces', streams: [{ plain: () => variedText(200_000, 33), compress: zstdSized(200_000, '-19') }], readerOptions: { bigUnitBytes: 64 << 10, pieceBytes: 16 << 10 } },
      // No content size (a pipe): found by the decoding scan.
      { name: 'pipe', streams: [{ plain: mixed(34), compress: ['zstd', '-q', '-c', '-3'] }] },
      { name: 'pzstd', streams: [{ plain: text300, compress: ['pzstd', '-q', '-c', '-p', '2', '-1'] }] },
      {
        name: 'no-check',
        streams: [
          { plain: mixed(35), compress: zstdSized(260_000, '--no-check', '-3') },
          { plain: text120(36), compress: zstdSized(120_000, '--no-check', '-3') },
        ],
        unchecked: true,
      },
    ],
  },
];

const built = new Map<string, Promise<Base>>();

/** Makes a variant's file and finds its units (with seekdata, on the intact file); once per process. */
export function buildBase(format: FuzzFormat, variant: Variant): Promise<Base> {
  const key = `${format.name}/${variant.name}`;
  let base = built.get(key);
  if (base === undefined) {
    base = makeBase(format, variant);
    built.set(key, base);
  }
  return base;
}

async function makeBase(format: FuzzFormat, variant: Variant): Promise<Base> {
  const parts: Buffer[] = [];
  const plains: Buffer[] = [];
  const streams: Array<[number, number]> = [];
  let at = 0;
  for (const s of variant.streams) {
    const plain = s.plain();
    const bytes = await compress(s.compress, plain);
    plains.push(plain);
    parts.push(bytes);
    streams.push([at, at + bytes.length]);
    at += bytes.length;
    if (s.padAfter !== undefined) {
      parts.push(Buffer.alloc(s.padAfter));
      at += s.padAfter;
    }
  }
  const bytes = Buffer.concat(parts);
  const plain = Buffer.concat(plains);
  const reader = await openReader(bytes, { index: false, parallelism: 1 });
  const units: Array<[number, number]> = [];
  // Bit offsets (bzip2, gzip) or bytes; gzip's deflate bits count from the low bit of a byte, so its units
  // are rounded to whole bytes for swaps (which copy bits high bit first).
  const inBits = reader.format === 'bzip2' || reader.format === 'gzip';
  for (let u = 0; u < reader.units.count; u++) {
    const [start, end] = inBits ? [reader.units.cStart[u], reader.units.cEnd[u]] : [reader.units.cStart[u] * 8, reader.units.cEnd[u] * 8];
    units.push(reader.format === 'gzip' ? [Math.floor(start / 8) * 8, Math.floor(end / 8) * 8] : [start, end]);
  }
  const decoded = Buffer.from(await reader.read(0, reader.size));
  await reader.close();
  if (!decoded.equals(plain)) throw new Error(`${format.name}/${variant.name}: seekdata does not decode the intact file`);
  return { variant: variant.name, bytes, plain, streams, units, readerOptions: variant.readerOptions ?? {}, unchecked: variant.unchecked ?? false };
}
