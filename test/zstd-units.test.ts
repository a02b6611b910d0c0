/**
 * zstd units: every kind of zstd file found frame by frame and each frame decoded (native and WebAssembly,
 * inline and in worker threads), checked against the plain input and against `zstd -dc`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Piscina } from 'piscina';
import { makeText, startRangeServer, type RangeServer } from './support/fixtures.js';
import { cliChecksum, handSeekTable, memory, pzstd, skippable, zstdDecode, zstdFile, zstdList, zstdPipe, zstdPool, zstdTest } from './support/zstd.js';
import {
  FRAME_HAS_CHECKSUM,
  FRAME_HAS_CONTENT_SIZE,
  FRAME_HAS_TABLE_CHECKSUM,
  decodeZstdFrame,
  isZstd,
  scanZstd,
  scanZstdFrames,
  writeZstdSeekable,
  zstdAccessInfo,
  type ZstdEngine,
  type ZstdFrameTable,
} from '../src/readers/zstd/index.js';
import { fromZstdResponse, type ZstdJobResponse } from '../src/readers/zstd/worker.js';
import { HttpSource } from '../src/sources/http-source.js';
import type { ByteSource } from '../src/sources/source.js';

interface Fixture {
  bytes: Buffer;
  plain: Buffer;
  /** Frame places when the file was assembled from known frames: [cStart, cEnd, dLength]. */
  frames?: Array<[number, number, number]>;
  /** Expected flags of every frame. */
  flags?: number[];
  seekable?: boolean;
}

/** Concatenates parts; frames (not skippable parts) are recorded with their decoded length. */
function assemble(parts: Array<{ bytes: Buffer; plain?: Buffer }>): Pick<Fixture, 'bytes' | 'plain' | 'frames'> {
  const frames: Array<[number, number, number]> = [];
  let at = 0;
  for (const p of parts) {
    if (p.plain !== undefined) frames.push([at, at + p.bytes.length, p.plain.length]);
    at += p.bytes.length;
  }
  return {
    bytes: Buffer.concat(parts.map((p) => p.bytes)),
    plain: Buffer.concat(parts.flatMap((p) => (p.plain === undefined ? [] : [p.plain]))),
    frames,
  };
}

const text = makeText(2_400_000, 9);
const a = text.subarray(0, 700_000);
const b = text.subarray(700_000, 700_001);
const c = text.subarray(700_001, 2_400_000);
const empty = Buffer.alloc(0);
const CS = FRAME_HAS_CHECKSUM | FRAME_HAS_CONTENT_SIZE;

const fixtures: Record<string, () => Promise<Fixture> | Fixture> = {
  'zstd -19, one frame': () => {
    const plain = text.subarray(0, 1_000_000);
    return { bytes: zstdFile(plain, '-19'), plain, flags: [CS] };
  },
  'cat of four frames (one of 1 byte, one empty)': () => {
    const parts = [a, b, empty, c].map((p) => ({ bytes: zstdFile(p, '-3'), plain: p }));
    return { ...assemble(parts), flags: [CS, CS, CS, CS] };
  },
  'frames without content size or checksum (pipes, --no-check)': () => {
    const parts = [
      { bytes: zstdPipe(a), plain: a },
      { bytes: zstdPipe(c, '--no-check'), plain: c },
      { bytes: zstdFile(b, '--no-check'), plain: b },
    ];
    return { ...assemble(parts), flags: [FRAME_HAS_CHECKSUM, 0, FRAME_HAS_CONTENT_SIZE] };
  },
  'pzstd -p 2 (skippable size frames, no content sizes)': () => {
    const plain = makeText(20_000_000, 4);
    return { bytes: pzstd(plain, '-p', '2', '-1'), plain };
  },
  'skippable frames inserted by hand': () => {
    const parts = [
      { bytes: skippable(Buffer.from('sixteen bytes...')) },
      { bytes: zstdFile(a), plain: a },
      { bytes: skippable(empty, 3) },
      { bytes: zstdPipe(c), plain: c },
      { bytes: skippable(Buffer.from([1, 2, 3, 4, 5]), 15) },
    ];
    return { ...assemble(parts), flags: [CS, FRAME_HAS_CHECKSUM] };
  },
  'seekable format, written by writeZstdSeekable': async () => {
    const out: Uint8Array[] = [];
    await writeZstdSeekable([text.subarray(0, 1_000_000), text.subarray(1_000_000)], (bytes) => void out.push(bytes), { frameBytes: 1 << 19 });
    const all = CS | FRAME_HAS_TABLE_CHECKSUM;
    return { bytes: Buffer.concat(out), plain: text, seekable: true, flags: Array<number>(Math.ceil(text.length / (1 << 19))).fill(all) };
  },
  'seekable format, built by hand from the spec (checksums, a skippable entry)': () => {
    // As contrib/seekable_format writes it: frames with neither checksum nor content size, the checksum in
    // the table (taken from what the zstd CLI stores, not from seekdata's own XXH64).
    const pieces = [a, c, b];
    const frames = pieces.map((p) => zstdPipe(p, '--no-check'));
    const skip = skippable(Buffer.from('metadata'));
    const parts = [{ bytes: frames[0], plain: a }, { bytes: skip }, { bytes: frames[1], plain: c }, { bytes: frames[2], plain: b }];
    const entries = [
      { compressedSize: frames[0].length, decompressedSize: a.length, checksum: cliChecksum(a) },
      { compressedSize: skip.length, decompressedSize: 0, checksum: 0 },
      { compressedSize: frames[1].length, decompressedSize: c.length, checksum: cliChecksum(c) },
      { compressedSize: frames[2].length, decompressedSize: b.length, checksum: cliChecksum(b) },
    ];
    const assembled = assemble(parts);
    const flags = [FRAME_HAS_TABLE_CHECKSUM, FRAME_HAS_TABLE_CHECKSUM, FRAME_HAS_TABLE_CHECKSUM];
    return { ...assembled, bytes: Buffer.concat([assembled.bytes, handSeekTable(entries, true)]), seekable: true, flags };
  },
  'seekable format, built by hand, without checksums, frames with content sizes': () => {
    const frames = [a, c].map((p) => zstdFile(p, '--no-check'));
    const assembled = assemble([
      { bytes: frames[0], plain: a },
      { bytes: frames[1], plain: c },
    ]);
    const table = handSeekTable(
      frames.map((f, i) => ({ compressedSize: f.length, decompressedSize: [a, c][i].length })),
      false,
    );
    return { ...assembled, bytes: Buffer.concat([assembled.bytes, table]), seekable: true, flags: [FRAME_HAS_CONTENT_SIZE, FRAME_HAS_CONTENT_SIZE] };
  },
};

async function decodeInline(source: ByteSource, table: ZstdFrameTable, engine: ZstdEngine): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let i = 0; i < table.count; i++) {
    const data = await source.read(table.cStart[i], table.cEnd[i] - table.cStart[i]);
    const tableChecksum = (table.flags[i] & FRAME_HAS_TABLE_CHECKSUM) !== 0 ? table.tableChecksum[i] : undefined;
    out.push(await decodeZstdFrame({ data, expectedLength: table.dStart[i + 1] - table.dStart[i], tableChecksum, offset: table.cStart[i], file: source.name, engine }));
  }
  return out;
}

describe.each(Object.keys(fixtures))('zstd: %s', (name) => {
  let fx: Fixture;
  let table: ZstdFrameTable;
  let reference: Buffer;

  beforeAll(async () => {
    fx = await fixtures[name]();
    reference = zstdDecode(fx.bytes);
    table = await scanZstd(memory(fx.bytes));
  });

  it('the reference decoder agrees with the plain input (fixture sanity)', () => {
    expect(isZstd(fx.bytes)).toBe(true);
    expect(reference.equals(fx.plain)).toBe(true);
  });

  it('finds the frames where they were put, with their flags', () => {
    expect(table.dStart[table.count]).toBe(fx.plain.length);
    expect(table.seekable).toBe(fx.seekable ?? false);
    if (fx.frames !== undefined) {
      expect(table.count).toBe(fx.frames.length);
      for (let i = 0; i < table.count; i++) {
        expect([table.cStart[i], table.cEnd[i], table.dStart[i + 1] - table.dStart[i]]).toEqual(fx.frames[i]);
      }
    } else {
      const listed = /# Zstandard Frames: (\d+)/.exec(zstdList(fx.bytes));
      expect(table.count).toBe(Number(listed?.[1]));
    }
    if (fx.flags !== undefined) expect(Array.from(table.flags)).toEqual(fx.flags);
    const info = zstdAccessInfo(table);
    expect(info.frames).toBe(table.count);
    expect(info.randomAccess).toMatch(table.count === 1 ? /one frame .* costs decoding from the start of the frame/ : /decodes from the start of its frame/);
  });

  it.each(['native', 'wasm'] as const)('decodes every frame to its bytes (%s), and their concatenation is zstd -dc', async (engine) => {
    const parts = await decodeInline(memory(fx.bytes), table, engine);
    for (let i = 0; i < table.count; i++) {
      expect(Buffer.from(parts[i]).equals(fx.plain.subarray(table.dStart[i], table.dStart[i + 1]))).toBe(true);
    }
    expect(Buffer.concat(parts).equals(reference)).toBe(true);
  });

  it('hands out the decoded bytes of frames without a content size while scanning, and only those', async () => {
    const data: Uint8Array[] = [];
    const decodedFrames: number[] = [];
    for await (const item of scanZstdFrames(memory(fx.bytes), { pieceBytes: 300_000 })) {
      if (item.type === 'data') {
        expect(item.bytes.length).toBeLessThanOrEqual(300_000);
        data.push(item.bytes);
      } else if (item.decoded) {
        decodedFrames.push(item.frame.index);
      }
    }
    const expected = [];
    for (let i = 0; i < table.count; i++) {
      if (!fx.seekable && (table.flags[i] & FRAME_HAS_CONTENT_SIZE) === 0) expected.push(i);
    }
    expect(decodedFrames).toEqual(expected);
    const expectedBytes = Buffer.concat(expected.map((i) => fx.plain.subarray(table.dStart[i], table.dStart[i + 1])));
    expect(Buffer.concat(data).equals(expectedBytes)).toBe(true);
  });
});

describe('zstd frames in worker threads and over HTTP', () => {
  let pool: Piscina;
  let server: RangeServer;
  const plain = makeText(3_000_000, 21);
  let seekable: Buffer;
  let multi: Buffer;

  beforeAll(async () => {
    pool = zstdPool(2);
    const out: Uint8Array[] = [];
    await writeZstdSeekable([plain], (bytes) => void out.push(bytes), { frameBytes: 1 << 20 });
    seekable = Buffer.concat(out);
    multi = Buffer.concat([zstdFile(plain.subarray(0, 1_000_000)), zstdPipe(plain.subarray(1_000_000))]);
    server = await startRangeServer({ 'seekable.zst': seekable, 'multi.zst': multi });
  });
  afterAll(async () => {
    await pool.destroy();
    await server.close();
  });

  it.each(['native', 'wasm'] as const)('decodes in parallel in workers (%s), bytes moved back intact', async (engine) => {
    const source = memory(multi);
    const table = await scanZstd(source);
    const parts = await Promise.all(
      Array.from({ length: table.count }, async (_, i) => {
        const data = (await source.read(table.cStart[i], table.cEnd[i] - table.cStart[i])).slice();
        const task = { data, expectedLength: table.dStart[i + 1] - table.dStart[i], offset: table.cStart[i], file: source.name, engine };
        return fromZstdResponse((await pool.run({ op: 'decode', task })) as ZstdJobResponse).bytes;
      }),
    );
    expect(Buffer.concat(parts).equals(plain)).toBe(true);
  });

  it('reads a seekable file over HTTP from its seek table, and a walked one', async () => {
    for (const name of ['seekable.zst', 'multi.zst']) {
      const source = await HttpSource.open(server.url(name));
      const table = await scanZstd(source);
      expect(table.seekable).toBe(name === 'seekable.zst');
      const parts = await decodeInline(source, table, 'native');
      expect(Buffer.concat(parts).equals(plain)).toBe(true);
      await source.close();
    }
  });

  it('compresses seekable frames in workers; zstd accepts their concatenation', async () => {
    const chunks = [plain.subarray(0, 1 << 20), plain.subarray(1 << 20)];
    const frames = await Promise.all(chunks.map(async (chunk) => fromZstdResponse((await pool.run({ op: 'compress', chunk: chunk.slice(), level: 3 })) as ZstdJobResponse)));
    for (let i = 0; i < frames.length; i++) expect(frames[i].checksum).toBe(cliChecksum(chunks[i]));
    const all = Buffer.concat(frames.map((f) => f.bytes));
    zstdTest(all);
    expect(zstdDecode(all).equals(plain)).toBe(true);
  });
});
