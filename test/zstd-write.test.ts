/**
 * Writing the zstd seekable format: the standard tool accepts the output and gives the input back, the
 * frames carry a checksum equal to the one zstd itself computes, and the seek table says what the frames
 * hold.
 */
import { describe, expect, it } from 'vitest';
import { makeText } from './support/fixtures.js';
import { cliChecksum, memory, zstdDecode, zstdList, zstdTest } from './support/zstd.js';
import {
  FRAME_HAS_CHECKSUM,
  FRAME_HAS_CONTENT_SIZE,
  FRAME_HAS_TABLE_CHECKSUM,
  compressSeekableFrame,
  readSeekTable,
  scanZstd,
  writeZstdSeekable,
} from '../src/readers/zstd/index.js';

async function write(chunks: Iterable<Uint8Array>, options: { frameBytes?: number; level?: number }): Promise<{ bytes: Buffer; frames: number }> {
  const out: Uint8Array[] = [];
  const result = await writeZstdSeekable(chunks, (bytes) => void out.push(bytes), options);
  const bytes = Buffer.concat(out);
  expect(result.compressedBytes).toBe(bytes.length);
  return { bytes, frames: result.frames };
}

const plain = makeText(3_300_000, 17);

describe('zstd seekable writer', () => {
  it('zstd -t accepts the output and zstd -dc gives the input back; the table matches the frames', async () => {
    // Input chunks that do not line up with frames.
    const chunks = [plain.subarray(0, 123), plain.subarray(123, 2_000_000), plain.subarray(2_000_000)];
    const { bytes, frames } = await write(chunks, { frameBytes: 1 << 20, level: 5 });
    expect(frames).toBe(Math.ceil(plain.length / (1 << 20)));
    zstdTest(bytes);
    expect(zstdDecode(bytes).equals(plain)).toBe(true);
    const listing = zstdList(bytes);
    expect(listing).toMatch(new RegExp(`# Zstandard Frames: ${frames}\\b`));
    expect(listing).toMatch(/# Skippable Frames: 1\b/);
    expect(listing).toMatch(/Check: XXH64/);

    const source = memory(bytes);
    const seek = await readSeekTable(source);
    expect(seek?.count).toBe(frames);
    const table = await scanZstd(source);
    expect(table.seekable).toBe(true);
    for (let i = 0; i < table.count; i++) {
      const piece = plain.subarray(i << 20, (i + 1) << 20);
      expect(table.dStart[i]).toBe(i << 20);
      expect(table.flags[i]).toBe(FRAME_HAS_CHECKSUM | FRAME_HAS_CONTENT_SIZE | FRAME_HAS_TABLE_CHECKSUM);
      // The checksum is XXH64 as zstd computes it, in the table and at the end of the frame.
      const sum = cliChecksum(piece);
      expect(table.tableChecksum[i]).toBe(sum);
      expect(bytes.readUInt32LE(table.cEnd[i] - 4)).toBe(sum);
      // Each frame alone is a valid zstd file.
      expect(zstdDecode(bytes.subarray(table.cStart[i], table.cEnd[i])).equals(piece)).toBe(true);
    }
  });

  it('frames of 1 byte to 1 MiB get a content size and the checksum zstd computes, and zstd reads them', async () => {
    for (const size of [1, 255, 256, 65_791, 65_792, 1 << 20]) {
      const chunk = plain.subarray(0, size);
      const { frame, checksum, decompressedSize } = await compressSeekableFrame(chunk, 1);
      expect(decompressedSize).toBe(size);
      expect(checksum).toBe(cliChecksum(chunk));
      zstdTest(frame);
      expect(zstdDecode(frame).equals(chunk)).toBe(true);
      // `zstd -lv` reads the content size from the header.
      expect(zstdList(frame)).toMatch(new RegExp(`Decompressed Size: .*\\(${size} B\\)`));
    }
  });

  it('an empty input is a seek table alone, which zstd accepts as empty', async () => {
    const { bytes, frames } = await write([], {});
    expect(frames).toBe(0);
    zstdTest(bytes);
    expect(zstdDecode(bytes).length).toBe(0);
    expect((await readSeekTable(memory(bytes)))?.count).toBe(0);
  });

  it('validates its options, naming the field', async () => {
    await expect(write([plain], { frameBytes: 0 })).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringMatching(/frameBytes/) });
    await expect(write([plain], { frameBytes: 2 ** 31 })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(write([], { level: 0 })).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringMatching(/level/) });
  });
});
