/**
 * bzip2 discovery over the WebAssembly magic search, end to end against `bzip2 -dc`: false block and
 * end-of-stream magics coded inside a block's data (a hand-made block, test/support/bzip2-craft.ts), alone and
 * between other streams; a block magic moved to every byte around the search's first 64 KiB piece boundary
 * (empty and small streams before it), at its own bit shift; streams written by lbzip2 and pbzip2 with empty
 * streams between them. Every file must read back as `bzip2 -dc` gives it, with the units it holds.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { closeSharedPool, openReader, WorkerPool } from '../src/index.js';
import { findMagicsJs } from '../src/readers/bzip2/magic.js';
import { craftBlock } from './support/bzip2-craft.js';
import { bzip2, makeText, prng, run, tempDir, writeFixture } from './support/fixtures.js';

const tmp = tempDir();
const pool = new WorkerPool({ size: 2 });
afterAll(async () => {
  await pool.close();
  await closeSharedPool();
  tmp.cleanup();
});

const BLOCK = [0x31, 0x41, 0x59, 0x26, 0x53, 0x59];
const EOS = [0x17, 0x72, 0x45, 0x38, 0x50, 0x90];

function bunzip(bytes: Uint8Array): Buffer {
  const r = spawnSync('bzip2', ['-dc'], { input: bytes, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`bzip2 -dc failed: ${r.stderr.toString()}`);
  return r.stdout;
}

/** Reads the whole file through a reader (no index) and compares it with `bzip2 -dc`; returns the unit count. */
async function readsAsBzip2(name: string, bytes: Uint8Array, parallelism: 1 | 2 = 2): Promise<number> {
  const path = writeFixture(tmp.dir, name, bytes);
  const reader = await openReader(path, { index: false, ...(parallelism === 1 ? { parallelism: 1 } : { pool }) });
  try {
    const got = await reader.read(0, reader.size);
    expect(Buffer.from(got).equals(bunzip(bytes)), name).toBe(true);
    return reader.units.count;
  } finally {
    await reader.close();
  }
}

/**
 * A BWT vector of 254 byte values (1..254, so the crafted block codes 8 bits a symbol, byte values 2..254 as
 * themselves) whose move-to-front symbols hold each of `runs` consecutively, after `filler` random bytes.
 */
function vectorCoding(runs: number[][], filler: number, rand: () => number): Uint8Array {
  const mtf = Array.from({ length: 254 }, (_, i) => i + 1);
  const out: number[] = [];
  const emit = (b: number): void => {
    out.push(b);
    mtf.splice(mtf.indexOf(b), 1);
    mtf.unshift(b);
  };
  for (let b = 1; b <= 254; b++) emit(b);
  for (const symbols of runs) {
    for (let k = 0; k < filler; k++) emit(1 + Math.floor(rand() * 254));
    for (const s of symbols) emit(mtf[s - 1]);
  }
  for (let k = 0; k < filler; k++) emit(1 + Math.floor(rand() * 254));
  return Uint8Array.from(out);
}

describe('bzip2 discovery, end to end', () => {
  it.each([
    ['a block magic', [BLOCK], 3000],
    ['an end-of-stream magic', [EOS], 3000],
    ['both, several', [BLOCK, EOS, BLOCK], 2000],
    ['a block magic just before the real end of stream', [BLOCK], 5],
  ] as Array<[string, number[][], number]>)('false magics coded inside a block: %s', async (name, runs, filler) => {
    const rand = prng(runs.length * 7 + filler);
    const vector = vectorCoding(runs, filler, rand);
    const crafted = craftBlock(vector, Math.floor(rand() * vector.length), 9);
    expect(crafted.refused).toBe(false);
    // The search does meet them: more hits than the real block magic and end of stream.
    expect(findMagicsJs(crafted.file).length).toBe(2 + runs.length);
    const other = new Uint8Array(bzip2(Buffer.from('x,1\n'.repeat(2000))));
    expect(await readsAsBzip2(`false-${name}.bz2`, crafted.file)).toBe(1);
    expect(await readsAsBzip2(`false-between-${name}.bz2`, new Uint8Array(Buffer.concat([other, crafted.file, other])), 1)).toBe(3);
  });

  it('a block magic at every byte around the first 64 KiB piece boundary', async () => {
    const base = new Uint8Array(bzip2(makeText(300_000, 5), 1));
    const second = findMagicsJs(base).filter((h) => !h.eos)[1];
    expect(second.bit & 7).not.toBe(0);
    const at = second.bit >> 3;
    expect(at).toBeLessThan(65_530);
    // Whole streams of 14 (empty) and 37, 38, 40 bytes before the file, to move its magic by any number of bytes.
    const smalls = ['a', 'abc', 'abcd'].map((t) => new Uint8Array(bzip2(Buffer.from(t))));
    const empty = new Uint8Array(bzip2(Buffer.alloc(0)));
    const prefix = (d: number): Buffer => {
      for (let n = 0; n < 64; n++) {
        const used = [n & 3, (n >> 2) & 3, (n >> 4) & 3].flatMap((k, i) => Array<Uint8Array>(k).fill(smalls[i]));
        const length = used.reduce((x, u) => x + u.length, 0);
        if (length <= d && (d - length) % 14 === 0) return Buffer.concat([...used, ...Array<Uint8Array>((d - length) / 14).fill(empty)]);
      }
      throw new Error(`no prefix of ${d} bytes`);
    };
    for (let target = 65_529; target <= 65_536; target++) {
      const file = new Uint8Array(Buffer.concat([prefix(target - at), base]));
      expect(findMagicsJs(file).some((h) => h.bit === target * 8 + (second.bit & 7))).toBe(true);
      expect(await readsAsBzip2(`piece-${target}.bz2`, file)).toBeGreaterThan(2);
    }
  });

  it('streams of lbzip2 and pbzip2, with empty streams between them', async () => {
    const text = makeText(600_000, 9);
    const lbzip2 = run('lbzip2', ['-1', '-c', '-n', '2'], text);
    const pbzip2 = run('pbzip2', ['-1', '-b1', '-c', '-p2'], text);
    const empty = bzip2(Buffer.alloc(0));
    expect(await readsAsBzip2('lbzip2.bz2', lbzip2)).toBeGreaterThan(3);
    expect(await readsAsBzip2('pbzip2.bz2', pbzip2)).toBeGreaterThan(3);
    expect(await readsAsBzip2('mixed.bz2', new Uint8Array(Buffer.concat([empty, lbzip2, empty, empty, pbzip2, empty])), 1)).toBeGreaterThan(6);
  });
});
