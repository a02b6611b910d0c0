/**
 * Damaged, truncated and foreign zstd input: every case ends in a typed SeekdataError naming the file and
 * the compressed offset, never in wrong bytes, a hang or a crash — except where a frame has no checksum,
 * where the tests pin what does and does not catch the damage.
 */
import { describe, expect, it } from 'vitest';
import { makeText, prng } from './support/fixtures.js';
import { cliChecksum, flip, handSeekTable, memory, pzstd, zstdDecode, zstdFile, zstdPipe } from './support/zstd.js';
import { SeekdataError } from '../src/errors.js';
import {
  FRAME_HAS_TABLE_CHECKSUM,
  decodeZstdFrame,
  scanZstd,
  streamZstdFrame,
  writeZstdSeekable,
  type ZstdEngine,
  type ZstdFrameTable,
} from '../src/readers/zstd/index.js';
import type { ByteSource } from '../src/sources/source.js';

const NAME = 'damaged.zst';
const engines = ['native', 'wasm'] as const;

async function rejection(promise: Promise<unknown>): Promise<SeekdataError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SeekdataError);
    return error as SeekdataError;
  }
  throw new Error('expected a rejection, got a result');
}

/** Scans and decodes every frame; the concatenation of the decoded frames. */
async function readAll(bytes: Uint8Array, engine: ZstdEngine = 'native'): Promise<Buffer> {
  const source = memory(bytes, NAME);
  const table = await scanZstd(source);
  return Buffer.concat(await decodeFrames(source, table, engine));
}

async function decodeFrames(source: ByteSource, table: ZstdFrameTable, engine: ZstdEngine): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let i = 0; i < table.count; i++) {
    const data = await source.read(table.cStart[i], table.cEnd[i] - table.cStart[i]);
    const tableChecksum = (table.flags[i] & FRAME_HAS_TABLE_CHECKSUM) !== 0 ? table.tableChecksum[i] : undefined;
    out.push(await decodeZstdFrame({ data, expectedLength: table.dStart[i + 1] - table.dStart[i], tableChecksum, offset: table.cStart[i], file: NAME, engine }));
  }
  return out;
}

async function streamAll(bytes: Uint8Array): Promise<Buffer> {
  const source = memory(bytes, NAME);
  const table = await scanZstd(source);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < table.count; i++) {
    const frame = { cStart: table.cStart[i], cEnd: table.cEnd[i], dLength: table.dStart[i + 1] - table.dStart[i], flags: table.flags[i], tableChecksum: table.tableChecksum[i] };
    for await (const piece of streamZstdFrame(source, frame, 100_000)) parts.push(piece);
  }
  return Buffer.concat(parts);
}

function randomBytes(n: number, seed: number): Buffer {
  const rand = prng(seed);
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

const text = makeText(600_000, 3);
const withChecksum = zstdFile(text, '-3');

describe('zstd: bit flips in frames with a checksum', () => {
  // Positions spread over the frame body, each in a different bit: wherever the flip lands (block header,
  // literals, sequences, checksum), the frame must be refused, by the walk or by the decoder.
  const positions = Array.from({ length: 12 }, (_, k) => Math.floor(((k + 0.5) * (withChecksum.length - 10)) / 12) + 6);

  it.each(engines)('every flip is refused with a typed error naming the file and frame (%s)', async (engine) => {
    for (const [k, at] of positions.entries()) {
      const damaged = flip(withChecksum, at, k % 8);
      expect(() => zstdDecode(damaged)).toThrow();
      const error = await rejection(readAll(damaged, engine));
      expect(['CORRUPT_DATA', 'TRUNCATED']).toContain(error.code);
      expect(error.file).toBe(NAME);
      expect(error.compressedOffset).toBe(0);
    }
  });

  it('a flip in the checksum itself is refused by both engines and by the stream', async () => {
    const damaged = flip(withChecksum, withChecksum.length - 2, 3);
    // The WebAssembly engine spins forever on libzstd's checksum error unless the stall guard stops it.
    for (const engine of engines) expect((await rejection(readAll(damaged, engine))).code).toBe('CORRUPT_DATA');
    expect((await rejection(streamAll(damaged))).code).toBe('CORRUPT_DATA');
  });

  it('a damaged frame read as a stream yields no piece after the damage is found, and never its last piece', async () => {
    const source = memory(flip(withChecksum, Math.floor(withChecksum.length * 0.7), 2), NAME);
    const table = await scanZstd(source);
    const frame = { cStart: 0, cEnd: table.cEnd[0], dLength: text.length, flags: table.flags[0], tableChecksum: 0 };
    const got: Uint8Array[] = [];
    const error = await rejection(
      (async () => {
        for await (const piece of streamZstdFrame(source, frame, 65_536)) got.push(piece);
      })(),
    );
    expect(error.code).toBe('CORRUPT_DATA');
    expect(got.length).toBeLessThan(Math.ceil(text.length / 65_536));
  });

  it('pzstd output damaged inside a frame: the scan, which decodes frames of unknown size, refuses it', async () => {
    const plain = makeText(3_000_000, 8);
    const bytes = pzstd(plain, '-p', '2');
    const error = await rejection(scanZstd(memory(flip(bytes, Math.floor(bytes.length / 2), 5), NAME)));
    expect(error.code).toBe('CORRUPT_DATA');
    expect(error.file).toBe(NAME);
  });
});

describe('zstd: frames without a checksum', () => {
  it('a flipped byte in a raw (stored) block decodes to different bytes: nothing in such a frame can catch it', async () => {
    // Incompressible input is stored in raw blocks. Without a frame checksum the only guard for such a
    // frame is outside it: the index's CRC of decoded spans (DESIGN.md, "Trust"), or a seek-table checksum.
    const plain = randomBytes(200_000, 5);
    const frame = zstdFile(plain, '--no-check');
    const damaged = flip(frame, 5000, 1);
    const out = await readAll(damaged);
    expect(out.length).toBe(plain.length);
    expect(out.equals(plain)).toBe(false);
  });

  it('structure damage is caught: reserved block type, a size past the end, a length that disagrees with the header', async () => {
    const hello = zstdFile(Buffer.from('hello'), '--no-check');
    // 28 b5 2f fd | 20 (single segment, no checksum) | 05 (content size) | 29 00 00 (last raw block of 5) | hello
    expect(Array.from(hello.subarray(0, 9))).toEqual([0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x05, 0x29, 0x00, 0x00]);
    const reserved = Buffer.from(hello);
    reserved[6] |= 0x06;
    expect((await rejection(scanZstd(memory(reserved, NAME)))).code).toBe('CORRUPT_DATA');
    const longer = Buffer.from(hello);
    longer[6] = (6 << 3) | 1;
    expect((await rejection(scanZstd(memory(longer, NAME)))).code).toBe('TRUNCATED');
    const wrongSize = Buffer.from(hello);
    wrongSize[5] = 4;
    // The header now says 4 bytes, so the index does too; libzstd finds 5.
    expect((await rejection(readAll(wrongSize))).code).toBe('CORRUPT_DATA');
    const stale = await rejection(decodeZstdFrame({ data: hello, expectedLength: 4, offset: 0, file: NAME }));
    expect(stale.message).toMatch(/declares 5 decoded bytes, the index 4/);
  });
});

describe('zstd: truncated files', () => {
  const first = zstdFile(text.subarray(0, 300_000));
  const second = zstdFile(text.subarray(300_000));
  const file = Buffer.concat([first, second]);
  const cuts: Array<[string, number, number]> = [
    ['inside the first magic number', 2, 0],
    ['inside the first frame header', 6, 0],
    ['in the middle of the first frame', Math.floor(first.length / 2), 0],
    ['inside the first checksum', first.length - 2, 0],
    ['inside the second magic number', first.length + 3, first.length],
    ['one byte before the end', file.length - 1, first.length],
  ];

  it.each(cuts)('cut %s: TRUNCATED at the frame that was cut', async (_what, length, frameStart) => {
    const error = await rejection(scanZstd(memory(file.subarray(0, length), NAME)));
    expect(error.code).toBe('TRUNCATED');
    expect(error.file).toBe(NAME);
    expect(error.compressedOffset).toBe(frameStart);
  });

  it('a truncated unit handed to the decoder is TRUNCATED', async () => {
    const data = first.subarray(0, first.length - 100);
    const error = await rejection(decodeZstdFrame({ data, expectedLength: 300_000, offset: 77, file: NAME }));
    expect(error.code).toBe('TRUNCATED');
    expect(error.compressedOffset).toBe(77);
  });

  it('a unit longer than its frame is refused', async () => {
    const error = await rejection(decodeZstdFrame({ data: file, expectedLength: 300_000, offset: 0, file: NAME }));
    expect(error.code).toBe('CORRUPT_DATA');
  });

  it('an empty file and a skippable frame running past the end are TRUNCATED', async () => {
    expect((await rejection(scanZstd(memory(Buffer.alloc(0), NAME)))).code).toBe('TRUNCATED');
    const skip = Buffer.from([0x50, 0x2a, 0x4d, 0x18, 100, 0, 0, 0, 1, 2, 3]);
    const error = await rejection(scanZstd(memory(Buffer.concat([first, skip]), NAME)));
    expect(error.code).toBe('TRUNCATED');
    expect(error.compressedOffset).toBe(first.length);
  });
});

describe('zstd: foreign bytes', () => {
  it.each([
    ['garbage', Buffer.from('garbage after the end')],
    ['zero padding', Buffer.alloc(512)],
  ])('%s after the last frame is CORRUPT_DATA at its offset (zstd -t refuses it too)', async (_what, tail) => {
    const bytes = Buffer.concat([withChecksum, tail]);
    expect(() => zstdDecode(bytes)).toThrow();
    const error = await rejection(scanZstd(memory(bytes, NAME)));
    expect(error.code).toBe('CORRUPT_DATA');
    expect(error.compressedOffset).toBe(withChecksum.length);
  });

  it('not zstd, a pre-1.0 frame, and a frame that needs a dictionary are UNSUPPORTED_FORMAT', async () => {
    expect((await rejection(scanZstd(memory(Buffer.from('plain text, not zstd'), NAME)))).code).toBe('UNSUPPORTED_FORMAT');
    const legacy = Buffer.from([0x27, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]);
    expect((await rejection(scanZstd(memory(legacy, NAME)))).code).toBe('UNSUPPORTED_FORMAT');
    // Descriptor 0x21: single segment, a 1-byte dictionary id (7); content size 5; one raw block "hello".
    const dict = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x21, 7, 5, 0x29, 0, 0, ...Buffer.from('hello')]);
    const scanned = await rejection(scanZstd(memory(dict, NAME)));
    expect(scanned.code).toBe('UNSUPPORTED_FORMAT');
    expect(scanned.message).toMatch(/dictionary 7/);
    const decoded = await rejection(decodeZstdFrame({ data: dict, expectedLength: 5, offset: 0, file: NAME }));
    expect(decoded.code).toBe('UNSUPPORTED_FORMAT');
  });
});

describe('zstd: damaged seek tables', () => {
  const a = text.subarray(0, 250_000);
  const b = randomBytes(150_000, 9);
  /** A seekable file as contrib/seekable_format writes it: frames without checksum or content size. */
  function handMade(entries?: (e: Array<{ compressedSize: number; decompressedSize: number; checksum: number }>) => void, descriptor?: number): Buffer {
    const frames = [zstdPipe(a, '--no-check'), zstdPipe(b, '--no-check')];
    const list = frames.map((f, i) => ({ compressedSize: f.length, decompressedSize: [a, b][i].length, checksum: cliChecksum([a, b][i]) }));
    entries?.(list);
    return Buffer.concat([...frames, handSeekTable(list, true, descriptor)]);
  }

  it('the undamaged file reads back (fixture sanity)', async () => {
    expect((await readAll(handMade())).equals(Buffer.concat([a, b]))).toBe(true);
  });

  it('entries that do not add up to the table offset: a warning, and the frames are walked instead', async () => {
    const warnings: string[] = [];
    const bytes = handMade((e) => void (e[0].compressedSize += 1));
    const table = await scanZstd(memory(bytes, NAME), { onWarning: (m) => warnings.push(m) });
    expect(warnings.join()).toMatch(/add up to/);
    expect(table.seekable).toBe(false);
    expect(Buffer.concat(await decodeFrames(memory(bytes, NAME), table, 'native')).equals(Buffer.concat([a, b]))).toBe(true);
  });

  it('swapped compressed sizes (same sum): no frame where the table says', async () => {
    const bytes = handMade((e) => {
      const t = e[0].compressedSize;
      e[0].compressedSize = e[1].compressedSize;
      e[1].compressedSize = t;
    });
    const error = await rejection(readAll(bytes));
    expect(error.code).toBe('CORRUPT_DATA');
    expect(error.file).toBe(NAME);
  });

  it('a wrong decompressed size is caught when the frame is decoded', async () => {
    const error = await rejection(readAll(handMade((e) => void (e[0].decompressedSize -= 1))));
    expect(error.code).toBe('CORRUPT_DATA');
    expect(error.compressedOffset).toBe(0);
  });

  it.each(engines)('a wrong checksum, or damage only the table checksum can see, is CORRUPT_DATA (%s)', async (engine) => {
    const wrong = await rejection(readAll(handMade((e) => void (e[1].checksum ^= 1)), engine));
    expect(wrong.message).toMatch(/seek-table checksum/);
    // Frame 1 holds random bytes in raw blocks and has no checksum of its own: a flipped stored byte
    // decodes fine, and only the seek-table checksum (XXH64) refuses it.
    const bytes = handMade();
    const frame0 = zstdPipe(a, '--no-check').length;
    const damaged = flip(bytes, frame0 + 2000, 4);
    const error = await rejection(readAll(damaged, engine));
    expect(error.code).toBe('CORRUPT_DATA');
    expect(error.message).toMatch(/seek-table checksum/);
    expect(error.compressedOffset).toBe(frame0);
    expect((await rejection(streamAll(damaged))).message).toMatch(/seek-table checksum/);
  });

  it('reserved descriptor bits are UNSUPPORTED_FORMAT; a file cut inside its table is TRUNCATED', async () => {
    expect((await rejection(scanZstd(memory(handMade(undefined, 0x80 | 0x10), NAME)))).code).toBe('UNSUPPORTED_FORMAT');
    const whole = handMade();
    const error = await rejection(scanZstd(memory(whole.subarray(0, whole.length - 4), NAME)));
    expect(error.code).toBe('TRUNCATED');
  });

  it('a frame with a content size that disagrees with its entry is refused by the scan', async () => {
    const out: Uint8Array[] = [];
    await writeZstdSeekable([a], (bytes) => void out.push(bytes), { frameBytes: 100_000 });
    const bytes = Buffer.concat(out);
    // The first entry's Decompressed_Size sits 4 bytes after the table's 8-byte skippable header.
    const tableStart = bytes.length - (8 + 3 * 12 + 9);
    bytes.writeUInt32LE(99_999, tableStart + 8 + 4);
    const error = await rejection(scanZstd(memory(bytes, NAME)));
    expect(error.code).toBe('CORRUPT_DATA');
    expect(error.message).toMatch(/declares 100000 decoded bytes, the table 99999/);
  });
});
