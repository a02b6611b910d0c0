/**
 * The bzip2 end-of-stream marker as the discovery scan meets it (it checks the 48 bits where the next block
 * must start, instead of searching for the magic): streams ending at every bit shift, one block or several,
 * concatenated and pbzip2 streams, empty streams, truncation inside the marker and its CRC, a flipped bit
 * in either, bytes after the last stream — each compared with what `bzip2 -dc` makes of the same file —
 * and, through the scan with a stand-in decoder, end-of-stream and block magic patterns inside block data
 * at every bit shift; and the magic search itself against a bit-by-bit one.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { closeSharedPool, isSeekdataError, openReader, SeekdataError, type SeekableReader } from '../src/index.js';
import { findBlockMagics, findMagics, magicAt } from '../src/readers/bzip2/magic.js';
import { scanBzip2, type Bzip2DecodeOutcome } from '../src/readers/bzip2/scan.js';
import type { Bzip2BlockTask } from '../src/readers/bzip2/block.js';
import { MemorySource } from '../src/sources/source.js';
import { bzip2, makeText, prng, run, tempDir, writeFixture } from './support/fixtures.js';

const tmp = tempDir();
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

const EOS = [0x17, 0x72, 0x45, 0x38, 0x50, 0x90];
const BLOCK = [0x31, 0x41, 0x59, 0x26, 0x53, 0x59];

function bitAt(bytes: Uint8Array, bit: number): number {
  return (bytes[bit >> 3] >> (7 - (bit & 7))) & 1;
}

function hasMagic(bytes: Uint8Array, bit: number, magic: number[]): boolean {
  for (let i = 0; i < 48; i++) if (bitAt(bytes, bit + i) !== ((magic[i >> 3] >> (7 - (i & 7))) & 1)) return false;
  return true;
}

/** Bit of the end-of-stream marker of a one-stream file: 48 + 32 bits, then 0..7 zero bits of padding. */
function eosBit(bz: Uint8Array): number {
  for (let pad = 0; pad < 8; pad++) {
    const bit = bz.length * 8 - 80 - pad;
    if (hasMagic(bz, bit, EOS)) return bit;
  }
  throw new Error('no end-of-stream marker at the end');
}

/** What `bzip2 -dc` makes of a file: its output, or undefined when it fails. */
function bunzip(bytes: Uint8Array): Buffer | undefined {
  const result = spawnSync('bzip2', ['-dc'], { input: bytes, maxBuffer: 1 << 30 });
  return result.status === 0 ? result.stdout : undefined;
}

async function readAll(reader: SeekableReader): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of reader.stream()) parts.push(p);
  return Buffer.concat(parts);
}

/** The whole file read through a discovery scan (no index), with its warnings; or the error. */
async function readFile(name: string, bytes: Uint8Array): Promise<{ data?: Buffer; error?: SeekdataError; warnings: string[]; path: string }> {
  const path = writeFixture(tmp.dir, name, bytes);
  const warnings: string[] = [];
  try {
    const reader = await openReader(path, { index: false, parallelism: 2, onWarning: (m) => warnings.push(m) });
    try {
      return { data: await readAll(reader), warnings, path };
    } finally {
      await reader.close();
    }
  } catch (error) {
    if (!isSeekdataError(error)) throw error;
    expect(error.message).toContain(path);
    return { error, warnings, path };
  }
}

/** Inputs of growing length until their streams' end-of-stream markers cover all 8 bit shifts. */
function streamsAtEveryShift(base: number, step: number, level: number, seed: number): Array<{ text: Buffer; bz: Buffer; eos: number }> {
  const byShift = new Map<number, { text: Buffer; bz: Buffer; eos: number }>();
  for (let k = 0; k < 400 && byShift.size < 8; k++) {
    const text = makeText(base + k * step, seed);
    const bz = bzip2(text, level);
    const eos = eosBit(bz);
    if (!byShift.has(eos % 8)) byShift.set(eos % 8, { text, bz, eos });
  }
  expect([...byShift.keys()].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  return [...byShift.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

const oneBlock = streamsAtEveryShift(3_000, 17, 9, 3);
const twoBlocks = streamsAtEveryShift(150_000, 41, 1, 4);

describe('bzip2 end-of-stream marker at every bit shift, as bzip2 -dc reads it', () => {
  it.each([0, 1, 2, 3, 4, 5, 6, 7])('one-block and two-block streams ending at bit shift %i', async (shift) => {
    for (const [kind, s] of [
      ['one', oneBlock[shift]],
      ['two', twoBlocks[shift]],
    ] as const) {
      expect(s.eos % 8).toBe(shift);
      expect(bunzip(s.bz)?.equals(s.text)).toBe(true);
      const got = await readFile(`${kind}-${shift}.bz2`, s.bz);
      expect(got.error).toBeUndefined();
      expect(got.data?.equals(s.text)).toBe(true);
      expect(got.warnings).toEqual([]);
    }
  });

  it('concatenated streams (every shift, one and two blocks, empty streams between and at the end) read as bzip2 -dc reads them', async () => {
    const empty = bzip2(Buffer.alloc(0));
    const parts: Buffer[] = [empty];
    for (let s = 0; s < 8; s++) parts.push(oneBlock[s].bz, twoBlocks[7 - s].bz, ...(s % 3 === 0 ? [empty] : []));
    parts.push(empty);
    const file = Buffer.concat(parts);
    const truth = bunzip(file);
    expect(truth?.length).toBe(oneBlock.concat(twoBlocks).reduce((n, s) => n + s.text.length, 0));
    const got = await readFile('concatenated.bz2', file);
    expect(got.error).toBeUndefined();
    expect(got.data?.equals(truth ?? Buffer.alloc(0))).toBe(true);
    expect(got.warnings).toEqual([]);
  });

  it('pbzip2 output (a stream per block) and lbzip2 output read as bzip2 -dc reads them', async () => {
    const text = makeText(700_000, 8);
    for (const [tool, args] of [
      ['pbzip2', ['-1', '-p2', '-c']],
      ['lbzip2', ['-1', '-n2', '-c']],
    ] as const) {
      if (spawnSync('which', [tool]).status !== 0) continue;
      const bz = run(tool, [...args], text);
      expect(bunzip(bz)?.equals(text)).toBe(true);
      const got = await readFile(`${tool}.bz2`, bz);
      expect(got.error).toBeUndefined();
      expect(got.data?.equals(text)).toBe(true);
    }
  });
});

describe('damage at the end-of-stream marker, as bzip2 -dc sees it', () => {
  it('cut at every byte inside the marker and its CRC: TRUNCATED at or before the cut (bzip2 -dc fails too)', async () => {
    for (const s of [oneBlock[3], twoBlocks[6]]) {
      // From the first byte after the last block's last bit (a cut before it is inside the block).
      const first = Math.ceil(s.eos / 8);
      for (let cut = first; cut < s.bz.length; cut++) {
        const bytes = s.bz.subarray(0, cut);
        expect(bunzip(bytes)).toBeUndefined();
        const got = await readFile(`cut-${cut}.bz2`, bytes);
        expect(got.error?.code).toBe('TRUNCATED');
        expect(got.error?.compressedOffset).toBeGreaterThanOrEqual(Math.floor(s.eos / 8));
        expect(got.error?.compressedOffset).toBeLessThanOrEqual(cut);
      }
    }
  });

  it('a flipped bit anywhere in the end-of-stream magic: CORRUPT_DATA where the marker should start (bzip2 -dc fails too)', async () => {
    for (const s of [oneBlock[5], twoBlocks[2]]) {
      for (let i = 0; i < 48; i++) {
        const bytes = Buffer.from(s.bz);
        const bit = s.eos + i;
        bytes[bit >> 3] ^= 0x80 >> (bit & 7);
        expect(bunzip(bytes)).toBeUndefined();
        const got = await readFile(`flip-magic-${i}.bz2`, bytes);
        expect(got.error?.code).toBe('CORRUPT_DATA');
        expect(got.error?.compressedOffset).toBe(Math.floor(s.eos / 8));
      }
    }
  });

  it('a flipped bit in the stream CRC: CORRUPT_DATA (bzip2 -dc fails too)', async () => {
    const s = oneBlock[1];
    for (const i of [0, 7, 13, 31]) {
      const bytes = Buffer.from(s.bz);
      const bit = s.eos + 48 + i;
      bytes[bit >> 3] ^= 0x80 >> (bit & 7);
      expect(bunzip(bytes)).toBeUndefined();
      const got = await readFile(`flip-crc-${i}.bz2`, bytes);
      expect(got.error?.code).toBe('CORRUPT_DATA');
      expect(got.error?.message).toMatch(/stream CRC/);
    }
  });

  it('the end-of-stream marker of a middle stream damaged: CORRUPT_DATA there, not a silently shorter file', async () => {
    const a = twoBlocks[4];
    const b = oneBlock[0];
    const bytes = Buffer.concat([a.bz, b.bz]);
    bytes[(a.eos + 20) >> 3] ^= 0x80 >> ((a.eos + 20) & 7);
    expect(bunzip(bytes)).toBeUndefined();
    const got = await readFile('middle-eos.bz2', bytes);
    expect(got.error?.code).toBe('CORRUPT_DATA');
    expect(got.error?.compressedOffset).toBe(Math.floor(a.eos / 8));
  });
});

describe('bytes after the last stream (as bzip2 -dc: ignored unless they start a stream)', () => {
  const s = oneBlock[2];
  it.each([
    ['garbage', Buffer.from('garbage!! not a stream'), 'ignored'],
    ['zeros', Buffer.alloc(100), 'ignored'],
    ['an end-of-stream magic', Buffer.from([...EOS, 0, 0, 0, 0]), 'ignored'],
    ['a stream header and junk', Buffer.from('BZh9junkjunkjunk'), 'CORRUPT_DATA'],
    ['a stream header cut short', Buffer.from('BZ'), 'TRUNCATED'],
  ] as const)('%s', async (name, tail, expected) => {
    const bytes = Buffer.concat([s.bz, tail]);
    const got = await readFile(`tail-${name.replaceAll(' ', '-')}.bz2`, bytes);
    if (expected === 'ignored') {
      expect(bunzip(bytes)?.equals(s.text)).toBe(true);
      expect(got.error).toBeUndefined();
      expect(got.data?.equals(s.text)).toBe(true);
      expect(got.warnings.join('\n')).toMatch(new RegExp(`ignoring ${tail.length} bytes of trailing garbage .*byte ${s.bz.length}`));
    } else {
      expect(bunzip(bytes)).toBeUndefined();
      expect(got.error?.code).toBe(expected);
      expect(got.error?.compressedOffset).toBeGreaterThanOrEqual(s.bz.length);
    }
  });
});

/**
 * A made-up bzip2-shaped file for the scan alone: "BZh9", blocks of a block magic and random payload bits
 * (with end-of-stream and block magic patterns planted inside), the end-of-stream marker and the combined
 * CRC. A stand-in decoder knows where each block ends, as the real one finds out by decoding.
 */
interface FakeBlock {
  start: number;
  end: number;
  crc: number;
}

class BitWriter {
  bits: number[] = [];
  put(value: number, count: number): void {
    for (let i = count - 1; i >= 0; i--) this.bits.push(Math.floor(value / 2 ** i) % 2);
  }
  magic(bytes: number[]): void {
    for (const b of bytes) this.put(b, 8);
  }
  pad(): void {
    while (this.bits.length % 8 !== 0) this.bits.push(0);
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(Math.ceil(this.bits.length / 8));
    this.bits.forEach((b, i) => (out[i >> 3] |= b << (7 - (i & 7))));
    return out;
  }
}

function fakeFile(streams: number[][], seed: number): { bytes: Uint8Array; blocks: FakeBlock[]; planted: number } {
  const rand = prng(seed);
  const w = new BitWriter();
  const blocks: FakeBlock[] = [];
  let planted = 0;
  for (const payloads of streams) {
    w.pad();
    w.magic([0x42, 0x5a, 0x68, 0x39]);
    let combined = 0;
    for (const length of payloads) {
      const start = w.bits.length;
      const crc = Math.floor(rand() * 2 ** 32);
      w.magic(BLOCK);
      w.put(crc, 32);
      const payloadStart = w.bits.length;
      for (let i = 0; i < length; i++) w.bits.push(rand() < 0.5 ? 1 : 0);
      // Magic patterns inside the payload, at every bit shift (positions relative to the payload).
      for (let at = 8 + (planted % 8); at + 48 < length - 8; at += 97 + (planted++ % 8)) {
        const pattern = planted % 3 === 0 ? BLOCK : EOS;
        for (let i = 0; i < 48; i++) w.bits[payloadStart + at + i] = (pattern[i >> 3] >> (7 - (i & 7))) & 1;
      }
      blocks.push({ start, end: w.bits.length, crc });
      combined = (((combined << 1) | (combined >>> 31)) ^ crc) >>> 0;
    }
    w.magic(EOS);
    w.put(combined, 32);
  }
  w.pad();
  return { bytes: w.bytes(), blocks, planted };
}

function fakeDecoder(blocks: FakeBlock[], file: string): (task: Bzip2BlockTask) => Promise<Bzip2DecodeOutcome> {
  return async (task) => {
    const start = task.base * 8 + task.bitOffset;
    const block = blocks.find((b) => b.start === start);
    const at = { file, compressedOffset: Math.floor(start / 8) };
    // A false candidate does not decode; a block whose bytes were cut short runs out of input.
    if (block === undefined) throw new SeekdataError('CORRUPT_DATA', `${file}: not a block at bit ${start}`, at);
    if (block.end > (task.base + task.data.length) * 8) throw new SeekdataError('TRUNCATED', `${file}: block cut short at bit ${start}`, at);
    return { bytes: new Uint8Array(4), endBit: block.end - task.base * 8, crc: block.crc };
  };
}

describe('the scan walk with magic patterns inside block data (stand-in decoder)', () => {
  it.each([1, 2, 3])('end-of-stream and block magic patterns inside blocks, at every bit shift, never end a stream or start a block (seed %i)', async (seed) => {
    const rand = prng(seed);
    const streams: number[][] = [];
    for (let s = 0; s < 5; s++) streams.push(Array.from({ length: 1 + (s % 3) }, () => 2_000 + Math.floor(rand() * 3_000)));
    const { bytes, blocks, planted } = fakeFile(streams, seed);
    expect(planted).toBeGreaterThan(100);
    // The planted patterns are there at every shift (independent bit check).
    const shifts = new Set<number>();
    for (let bit = 0; bit + 48 <= bytes.length * 8; bit++) if (hasMagic(bytes, bit, EOS) && !blocks.some((b) => b.end === bit)) shifts.add(bit % 8);
    expect([...shifts].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const source = new MemorySource(bytes, 'fake.bz2');
    const seen: FakeBlock[] = [];
    for await (const { unit } of scanBzip2({ source, decode: fakeDecoder(blocks, 'fake.bz2'), lookahead: 3 })) {
      seen.push({ start: unit.cStartBit, end: unit.cEndBit, crc: unit.crc });
    }
    expect(seen).toEqual(blocks);
  });

  it('an end-of-stream marker where a block must start ends the stream at any bit shift; a damaged one is CORRUPT_DATA there', async () => {
    const shifts = new Set<number>();
    for (let extra = 0; extra < 8; extra++) {
      const { bytes, blocks } = fakeFile([[1_000 + extra, 1_500], [700]], extra);
      const last = blocks[1].end;
      expect(hasMagic(bytes, last, EOS)).toBe(true);
      shifts.add(last % 8);
      const seen: number[] = [];
      for await (const { unit } of scanBzip2({ source: new MemorySource(bytes, 'fake.bz2'), decode: fakeDecoder(blocks, 'fake.bz2'), lookahead: 2 })) seen.push(unit.cStartBit);
      expect(seen).toEqual(blocks.map((b) => b.start));
      const damaged = Uint8Array.from(bytes);
      damaged[(last + 47) >> 3] ^= 0x80 >> ((last + 47) & 7);
      const walk = async (): Promise<void> => {
        for await (const _ of scanBzip2({ source: new MemorySource(damaged, 'fake.bz2'), decode: fakeDecoder(blocks, 'fake.bz2'), lookahead: 2 })) void _;
      };
      await expect(walk()).rejects.toMatchObject({ code: 'CORRUPT_DATA', compressedOffset: Math.floor(last / 8) });
    }
    expect(shifts.size).toBe(8);
  });
});

describe('how many bytes a decode is given (stand-in decoder)', () => {
  const MAX_BLOCK_BYTES = 3 << 20;

  it('the last block before megabytes of zeros with no magic: no decode gets more than 3 MiB; the zeros are ignored with a warning', async () => {
    const { bytes, blocks } = fakeFile([[3_000, 2_000], [1_000]], 5);
    const file = Buffer.concat([bytes, Buffer.alloc(8 << 20)]);
    const decode = fakeDecoder(blocks, 'zeros.bz2');
    let largest = 0;
    const warnings: string[] = [];
    const seen: number[] = [];
    const scan = scanBzip2({
      source: new MemorySource(file, 'zeros.bz2'),
      decode: (task) => {
        largest = Math.max(largest, task.data.length);
        return decode(task);
      },
      lookahead: 2,
      onWarning: (m) => warnings.push(m),
    });
    for await (const { unit } of scan) seen.push(unit.cStartBit);
    expect(seen).toEqual(blocks.map((b) => b.start));
    expect(largest).toBeLessThanOrEqual(MAX_BLOCK_BYTES);
    expect(warnings.join('\n')).toMatch(new RegExp(`ignoring ${8 << 20} bytes of trailing garbage`));
  });

  it('a block that would run past 3 MiB: CORRUPT_DATA at the block (no block is that long), not a decode of the rest of the file', async () => {
    const rand = prng(6);
    const file = new Uint8Array(5 << 20);
    for (let i = 0; i < file.length; i++) file[i] = Math.floor(rand() * 256);
    file.set([0x42, 0x5a, 0x68, 0x39, ...BLOCK], 0);
    // The stand-in decoder says the block at bit 32 ends 4.5 MiB further: it runs out of any shorter range.
    const decode = fakeDecoder([{ start: 32, end: (4.5 * (1 << 20)) * 8, crc: 1 }], 'long.bz2');
    let largest = 0;
    const walk = async (): Promise<void> => {
      const scan = scanBzip2({
        source: new MemorySource(file, 'long.bz2'),
        decode: (task) => {
          largest = Math.max(largest, task.data.length);
          return decode(task);
        },
        lookahead: 2,
      });
      for await (const _ of scan) void _;
    };
    await expect(walk()).rejects.toMatchObject({ code: 'CORRUPT_DATA', compressedOffset: 4, message: expect.stringMatching(/longer than any block/) });
    expect(largest).toBeLessThanOrEqual(MAX_BLOCK_BYTES);
  });
});

describe('the magic search (magic.ts) against a bit-by-bit search', () => {
  it('finds every block and end-of-stream magic at every bit shift and window limit, and nothing else', () => {
    const rand = prng(9);
    let found = 0;
    for (let t = 0; t < 400; t++) {
      const bytes = new Uint8Array(30 + (t % 61));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rand() * 256);
      for (let k = 0; k < 1 + (t % 4); k++) {
        const at = Math.floor(rand() * (bytes.length * 8 - 47));
        const pattern = rand() < 0.5 ? BLOCK : EOS;
        for (let i = 0; i < 48; i++) {
          const bit = at + i;
          const v = (pattern[i >> 3] >> (7 - (i & 7))) & 1;
          bytes[bit >> 3] = (bytes[bit >> 3] & ~(0x80 >> (bit & 7))) | (v << (7 - (bit & 7)));
        }
      }
      const limit = t % 2 === 0 ? bytes.length * 8 : Math.floor(rand() * bytes.length * 8);
      const all: Array<{ bit: number; eos: boolean }> = [];
      for (let bit = 0; bit + 48 <= bytes.length * 8; bit++) {
        if (hasMagic(bytes, bit, BLOCK)) all.push({ bit, eos: false });
        if (hasMagic(bytes, bit, EOS)) all.push({ bit, eos: true });
      }
      const truth = all.filter((h) => h.bit < limit);
      found += truth.length;
      expect(findMagics(bytes, limit)).toEqual(truth);
      expect(findBlockMagics(bytes, limit)).toEqual(truth.filter((h) => !h.eos).map((h) => h.bit));
      for (let bit = 0; bit < bytes.length * 8; bit++) {
        const hit = all.find((h) => h.bit === bit);
        expect(magicAt(bytes, bit)).toBe(hit === undefined ? undefined : hit.eos ? 'eos' : 'block');
      }
    }
    expect(found).toBeGreaterThan(400);
  });
});

describe('the search windows: shared with the decodes, reused once passed', () => {
  it.each([1, 2])('every decode sees the file bytes it was given until it settles, with windows reused under slow decodes (seed %i)', async (seed) => {
    const rand = prng(seed);
    const { bytes, blocks } = fakeFile([Array.from({ length: 80 }, () => 4_000 + Math.floor(rand() * 8_000)), [2_000, 3_000]], seed);
    const inner = fakeDecoder(blocks, 'fake.bz2');
    const buffers = new Set<ArrayBufferLike>();
    let shared = 0;
    let checked = 0;
    let mismatches = 0;
    // Each decode waits a while (others start and the walk moves on meanwhile), then compares the bytes it
    // was given with the file's: a window reused while a decode still viewed it would show other bytes.
    const running: Array<Promise<unknown>> = [];
    const decode = (task: Bzip2BlockTask): Promise<Bzip2DecodeOutcome> => {
      const done = check(task);
      running.push(done.catch(() => undefined));
      return done;
    };
    const check = async (task: Bzip2BlockTask): Promise<Bzip2DecodeOutcome> => {
      const given = Buffer.from(Uint8Array.from(task.data));
      if (task.data.buffer instanceof SharedArrayBuffer) {
        shared++;
        buffers.add(task.data.buffer);
      }
      // A false candidate's decode (it fails) takes longer: the walk passes its window meanwhile.
      const real = blocks.some((b) => b.start === task.base * 8 + task.bitOffset);
      for (let turns = Math.floor(rand() * 4) + (real ? 0 : 300); turns > 0; turns--) await new Promise((resolve) => setImmediate(resolve));
      if (!Buffer.from(task.data).equals(given) || !given.equals(bytes.subarray(task.base, task.base + given.length))) mismatches++;
      checked++;
      return inner(task);
    };
    const seen: number[] = [];
    for await (const { unit } of scanBzip2({ source: new MemorySource(bytes, 'fake.bz2'), decode, lookahead: 6, windowBytes: 4_000 })) seen.push(unit.cStartBit);
    expect(seen).toEqual(blocks.map((b) => b.start));
    // Decodes of false candidates may still run after the walk: their checks count too.
    await Promise.all(running);
    expect(checked).toBeGreaterThanOrEqual(blocks.length);
    expect(mismatches).toBe(0);
    // Most decodes view a window (a block across two windows gets a copy); ~20 windows share a few buffers.
    expect(shared).toBeGreaterThan(blocks.length / 2);
    expect(bytes.length / 4_000).toBeGreaterThan(15);
    expect(buffers.size).toBeLessThanOrEqual(8);
  });

  it('a file source fills the windows in place (readInto), with the same bytes and errors as read', async () => {
    const text = makeText(300_000, 7);
    const bz = bzip2(text, 1);
    const path = writeFixture(tmp.dir, 'windows.bz2', bz);
    const reader = await openReader(path, { parallelism: 2 });
    try {
      const parts: Uint8Array[] = [];
      for await (const part of reader.stream()) parts.push(part);
      expect(Buffer.concat(parts).equals(text)).toBe(true);
    } finally {
      await reader.close();
    }
    const { FileSource } = await import('../src/sources/file-source.js');
    const source = await FileSource.open(path);
    try {
      const target = new Uint8Array(new SharedArrayBuffer(100));
      await source.readInto(bz.length - 100, target);
      expect(Buffer.from(target).equals(Buffer.from(bz.subarray(bz.length - 100)))).toBe(true);
      await expect(source.readInto(bz.length - 50, target)).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
    } finally {
      await source.close();
    }
    await expect(source.readInto(0, new Uint8Array(10))).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

describe('the search windows and a source that answers short', () => {
  it('a read shorter than asked is an IO_ERROR naming the file and offset, never an earlier window\'s bytes', async () => {
    const rand = prng(9);
    const { bytes, blocks } = fakeFile([Array.from({ length: 30 }, () => 4_000 + Math.floor(rand() * 8_000))], 9);
    const inner = new MemorySource(bytes, 'short.bz2');
    // The fourth window's read comes back 100 bytes short (the buffer it lands in held an earlier window's bytes).
    const read = async (offset: number, length: number): Promise<Uint8Array> => (await inner.read(offset, length)).subarray(0, offset === 12_000 && length > 1_000 ? length - 100 : length);
    const source = { name: 'short.bz2', size: inner.size, version: undefined, read, close: () => inner.close() };
    const walk = async (): Promise<void> => {
      for await (const _ of scanBzip2({ source, decode: fakeDecoder(blocks, 'short.bz2'), lookahead: 2, windowBytes: 4_000 })) void _;
    };
    await expect(walk()).rejects.toMatchObject({ code: 'IO_ERROR', file: 'short.bz2', compressedOffset: 12_000 });
  });
});
