/**
 * seekdata's WebAssembly bzip2 block decoder (wasm/bzip2-block.ts through src/readers/bzip2/block-wasm.ts).
 * The truth: the plain input (what the bzip2 command compressed), bzip2's reference samples, and the JS
 * decoder (decoder.ts), which must agree on every block: its bytes, where it ends, its CRC. Damage,
 * truncation and random garbage must never give bytes: the module's raw status is checked (without the JS
 * fallback that hides its failures), against the JS decoder's verdict, over a seeded fuzz of mutations.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeBlock } from '../src/readers/bzip2/decoder.js';
import { decodeBzip2Block, type Bzip2BlockTask } from '../src/readers/bzip2/block.js';
import { decodeBzip2BlockFast, decodeInModule, loadBzip2Block, type Bzip2BlockModule } from '../src/readers/bzip2/block-wasm.js';
import { bzip2Backend, bzip2DecoderName, prepareBzip2 } from '../src/readers/bzip2/backend.js';
import { decodeBzip2BlockWasm, loadBzip2Wasm, type Bzip2Wasm } from '../src/readers/bzip2/wasm.js';
import { borrowScratch, releaseScratch } from '../src/readers/lend.js';
import { mulberry32 as prng } from '../src/datasets/permutation.js';
import { bzip2, corpusDir, makeText, run } from './support/fixtures.js';
import { craftBlock, vectorOf } from './support/bzip2-craft.js';

const EOS = 0x177245385090;

function bitsAt(data: Uint8Array, bit: number, count: number): number {
  let v = 0;
  for (let i = 0; i < count; i++) v = v * 2 + ((data[(bit + i) >> 3] >> (7 - ((bit + i) & 7))) & 1);
  return v;
}

function task(data: Uint8Array, bitOffset: number, level: number, extra: Partial<Bzip2BlockTask> = {}): Bzip2BlockTask {
  return { data, bitOffset, level, base: 0, atEnd: true, file: 'blocks.bz2', ...extra };
}

let module: Bzip2BlockModule;
beforeAll(() => {
  module = loadBzip2Block();
});
afterEach(() => releaseScratch());

/** Every block of a one-stream file, decoded by the module and by the JS decoder, which must agree. */
function walkBoth(file: Uint8Array): { bytes: Uint8Array[]; shifts: Set<number> } {
  const level = file[3] - 0x30;
  const bytes: Uint8Array[] = [];
  const shifts = new Set<number>();
  let bit = 32;
  while (bitsAt(file, bit, 48) !== EOS) {
    const fast = decodeBzip2BlockFast(module, task(file, bit, level));
    const js = decodeBlock(file, bit, level);
    expect(fast.decoder).toBe('wasm');
    expect([fast.endBit, fast.crc]).toEqual([js.endBit, js.crc]);
    expect(Buffer.from(fast.bytes).equals(js.bytes)).toBe(true);
    bytes.push(fast.bytes);
    shifts.add(bit & 7);
    bit = fast.endBit;
  }
  return { bytes, shifts };
}

describe('decodeBzip2BlockFast agrees with the JS decoder and the input', () => {
  it('text at level 1: every block, at several bit shifts', () => {
    const plain = makeText(450_000, 7);
    const { bytes, shifts } = walkBoth(new Uint8Array(bzip2(plain, 1)));
    expect(bytes.length).toBeGreaterThanOrEqual(4);
    expect(shifts.size).toBeGreaterThan(1);
    expect(Buffer.concat(bytes).equals(plain)).toBe(true);
  });

  it('incompressible bytes at level 9 (every byte value, long codes)', () => {
    const plain = randomBytes(2_000_000);
    const { bytes } = walkBoth(new Uint8Array(bzip2(plain, 9)));
    expect(bytes.length).toBeGreaterThanOrEqual(3);
    expect(Buffer.concat(bytes).equals(plain)).toBe(true);
  });

  it('long runs: a block whose output is far larger than its level (the module grows its memory)', () => {
    const plain = Buffer.concat([Buffer.alloc(3_000_000, 0x61), Buffer.from('tail'), Buffer.alloc(500_000, 0x00)]);
    const { bytes } = walkBoth(new Uint8Array(bzip2(plain, 1)));
    expect(Buffer.concat(bytes).equals(plain)).toBe(true);
    expect(Math.max(...bytes.map((b) => b.length))).toBeGreaterThan(1_250_000);
  });

  it('periodic input: BWT vectors of several cycles, each walked around as many times as the block needs', () => {
    // A period of 2, 1000, 2500 or 5000 bytes repeated a whole number of times: the vector is that many cycles
    // of the period's length (shorter than the walk's segments, or holding one or a few of their starts).
    const random = prng(11);
    for (const period of [2, 1000, 2500, 5000]) {
      const unit = randomGarbage(random, period);
      const plain = Buffer.concat(Array.from({ length: 200_000 / period }, () => unit));
      const { bytes } = walkBoth(new Uint8Array(bzip2(plain, 1)));
      expect(Buffer.concat(bytes).equals(plain)).toBe(true);
    }
  });

  it("bzip2's reference samples", (context) => {
    const corpus = corpusDir();
    if (corpus === undefined) return context.skip();
    for (const n of [1, 2, 3]) {
      const file = new Uint8Array(readFileSync(join(corpus, 'bzip2', `sample${n}.bz2`)));
      const { bytes } = walkBoth(file);
      expect(Buffer.concat(bytes).equals(readFileSync(join(corpus, 'bzip2', `sample${n}.ref`)))).toBe(true);
    }
  });

  it('lends its bytes from the thread scratch when asked and the scratch is free; a new array otherwise', () => {
    const plain = makeText(120_000, 3);
    const file = new Uint8Array(bzip2(plain, 1));
    const lent = decodeBzip2BlockFast(module, task(file, 32, 1), true);
    expect(lent.release).toBeDefined();
    expect(Buffer.from(lent.bytes).equals(plain.subarray(0, lent.bytes.length))).toBe(true);
    // The scratch is lent: the next decode gets an array of its own, equal bytes.
    const own = decodeBzip2BlockFast(module, task(file, 32, 1), true);
    expect(own.release).toBeUndefined();
    expect(Buffer.from(own.bytes).equals(Buffer.from(lent.bytes))).toBe(true);
    lent.release?.();
    expect(borrowScratch(10)).toBeDefined();
  });
});

describe('damage never gives bytes: the raw status against the JS decoder', () => {
  const plain = makeText(150_000, 9);
  const file = new Uint8Array(bzip2(plain, 1));

  /** The module's raw status for the block at bit 32 (no fallback), and its output when it decoded. */
  function raw(data: Uint8Array, level = 1): { status: number; bytes?: Buffer; endBit?: number; crc?: number } {
    const status = decodeInModule(module, data.subarray(4), 0, level);
    if (status !== 0) return { status };
    const out = new Uint8Array(module.memory.buffer, module.getOutAt(), module.getOutLength());
    return { status, bytes: Buffer.from(out), endBit: 32 + module.getEndBit(), crc: module.getCrc() >>> 0 };
  }

  function js(data: Uint8Array): { ok: true; bytes: Buffer; endBit: number; crc: number } | { ok: false; code: string } {
    try {
      const r = decodeBzip2Block(task(data, 32, 1));
      return { ok: true, bytes: Buffer.from(r.bytes), endBit: r.endBit, crc: r.crc };
    } catch (error) {
      return { ok: false, code: (error as { code: string }).code };
    }
  }

  it('a seeded fuzz of bit flips, byte changes, cuts and garbage: the module decodes exactly when the JS decoder does, to the same bytes', () => {
    const random = prng(20261202);
    const firstEnd = decodeBlock(file, 32, 1).endBit;
    const tally = { decoded: 0, rejected: 0, ranOut: 0 };
    for (let round = 0; round < 400; round++) {
      const data = file.slice();
      const kind = round % 5;
      // Most changes inside the first block (its header and tables are its first ~100 bytes: hit them
      // often); some anywhere in the file, where those past the first block leave it intact.
      const span = round % 3 === 0 ? 200 : round % 4 === 1 ? file.length - 304 : Math.ceil(firstEnd / 8);
      const at = 4 + Math.floor(random() * span);
      let bytes = data;
      if (kind === 0) bytes[at] ^= 1 << Math.floor(random() * 8);
      else if (kind === 1) bytes[at] = Math.floor(random() * 256);
      else if (kind === 2) bytes = data.subarray(0, at);
      else if (kind === 3) bytes.fill(0, at, at + 1 + Math.floor(random() * 64));
      else bytes.set(randomGarbage(random, 1 + Math.floor(random() * 300)), Math.min(at, bytes.length - 300));
      const mine = raw(bytes);
      const theirs = js(bytes);
      if (theirs.ok) {
        tally.decoded++;
        expect({ round, status: mine.status }).toEqual({ round, status: 0 });
        expect([mine.endBit, mine.crc]).toEqual([theirs.endBit, theirs.crc]);
        expect(mine.bytes?.equals(theirs.bytes)).toBe(true);
      } else {
        expect({ round, decoded: mine.status === 0 }).toEqual({ round, decoded: false });
        // Which fault it is (cut short or damaged) is the JS decoder's word, through the fallback.
        if (theirs.code === 'TRUNCATED') tally.ranOut++;
        else tally.rejected++;
        // Through the fallback: the JS decoder's typed error, naming the file.
        expect(() => decodeBzip2BlockFast(module, task(bytes, 32, 1))).toThrow(expect.objectContaining({ code: theirs.code, file: 'blocks.bz2' }));
      }
    }
    // The fuzz reached every verdict often (a mutation past the first block's end leaves it intact).
    expect(tally.decoded).toBeGreaterThan(20);
    expect(tally.rejected).toBeGreaterThan(100);
    expect(tally.ranOut).toBeGreaterThan(20);
  });

  it('random garbage after a block magic, and levels outside 1..9, are statuses, not traps', () => {
    const random = prng(7);
    for (let round = 0; round < 200; round++) {
      const data = Uint8Array.from([0x42, 0x5a, 0x68, 0x31, 0x31, 0x41, 0x59, 0x26, 0x53, 0x59, ...randomGarbage(random, 40 + Math.floor(random() * 4000))]);
      expect(raw(data).status).toBeLessThan(0);
    }
    expect(raw(file, 0).status).toBeLessThan(0);
    expect(raw(file, 10).status).toBeLessThan(0);
  });

  it('code lengths that are not a prefix code: a status, and the next block decodes as before', () => {
    // The first group's lengths rewritten to 1 for every symbol (5 bits "00001", then a 0 per symbol): its
    // table would hold far more codes than its place. Nothing written past that place may reach the module's
    // other tables (the CRC's among them), which the next decode needs.
    let bit = 32 + 48 + 32 + 1 + 24;
    const used = bitsAt(file, bit, 16);
    bit += 16;
    let inUse = 0;
    for (let i = 0; i < 16; i++) {
      if ((used & (0x8000 >>> i)) === 0) continue;
      for (let j = 0; j < 16; j++) inUse += bitsAt(file, bit + j, 1);
      bit += 16;
    }
    bit += 3;
    const selectors = bitsAt(file, bit, 15);
    bit += 15;
    for (let i = 0; i < selectors; i++) while (bitsAt(file, bit++, 1) === 1);
    const bad = file.slice(0, Math.ceil((bit + 5 + inUse + 2) / 8) + 64);
    const put = (at: number, one: boolean): void => {
      if (one) bad[at >> 3] |= 0x80 >>> (at & 7);
      else bad[at >> 3] &= ~(0x80 >>> (at & 7));
    };
    for (let k = 0; k < 5; k++) put(bit + k, k === 4);
    for (let s = 0; s < inUse + 2; s++) put(bit + 5 + s, false);
    expect(raw(bad).status).toBe(-4);
    expect(js(bad)).toEqual({ ok: false, code: 'CORRUPT_DATA' });
    const after = raw(file);
    expect(after.status).toBe(0);
    expect(after.bytes?.equals(decodeBlock(file, 32, 1).bytes)).toBe(true);
  });

  it('a block whose stored CRC does not match its bytes: a status, and the JS decoder names the CRC', () => {
    const bad = file.slice();
    bad[10] ^= 0x01; // the stored CRC's first byte (bytes 10..13)
    expect(raw(bad).status).toBe(-5);
    expect(() => decodeBzip2BlockFast(module, task(bad, 32, 1))).toThrow(/CRC/);
  });
});

describe('hand-made BWT vectors: the walk in segments against an independent inverse BWT', () => {
  // Any vector is a block (the links it makes are always a permutation), of any cycle structure: one cycle,
  // a few, fixed points; the walk's start on a cycle with no segment start (a multiple of 1024), or on a
  // segment start that is a fixed point. support/bzip2-craft.ts codes the block and computes its bytes apart.

  /**
   * The module decodes the one-block file of `vector` to the crafted truth, as the JS decoder does; or, for
   * a walk that ends with 4 equal bytes and no count (libbzip2 refuses it), both refuse it as corrupt.
   */
  function agree(vector: Uint8Array, origPtr: number, level = 9): void {
    const { file, plain, refused } = craftBlock(vector, origPtr, level);
    const status = decodeInModule(module, file.subarray(4), 0, level);
    if (refused) {
      expect({ n: vector.length, origPtr, status }).toEqual({ n: vector.length, origPtr, status: -4 });
      expect(() => decodeBlock(file, 32, level)).toThrow(/ends with a run of 4 equal bytes/);
      return;
    }
    expect({ n: vector.length, origPtr, status }).toEqual({ n: vector.length, origPtr, status: 0 });
    const out = new Uint8Array(module.memory.buffer, module.getOutAt(), module.getOutLength());
    expect({ n: vector.length, origPtr, same: Buffer.from(out).equals(plain) }).toEqual({ n: vector.length, origPtr, same: true });
    const js = decodeBlock(file, 32, level);
    expect(Buffer.from(js.bytes).equals(plain)).toBe(true);
    expect(32 + module.getEndBit()).toBe(js.endBit);
  }

  function shapes(random: () => number, n: number): Uint8Array[] {
    const any = (k: number): Uint8Array => Uint8Array.from({ length: n }, () => Math.floor(random() * k));
    const swapped = any(6).sort();
    for (let s = 0; s < 6; s++) {
      const i = Math.floor(random() * n);
      const j = Math.floor(random() * n);
      [swapped[i], swapped[j]] = [swapped[j], swapped[i]];
    }
    // One byte; two; every byte; sorted (n fixed points); sorted with a few swapped (a few cycles among fixed points).
    return [new Uint8Array(n).fill(0x61), any(2), any(256), any(256).sort(), swapped];
  }

  it('sizes around the segments (1..3 bytes, 1024 +- 1, 12 to 14 segments for 12 lanes), every cycle shape, the walk starting on and off a segment start', () => {
    const random = prng(3);
    for (const n of [1, 2, 3, 5, 1023, 1024, 1025, 2048, 2049, 12288, 12289, 13313]) {
      const marker = Math.floor((n - 1) / 1024) * 1024;
      const starts = new Set([0, n - 1, marker, Math.min(n - 1, marker + 1), Math.floor(random() * n)]);
      for (const vector of shapes(random, n)) for (const origPtr of starts) agree(vector, origPtr);
    }
  });

  it('a walk round a short cycle many times: a fixed point at a segment start (a segment of one byte followed by itself) and off one', () => {
    // Sorted: every position is a fixed point, so the walk is one byte n times.
    const random = prng(4);
    const vector = Uint8Array.from({ length: 60_000 }, () => Math.floor(random() * 256)).sort();
    for (const origPtr of [0, 7 * 1024, 7 * 1024 + 1, 58 * 1024, 59_999]) agree(vector, origPtr);
    // Sorted with two positions swapped: one cycle through the positions between them that hold either byte
    // (217 of them, one a segment start: the walk goes round its one segment 276 times), fixed points elsewhere.
    const two = vector.slice();
    [two[3 * 1024], two[40_000]] = [two[40_000], two[3 * 1024]];
    for (const origPtr of [3 * 1024, 40_000, 3 * 1024 + 1, 50_001]) agree(two, origPtr);
  });

  it('maximum expansion: every symbol of the block a run of 4 and a count of 255 more', () => {
    // 100,000 symbols of 255: 20,000 runs of 259 bytes. Starting at a segment start, the walk is 100,000
    // segments of one byte.
    const vector = new Uint8Array(100_000).fill(255);
    for (const origPtr of [5 * 1024, 5 * 1024 + 3]) {
      const { file } = craftBlock(vector, origPtr, 1);
      expect(decodeInModule(module, file.subarray(4), 0, 1)).toBe(0);
      const out = new Uint8Array(module.memory.buffer, module.getOutAt(), module.getOutLength());
      expect(Buffer.from(out).equals(Buffer.alloc(20_000 * 259, 255))).toBe(true);
    }
    // Mostly 255, the rest random: counts of every size, runs ending anywhere in the 8 bytes read at once.
    const random = prng(5);
    agree(Uint8Array.from({ length: 100_000 }, () => (random() < 0.8 ? 255 : Math.floor(random() * 256))), 31_337, 1);
  });

  it('a CRC mismatch or a bad origin pointer on a block of many segments, then a small block: decoded as before', () => {
    const random = prng(6);
    const big = Uint8Array.from({ length: 300_000 }, () => Math.floor(random() * 4));
    const bad = craftBlock(big, 12_345, 3, 0x12345678);
    expect(decodeInModule(module, bad.file.subarray(4), 0, 3)).toBe(-5);
    expect(() => decodeBlock(bad.file, 32, 3)).toThrow(/CRC/);
    agree(Uint8Array.from({ length: 3000 }, () => Math.floor(random() * 3)), 2048);
    agree(shapes(random, 5000)[4], 1024);
    // The origin pointer past the block (its 24 bits at bit 113 of the file): a status.
    const small = craftBlock(Uint8Array.from({ length: 700 }, () => Math.floor(random() * 3)), 5, 1);
    const past = small.file.slice();
    past[15] |= 0x02; // origPtr's bit of 1024 (bit 126): 1029
    expect(decodeInModule(module, past.subarray(4), 0, 1)).toBe(-4);
    expect(() => decodeBlock(past, 32, 1)).toThrow(/origin pointer/);
    agree(big, 299_999, 3);
  });

  it('the crafted blocks are what the bzip2 command reads (the truth does not depend on our decoders)', () => {
    // Fixed points and longer cycles (the walk's start on a fixed point at a segment start, then on a cycle
    // of 832 positions), and one cycle.
    const random = prng(7);
    const cycles = shapes(random, 5000)[4];
    for (const [vector, origPtr] of [
      [cycles, 2048],
      [cycles, 1000],
      [shapes(random, 3000)[2], 17],
    ] as const) {
      const { file, plain } = craftBlock(vector, origPtr, 1);
      expect(run('bzip2', ['-dc'], file).equals(plain)).toBe(true);
    }
  });

  it('damage that still parses, its stored CRC made right: a valid block of another vector, decoded alike', () => {
    // Bit flips in the tables and symbols (and the origin pointer) of real and crafted blocks; when the JS
    // decoder reports only a CRC mismatch, the stored CRC is set to the CRC it computed: both decoders must
    // then give the same bytes from the same (damaged) vector.
    const random = prng(8);
    const periodic = Buffer.concat(Array.from({ length: 60 }, () => Buffer.from(randomGarbage(random, 1024))));
    const files = [
      new Uint8Array(bzip2(periodic, 1)),
      new Uint8Array(bzip2(makeText(20_000, 4), 1)),
      craftBlock(shapes(random, 4000)[4], 2048, 1).file,
      craftBlock(shapes(random, 2049)[1], 2048, 1).file,
    ];
    let fixed = 0;
    for (let round = 0; round < 300; round++) {
      const data = files[round % files.length].slice();
      for (let k = 1 + Math.floor(random() * 2); k > 0; k--) {
        const bit = round % 5 === 0 ? 113 + Math.floor(random() * 24) : 112 + Math.floor(random() * Math.min(3000, data.length * 8 - 160));
        data[bit >> 3] ^= 0x80 >>> (bit & 7);
      }
      let theirs: ReturnType<typeof decodeBlock> | undefined;
      try {
        theirs = decodeBlock(data, 32, 1);
      } catch (error) {
        const computed = /computed ([0-9a-f]+)/.exec((error as Error).message);
        if (computed !== null) {
          const crc = parseInt(computed[1], 16);
          data.set([crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff], 10);
          theirs = decodeBlock(data, 32, 1);
          fixed++;
        }
      }
      const status = decodeInModule(module, data.subarray(4), 0, 1);
      expect({ round, decoded: status === 0 }).toEqual({ round, decoded: theirs !== undefined });
      if (theirs === undefined) continue;
      const out = new Uint8Array(module.memory.buffer, module.getOutAt(), module.getOutLength());
      expect({ round, same: Buffer.from(out).equals(theirs.bytes), endBit: 32 + module.getEndBit() }).toEqual({ round, same: true, endBit: theirs.endBit });
    }
    expect(fixed).toBeGreaterThan(80);
  });
});

describe('a block that ends with 4 equal bytes and no count after them: refused, as bzip2 -d refuses it', () => {
  // The initial run-length stage writes a count of more after every 4 equal bytes. libbzip2 (bzip2 -d) reads
  // that count even when the 4th byte is the block's last symbol, past the block, and reports a data error;
  // the bzip2 command never writes such a block. support/bzip2-craft.ts makes blocks of any walk.
  let libbzip2: Bzip2Wasm;
  beforeAll(async () => {
    libbzip2 = await loadBzip2Wasm();
  });
  const latin1 = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'latin1'));

  /** bzip2 -dc's answer for `file`: its bytes, or undefined when it refuses the file. */
  function reference(file: Uint8Array): Buffer | undefined {
    const result = spawnSync('bzip2', ['-dc'], { input: file });
    return result.status === 0 ? result.stdout : undefined;
  }

  /**
   * Every decoder on the one-block file of `walk` (before the run-length stage) against bzip2 -dc: the same
   * bytes, or, where bzip2 -dc refuses, the module's CORRUPT status and CORRUPT_DATA through the JS decoder
   * (directly, and as the fallback of both WebAssembly decoders). Returns whether bzip2 -dc accepted it.
   */
  function verdicts(walk: Uint8Array, level = 1): boolean {
    const { vector, origPtr } = vectorOf(walk);
    const { file, refused } = craftBlock(vector, origPtr, level);
    const truth = reference(file);
    const what = { walk: Buffer.from(walk.subarray(-12)).toString('hex'), n: walk.length };
    expect({ ...what, refused }).toEqual({ ...what, refused: truth === undefined });
    const status = decodeInModule(module, file.subarray(4), 0, level);
    const t = task(file, 32, level);
    if (truth !== undefined) {
      expect({ ...what, status }).toEqual({ ...what, status: 0 });
      expect(Buffer.from(module.memory.buffer, module.getOutAt(), module.getOutLength()).equals(truth)).toBe(true);
      expect(Buffer.from(decodeBzip2Block(t).bytes).equals(truth)).toBe(true);
      expect(Buffer.from(decodeBzip2BlockWasm(libbzip2, t).bytes).equals(truth)).toBe(true);
      return true;
    }
    expect({ ...what, status }).toEqual({ ...what, status: -4 });
    const corrupt = expect.objectContaining({
      code: 'CORRUPT_DATA',
      file: 'blocks.bz2',
      compressedOffset: 4,
      message: 'blocks.bz2: corrupt bzip2 block at byte 4: the block ends with a run of 4 equal bytes and no run count after them',
    });
    expect(() => decodeBzip2Block(t)).toThrow(corrupt);
    expect(() => decodeBzip2BlockFast(module, t)).toThrow(corrupt);
    expect(() => decodeBzip2BlockWasm(libbzip2, t)).toThrow(corrupt);
    return false;
  }

  it("the reviewer's block (1024 equal bytes: 204 runs of 4 and a count, then 4 more) and its neighbours", () => {
    // n equal bytes: runs of 4 and a count (5 symbols each), then n % 5 of them, refused when that is 4.
    const walks = [1019, 1020, 1021, 1022, 1023, 1024, 1025].map((n) => new Uint8Array(n).fill(30));
    expect(walks.map((walk) => verdicts(walk))).toEqual([false, true, true, true, true, false, true]);
    // As the reviewer made it: any origin pointer of an all-equal vector walks the same bytes.
    const { file, refused } = craftBlock(new Uint8Array(1024).fill(30), 359, 1);
    expect([refused, reference(file)]).toEqual([true, undefined]);
    expect(decodeInModule(module, file.subarray(4), 0, 1)).toBe(-4);
    expect(() => decodeBlock(file, 32, 1)).toThrow(/ends with a run of 4 equal bytes/);
  });

  it('every ending: 3 or 4 equal bytes, a count of 0, 3 or equal to the byte, a second run after a count; after 0 to 17 other bytes', () => {
    // Each ending after prefixes of 0..17 bytes with no run, so that it ends at every place of the module's
    // 8-byte words; whether bzip2 -dc accepts it is its own answer, checked to be what the ending says.
    const endings: [string, boolean][] = [
      ['c', true],
      ['ccc', true],
      ['cccc', false],
      ['cccc\x00', true],
      ['cccc\x03', true],
      ['ccccc', true], // a count of 0x63
      ['cccc\x02ccc', true],
      ['cccc\x02cccc', false],
      ['ccccccccc', false], // 4, a count of 0x63, 4 more
      ['cccc\x00cccc\x00', true],
      ['ddcccc', false],
      ['cccc\x00d', true],
    ];
    const random = prng(12);
    const tally = { accepted: 0, refused: 0 };
    for (let prefix = 0; prefix <= 17; prefix++) {
      // Bytes 'e'..'z', none equal to the one before it, nor to 'c' or 'd'.
      const head: number[] = [];
      while (head.length < prefix) {
        const b = 0x65 + Math.floor(random() * 22);
        if (b !== head[head.length - 1]) head.push(b);
      }
      for (const [ending, accepted] of endings) {
        const walk = Uint8Array.from([...head, ...latin1(ending)]);
        expect({ prefix, ending, accepted: verdicts(walk) }).toEqual({ prefix, ending, accepted });
        tally[accepted ? 'accepted' : 'refused']++;
      }
    }
    expect(tally).toEqual({ accepted: 18 * 8, refused: 18 * 4 });
  });

  it('on a block of many walk segments, at levels 1 and 9; a good block decodes right after a refused one', () => {
    const random = prng(13);
    const text = makeText(14_000, 5);
    for (const level of [1, 9]) {
      for (const [ending, accepted] of [
        ['zzzz', false],
        ['zzzz\x07', true],
        ['zzzz\x01zzzz', false],
      ] as const) {
        const walk = Uint8Array.from([...text.subarray(0, 13_000 + Math.floor(random() * 1000)), ...latin1(ending)]);
        expect({ level, ending, accepted: verdicts(walk, level) }).toEqual({ level, ending, accepted });
      }
    }
    // Refused, then a block the bzip2 command wrote: decoded by the module to its input.
    const refused = craftBlock(new Uint8Array(3 * 1024 + 2).fill(0x41), 7, 1);
    expect(refused.refused).toBe(true);
    const plain = makeText(90_000, 6);
    const good = new Uint8Array(bzip2(plain, 1));
    for (let round = 0; round < 2; round++) {
      expect(decodeInModule(module, refused.file.subarray(4), 0, 1)).toBe(-4);
      expect(decodeInModule(module, good.subarray(4), 0, 1)).toBe(0);
      expect(Buffer.from(module.memory.buffer, module.getOutAt(), module.getOutLength()).equals(plain)).toBe(true);
      expect(() => decodeBzip2BlockFast(module, task(refused.file, 32, 1))).toThrow(expect.objectContaining({ code: 'CORRUPT_DATA' }));
      const fast = decodeBzip2BlockFast(module, task(good, 32, 1));
      expect([fast.decoder, Buffer.from(fast.bytes).equals(plain)]).toEqual(['wasm', true]);
    }
  });
});

function randomGarbage(random: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(random() * 256);
  return out;
}

describe('choosing the backend', () => {
  it('when the module cannot load, libbzip2 (WebAssembly) decodes, said once', async () => {
    const warnings: string[] = [];
    const listen = (w: Error): void => void warnings.push(w.message);
    process.on('warning', listen);
    try {
      await prepareBzip2(() => {
        throw new Error('not built');
      });
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', listen);
    }
    expect(bzip2Backend()).toBe('libbzip2');
    expect(bzip2DecoderName()).toBe('libbzip2 (WebAssembly, @foxglove/wasm-bz2)');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/WebAssembly decoder .*not available \(not built\).*libbzip2/);
  });
});
