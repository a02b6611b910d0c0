/**
 * seekdata's WebAssembly bzip2 magic search (wasm/bzip2-magic.ts through src/readers/bzip2/magic-wasm.ts). The
 * truth: a bit-by-bit search written here, and the JS search (magic.ts), which must give the same hits, sorted,
 * for any bytes and limit: magics planted at every bit shift, at the very start and end of the bytes, overlapping
 * and adjacent, across the module's 64 KiB pieces, in buffers of 0-7 bytes, and the magics of real files.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findBlockMagics, findMagics, findMagicsJs, type MagicHit } from '../src/readers/bzip2/magic.js';
import { loadMagicSearch, magicHitsInModule, magicSearchModule, resetMagicSearch, type MagicSearchModule } from '../src/readers/bzip2/magic-wasm.js';
import { bzip2, corpusDir, makeText, prng } from './support/fixtures.js';

const BLOCK = [0x31, 0x41, 0x59, 0x26, 0x53, 0x59];
const EOS = [0x17, 0x72, 0x45, 0x38, 0x50, 0x90];
const PIECE = 65536;

function bitAt(bytes: Uint8Array, bit: number): number {
  return (bytes[bit >> 3] >> (7 - (bit & 7))) & 1;
}

function plant(bytes: Uint8Array, bit: number, magic: number[]): void {
  for (let i = 0; i < 48; i++) {
    const at = bit + i;
    const v = (magic[i >> 3] >> (7 - (i & 7))) & 1;
    bytes[at >> 3] = (bytes[at >> 3] & ~(0x80 >> (at & 7))) | (v << (7 - (at & 7)));
  }
}

/** Every magic that starts at a bit below `limit`, bit by bit (the independent truth). */
function truth(bytes: Uint8Array, limit: number, eos = true): MagicHit[] {
  const out: MagicHit[] = [];
  for (let bit = 0; bit + 48 <= bytes.length * 8 && bit < limit; bit++) {
    for (const [magic, isEos] of [[BLOCK, false], [EOS, true]] as const) {
      if (isEos && !eos) continue;
      let i = 0;
      while (i < 48 && bitAt(bytes, bit + i) === ((magic[i >> 3] >> (7 - (i & 7))) & 1)) i++;
      if (i === 48) out.push({ bit, eos: isEos });
    }
  }
  return out;
}

function randomBytes(n: number, rand: () => number): Uint8Array {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = Math.floor(rand() * 256);
  return bytes;
}

let module: MagicSearchModule;
beforeAll(() => {
  module = loadMagicSearch();
});

/** The module's hits, with and without the end-of-stream magic, against `expected` (all magics below `limit`). */
function expectModule(bytes: Uint8Array, limit: number, expected: MagicHit[]): void {
  expect(magicHitsInModule(module, bytes, limit, true)).toEqual(expected);
  expect(magicHitsInModule(module, bytes, limit, false)).toEqual(expected.filter((h) => !h.eos));
}

describe('the WebAssembly magic search against a bit-by-bit search and the JS search', () => {
  it('finds magics at every bit of short buffers, at the start and the end, alone, adjacent and overlapping', () => {
    const rand = prng(5);
    let found = 0;
    let cases = 0;
    for (let length = 6; length <= 26; length++) {
      for (let first = 0; first + 48 <= length * 8; first++) {
        for (const second of [-1, 48, 1 + Math.floor(rand() * 47), -Math.floor(rand() * 47) - 1]) {
          const bytes = randomBytes(length, rand);
          plant(bytes, first, rand() < 0.5 ? BLOCK : EOS);
          // A second magic right after the first (adjacent), inside its bits (overwriting its end or its
          // start), or none.
          const at = second === -1 ? -1 : first + second;
          if (second !== -1 && at >= 0 && at + 48 <= length * 8) plant(bytes, at, rand() < 0.5 ? BLOCK : EOS);
          for (const limit of [length * 8, first, first + 1, at, at + 1, Math.floor(rand() * length * 8)]) {
            const expected = truth(bytes, limit);
            expectModule(bytes, limit, expected);
            expect(findMagicsJs(bytes, limit)).toEqual(expected);
            found += expected.length;
            cases++;
          }
        }
      }
    }
    expect(cases).toBeGreaterThan(20_000);
    expect(found).toBeGreaterThan(cases / 2);
  });

  it('finds nothing in buffers of 0-5 bytes, and the whole-byte magic in 6 and every shift in 7', () => {
    const rand = prng(6);
    for (let length = 0; length <= 7; length++) {
      for (let t = 0; t < 50; t++) {
        const bytes = randomBytes(length, rand);
        const shift = t % 8;
        if (length * 8 >= shift + 48) plant(bytes, shift, t % 2 === 0 ? BLOCK : EOS);
        const expected = truth(bytes, Infinity);
        if (length === 7 || (length === 6 && shift === 0)) expect(expected).toHaveLength(1);
        expectModule(bytes, length * 8, expected);
        expectModule(bytes, Infinity, expected);
      }
    }
  });

  it('takes any limit as the JS search does: none, negative, fractional, past the end, infinite, NaN', () => {
    const rand = prng(7);
    const bytes = randomBytes(300, rand);
    for (let s = 0; s < 8; s++) plant(bytes, 10 + 300 * s + s, s % 2 === 0 ? BLOCK : EOS);
    expect(truth(bytes, Infinity)).toHaveLength(8);
    for (const limit of [0, -1, -1e9, 10.5, 10, 11, 310.25, 311.5, 2401, 300 * 8, 300 * 8 + 77, 1e12, Infinity, -Infinity, NaN]) {
      expectModule(bytes, limit, findMagicsJs(bytes, limit));
      expect(magicHitsInModule(module, bytes, limit, false)).toEqual(findMagicsJs(bytes, limit, false));
    }
  });

  it('finds every magic that crosses or touches a piece boundary, once, at every shift and limit', () => {
    const rand = prng(8);
    const bytes = randomBytes(3 * PIECE + 100, rand);
    const planted: number[] = [];
    for (const edge of [PIECE, 2 * PIECE, 3 * PIECE]) {
      // Magics every 49-59 bits from 64 bits before the boundary to 64 after it: every shift, some adjacent.
      for (let bit = edge * 8 - 64 * 8; bit < edge * 8 + 64 * 8; bit += 48 + Math.floor(rand() * 12)) {
        plant(bytes, bit, rand() < 0.5 ? BLOCK : EOS);
        planted.push(bit);
      }
    }
    // The last bit at which a magic fits, and the first.
    plant(bytes, bytes.length * 8 - 48, BLOCK);
    plant(bytes, 0, EOS);
    const all = truth(bytes, Infinity);
    expect(all.length).toBeGreaterThanOrEqual(planted.length + 2);
    expect(new Set(planted.map((bit) => bit & 7)).size).toBe(8);
    expectModule(bytes, Infinity, all);
    for (const edge of [PIECE, 2 * PIECE, 3 * PIECE]) {
      for (let d = -80; d <= 80; d++) {
        const limit = edge * 8 + d;
        expectModule(bytes, limit, all.filter((h) => h.bit < limit));
      }
    }
  });

  it('finds a magic at every bit around a piece boundary, alone in bytes that hold none', () => {
    const bytes = new Uint8Array(2 * PIECE + 64);
    let checked = 0;
    for (const fill of [0x00, 0xff]) {
      for (const edge of [PIECE, 2 * PIECE]) {
        for (let bit = edge * 8 - 64; bit < edge * 8 + 64; bit++) {
          for (const [magic, eos] of [[BLOCK, false], [EOS, true]] as const) {
            bytes.fill(fill);
            plant(bytes, bit, magic);
            expectModule(bytes, Infinity, [{ bit, eos }]);
            checked++;
          }
        }
      }
    }
    expect(checked).toBe(1024);
  });

  it('agrees with the JS search on random bytes of random lengths, with magics at random bits', () => {
    const rand = prng(9);
    for (let t = 0; t < 60; t++) {
      const bytes = randomBytes(1 + Math.floor(rand() * 3 * PIECE), rand);
      for (let k = 0; k < 40 && bytes.length >= 7; k++) plant(bytes, Math.floor(rand() * (bytes.length * 8 - 47)), rand() < 0.5 ? BLOCK : EOS);
      const limit = t % 3 === 0 ? bytes.length * 8 : Math.floor(rand() * bytes.length * 8);
      expectModule(bytes, limit, findMagicsJs(bytes, limit));
    }
  });
});

describe('the WebAssembly magic search on real files', () => {
  const files: Array<[string, () => Uint8Array]> = [['bzip2 -1 of 900 KB of text (9 blocks)', () => bzip2(makeText(900_000, 3), 1)]];
  const corpus = corpusDir();
  if (corpus !== undefined && existsSync(join(corpus, 'bzip2'))) {
    for (const name of readdirSync(join(corpus, 'bzip2')).filter((n) => n.endsWith('.bz2'))) files.push([`corpus ${name}`, () => readFileSync(join(corpus, 'bzip2', name))]);
  }
  const bench = new URL('../bench/data/synth.csv.bz2', import.meta.url);
  if (existsSync(bench)) files.push(['bench/data/synth.csv.bz2', () => readFileSync(bench)]);

  it.each(files)('%s: the hits of the JS search, over the whole file and in 4 MiB shared windows as the scan reads it', (_name, read) => {
    const file = read();
    const all = findMagicsJs(file);
    // Every file has its end-of-stream magic, and every block its magic.
    expect(all.some((h) => h.eos)).toBe(true);
    expect(all.some((h) => !h.eos && h.bit === 32)).toBe(true);
    expectModule(file, file.length * 8, all);
    // The scan's windows live in SharedArrayBuffers (candidates.ts): so here.
    const shared = new Uint8Array(new SharedArrayBuffer(file.length));
    shared.set(file);
    const windowBytes = 4 << 20;
    for (let start = 0; start < file.length; start += windowBytes) {
      const limit = Math.min(windowBytes, file.length - start);
      const data = shared.subarray(start, Math.min(file.length, start + limit + 6));
      expect(magicHitsInModule(module, data, limit * 8, false)).toEqual(findMagicsJs(data, limit * 8, false));
    }
  });
});

describe('findBlockMagics and findMagics: the module when it loads, else the JS search', () => {
  afterEach(() => {
    delete process.env.SEEKDATA_BZIP2_MAGIC;
    resetMagicSearch();
  });

  it('use the module by default and the JS search with SEEKDATA_BZIP2_MAGIC=js, with the same hits', () => {
    const rand = prng(10);
    const bytes = randomBytes(PIECE + 5000, rand);
    for (let k = 0; k < 30; k++) plant(bytes, Math.floor(rand() * (bytes.length * 8 - 47)), k % 3 === 0 ? EOS : BLOCK);
    const expected = truth(bytes, Infinity);
    resetMagicSearch();
    expect(magicSearchModule()).toBeDefined();
    expect(findMagics(bytes)).toEqual(expected);
    expect(findBlockMagics(bytes, 40_000)).toEqual(expected.filter((h) => !h.eos && h.bit < 40_000).map((h) => h.bit));
    process.env.SEEKDATA_BZIP2_MAGIC = 'js';
    resetMagicSearch();
    expect(magicSearchModule()).toBeUndefined();
    expect(findMagics(bytes)).toEqual(expected);
    expect(findBlockMagics(bytes, 40_000)).toEqual(expected.filter((h) => !h.eos && h.bit < 40_000).map((h) => h.bit));
  });

  it('a module that does not load is refused; the JS search then answers, said once', async () => {
    expect(() => loadMagicSearch(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 99]))).toThrow();
    const rand = prng(11);
    const bytes = randomBytes(5000, rand);
    for (let k = 0; k < 8; k++) plant(bytes, 600 * k + k, k % 2 === 0 ? BLOCK : EOS);
    const expected = truth(bytes, Infinity);
    expect(expected).toHaveLength(8);
    const warnings: string[] = [];
    const listen = (w: Error): void => void warnings.push(w.message);
    process.on('warning', listen);
    try {
      resetMagicSearch();
      expect(
        magicSearchModule(() => {
          throw new Error('not built');
        }),
      ).toBeUndefined();
      expect(findMagics(bytes)).toEqual(expected);
      expect(findBlockMagics(bytes)).toEqual(expected.filter((h) => !h.eos).map((h) => h.bit));
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', listen);
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/magic search .*not available \(not built\).*JS search/);
  });
});
