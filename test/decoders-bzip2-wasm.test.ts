/**
 * The WASM libbzip2 block decoder (src/readers/bzip2/wasm.ts): blocks decoded through one-block synthetic
 * streams must equal the plain input (the truth: what the bzip2 command compressed), end where the next
 * magic starts, and be verified — damage, truncation and a chunk map that does not match must give typed
 * errors, never bytes. Also inside a worker thread.
 */
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSeekdataError } from '../src/errors.js';
import { decodeBlock } from '../src/readers/bzip2/decoder.js';
import type { Bzip2BlockTask } from '../src/readers/bzip2/block.js';
import { decodeAtCandidates, decodeBzip2BlockWasm, loadBzip2Wasm, type Bzip2Wasm, type Bzip2WasmResult } from '../src/readers/bzip2/wasm.js';
import { bzip2, makeText } from './support/fixtures.js';
import type { DecodersWorkerJob, DecodersWorkerReply } from './support/decoders-worker.js';

const EOS = 0x177245385090;

function bitsAt(data: Uint8Array, bit: number, count: number): number {
  let v = 0;
  for (let i = 0; i < count; i++) v = v * 2 + ((data[(bit + i) >> 3] >> (7 - ((bit + i) & 7))) & 1);
  return v;
}

function task(data: Uint8Array, bitOffset: number, extra: Partial<Bzip2BlockTask> = {}): Bzip2BlockTask {
  return { data, bitOffset, level: 9, base: 0, atEnd: true, file: 'blocks.bz2', ...extra };
}

/** Walks a one-stream file block by block with the WASM decoder finding each end itself. */
function walk(bz2: Bzip2Wasm, file: Uint8Array): Bzip2WasmResult[] {
  const out: Bzip2WasmResult[] = [];
  let bit = 32;
  while (bitsAt(file, bit, 48) !== EOS) {
    const r = decodeBzip2BlockWasm(bz2, task(file, bit));
    out.push(r);
    bit = r.endBit;
  }
  return out;
}

let bz2: Bzip2Wasm;
beforeAll(async () => {
  bz2 = await loadBzip2Wasm();
});

describe('decodeBzip2BlockWasm', () => {
  const plain = makeText(450_000, 7);
  const file = new Uint8Array(bzip2(plain, 1));

  it('decodes every block of a file, finding where each ends, byte-identical to the input', () => {
    const blocks = walk(bz2, file);
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    // Every block through libbzip2, not the JS fallback; blocks start at several bit shifts.
    expect(blocks.every((b) => b.decoder === 'libbzip2')).toBe(true);
    expect(new Set(blocks.map((_, i) => (i === 0 ? 32 : blocks[i - 1].endBit) & 7)).size).toBeGreaterThan(1);
    expect(Buffer.concat(blocks.map((b) => b.bytes)).equals(plain)).toBe(true);
    // The same ends and CRCs as the JS decoder.
    let bit = 32;
    for (const b of blocks) {
      const js = decodeBlock(file, bit, 1);
      expect([b.endBit, b.crc]).toEqual([js.endBit, js.crc]);
      bit = b.endBit;
    }
  });

  it('decodes with the chunk map known (end, CRC, length), from a slice at the block\'s first byte', () => {
    const blocks = walk(bz2, file);
    let bit = 32;
    let at = 0;
    for (const b of blocks) {
      const first = bit >> 3;
      const slice = file.slice(first, Math.ceil(b.endBit / 8));
      const r = decodeBzip2BlockWasm(bz2, task(slice, bit - first * 8, { base: first, endBit: b.endBit - first * 8, expectedCrc: b.crc, expectedLength: b.bytes.length }));
      expect(r.decoder).toBe('libbzip2');
      expect(Buffer.from(r.bytes).equals(plain.subarray(at, at + b.bytes.length))).toBe(true);
      at += b.bytes.length;
      bit = b.endBit;
    }
  });

  it('skips a candidate end that is not the block\'s end (a false magic inside the block)', () => {
    const [b] = walk(bz2, file);
    const r = decodeAtCandidates(bz2, task(file, 32), [b.endBit - 1000, b.endBit - 1, b.endBit]);
    expect(r?.endBit).toBe(b.endBit);
    expect(decodeAtCandidates(bz2, task(file, 32), [b.endBit - 1000, b.endBit + 8])).toBeUndefined();
  });

  it('grows the output bound for a block that expands far past its level (long runs)', () => {
    const runs = Buffer.alloc(3_000_000, 0x61);
    const f = new Uint8Array(bzip2(runs, 1));
    const blocks = walk(bz2, f);
    expect(blocks.every((b) => b.decoder === 'libbzip2')).toBe(true);
    expect(Buffer.concat(blocks.map((b) => b.bytes)).equals(runs)).toBe(true);
    expect(Math.max(...blocks.map((b) => b.bytes.length))).toBeGreaterThan(1_250_000);
  });

  it('rejects a damaged block with CORRUPT_DATA naming the file and the block\'s byte', () => {
    const [b0, b1] = walk(bz2, file);
    const damaged = file.slice();
    const mid = (b0.endBit + b1.endBit) >> 4;
    damaged[mid] ^= 0x08;
    const err = (() => {
      try {
        decodeBzip2BlockWasm(bz2, task(damaged, b0.endBit, { endBit: b1.endBit, expectedCrc: b1.crc }));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(isSeekdataError(err, 'CORRUPT_DATA')).toBe(true);
    expect(String(err)).toContain('blocks.bz2');
    expect(String(err)).toContain(`byte ${b0.endBit >> 3}`);
  });

  it('reports a block cut off by the end of the file as TRUNCATED', () => {
    const [b0] = walk(bz2, file);
    const cut = file.slice(0, (b0.endBit >> 3) - 1000);
    expect(() => decodeBzip2BlockWasm(bz2, task(cut, 32))).toThrow(expect.objectContaining({ code: 'TRUNCATED' }));
  });

  it('hands an intact block that is not the one the chunk map describes to the JS decoder, whose result the check rejects', () => {
    const [b0] = walk(bz2, file);
    for (const wrong of [{ expectedCrc: (b0.crc ^ 1) >>> 0 }, { expectedLength: b0.bytes.length - 1 }, { endBit: b0.endBit + 8 }]) {
      const r = decodeBzip2BlockWasm(bz2, task(file, 32, { endBit: b0.endBit, ...wrong }));
      // libbzip2 refused it; the JS decoder decoded the block as it is (CRC verified): what the chunk map
      // says is wrong, which the format's check reports (test/decoders-integrated.test.ts), as before.
      expect([r.decoder, r.endBit, r.crc, r.bytes.length]).toEqual(['js', b0.endBit, b0.crc, b0.bytes.length]);
    }
  });
});

describe('in a worker thread', () => {
  let worker: Worker;
  beforeAll(() => {
    const entry = new URL('./support/decoders-worker.ts', import.meta.url).href;
    worker = new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`, { eval: true });
  });
  afterAll(async () => {
    await worker.terminate();
  });
  const ask = (job: DecodersWorkerJob): Promise<DecodersWorkerReply> =>
    new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.postMessage(job);
    });

  it('compiles libbzip2 and decodes blocks there, rejecting damage', async () => {
    const plain = makeText(250_000, 3);
    const file = new Uint8Array(bzip2(plain, 1));
    const first = await ask({ kind: 'bzip2', task: task(file, 32) });
    expect(first.ok && first.decoder).toBe('libbzip2');
    expect(first.ok && Buffer.from(first.bytes).equals(plain.subarray(0, first.bytes.length))).toBe(true);
    const damaged = file.slice();
    damaged[5000] ^= 0x40;
    const bad = await ask({ kind: 'bzip2', task: task(damaged, 32) });
    expect(bad.ok ? 'decoded' : bad.code).toBe('CORRUPT_DATA');
  });
});
