/**
 * The fast xz block decoders (src/readers/xz/napi.ts): each backend, through the synthetic one-block
 * stream, must give the plain input's bytes (the truth: what the xz command compressed) and must itself
 * verify the block's check — a damaged CRC32 / CRC64 / SHA-256 check, damaged data, sizes that disagree
 * with the index, and truncation give typed errors, never bytes. Also inside a worker thread.
 */
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSeekdataError } from '../src/errors.js';
import { MemorySource } from '../src/sources/source.js';
import { checkSize, padded4, parseXzContainer, type XzBlockRecord } from '../src/readers/xz/container.js';
import { decodeXzBlockFast, loadFastXz, type XzBackend, type XzFastTask } from '../src/readers/xz/napi.js';
import { SYNTHETIC_MAX_BYTES, syntheticXzStream } from '../src/readers/xz/synthetic.js';
import { makeText, xz } from './support/fixtures.js';
import type { DecodersWorkerJob, DecodersWorkerReply } from './support/decoders-worker.js';

const plain = makeText(300_000, 11);

async function blocksOf(file: Uint8Array): Promise<XzBlockRecord[]> {
  return parseXzContainer(new MemorySource(file, 'blocks.xz'));
}

function taskFor(file: Uint8Array, b: XzBlockRecord, data = file.slice(b.offset, b.offset + padded4(b.unpaddedSize))): XzFastTask {
  return { ...b, data, file: 'blocks.xz' };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

let available: XzBackend[];
beforeAll(async () => {
  available = await loadFastXz();
});

describe.each(['none', 'crc32', 'crc64', 'sha256'])('check %s', (check) => {
  const file = new Uint8Array(xz(plain, `--check=${check}`, '--block-size=70000'));

  it('both fast backends load on this platform', () => {
    expect(available).toEqual(['node-liblzma', 'napi-rs']);
  });

  it.each([['node-liblzma'], ['napi-rs']] as const)('%s decodes every block byte-identical to the input', async (backend) => {
    const blocks = await blocksOf(file);
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    let at = 0;
    for (const b of blocks) {
      const r = decodeXzBlockFast(taskFor(file, b), [backend]);
      // @napi-rs/lzma has no SHA-256: those blocks must go to lzma-native, never unchecked.
      expect(r.decoder).toBe(backend === 'napi-rs' && check === 'sha256' ? 'lzma-native' : backend);
      expect(Buffer.from(r.bytes).equals(plain.subarray(at, at + b.uncompressedSize))).toBe(true);
      at += b.uncompressedSize;
    }
    expect(at).toBe(plain.length);
  });

  it.each([['node-liblzma'], ['napi-rs'], ['lzma-native']] as const)('%s rejects a damaged check, damaged data and a wrong index size', async (backend) => {
    const [, b] = await blocksOf(file);
    const stored = file.slice(b.offset, b.offset + padded4(b.unpaddedSize));
    const order: XzBackend[] = backend === 'lzma-native' ? [] : [backend];
    const cases: Array<[string, XzFastTask]> = [];
    if (checkSize(b.checkType) > 0) {
      // The last byte of the check: the data is intact, so only a decoder that checks notices.
      const badCheck = stored.slice();
      badCheck[b.unpaddedSize - 1] ^= 0x01;
      cases.push(['check', taskFor(file, b, badCheck)]);
    }
    const badData = stored.slice();
    badData[Math.floor(b.unpaddedSize / 2)] ^= 0x10;
    cases.push(['data', taskFor(file, b, badData)]);
    cases.push(['index size', { ...taskFor(file, b), uncompressedSize: b.uncompressedSize + 1 }]);
    for (const [what, t] of cases) {
      const err = thrown(() => decodeXzBlockFast(t, order));
      expect(isSeekdataError(err, 'CORRUPT_DATA') ? 'CORRUPT_DATA' : `accepted damaged ${what}`).toBe('CORRUPT_DATA');
      expect(String(err)).toContain(`blocks.xz: xz block at byte ${b.offset}`);
    }
  });
});

describe('the synthetic stream in the thread\'s scratch buffer', () => {
  it('equals a stream of its own, whatever was built before it; a stream over the cap gets its own array', async () => {
    const file = new Uint8Array(xz(plain, '--block-size=50000'));
    const blocks = await blocksOf(file);
    // Large, small, large again: a shorter stream must not carry the bytes of a longer one before it.
    for (const b of [blocks[0], blocks[blocks.length - 1], blocks[1], blocks[blocks.length - 1]]) {
      const stored = file.slice(b.offset, b.offset + padded4(b.unpaddedSize));
      const own = syntheticXzStream(stored, b);
      const scratch = syntheticXzStream(stored, b, true);
      expect(scratch.length).toBe(own.length);
      expect(Buffer.from(scratch).equals(Buffer.from(own))).toBe(true);
      expect(scratch.buffer).not.toBe(own.buffer);
    }
    const first = syntheticXzStream(file.slice(0, 16), blocks[0], true);
    expect(syntheticXzStream(file.slice(0, 16), blocks[0], true).buffer).toBe(first.buffer);
    const big = new Uint8Array(SYNTHETIC_MAX_BYTES + 1);
    expect(syntheticXzStream(big, blocks[0], true).buffer).not.toBe(first.buffer);
    expect(syntheticXzStream(file.slice(0, 16), blocks[0], true).buffer).toBe(first.buffer);
  });
});

describe('what a fast backend cannot decode goes to lzma-native', () => {
  it('a block with a BCJ filter (which lzma-rs lacks) decodes, verified', async () => {
    const file = new Uint8Array(xz(plain, '--x86', '--lzma2', '--block-size=100000'));
    let at = 0;
    for (const b of await blocksOf(file)) {
      const r = decodeXzBlockFast(taskFor(file, b), ['napi-rs']);
      // lzma-rs has no BCJ filter: it fails, and lzma-native decodes instead.
      expect(r.decoder).toBe('lzma-native');
      expect(Buffer.from(r.bytes).equals(plain.subarray(at, at + b.uncompressedSize))).toBe(true);
      at += b.uncompressedSize;
    }
  });

  it('a block cut short is TRUNCATED', async () => {
    const file = new Uint8Array(xz(plain, '--block-size=100000'));
    const [b] = await blocksOf(file);
    const err = thrown(() => decodeXzBlockFast(taskFor(file, b, file.slice(b.offset, b.offset + 100))));
    expect(isSeekdataError(err, 'TRUNCATED')).toBe(true);
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

  it('loads the native backends there and decodes with the fastest, rejecting a damaged check', async () => {
    const file = new Uint8Array(xz(plain, '--check=crc64', '--block-size=100000'));
    const [b] = await blocksOf(file);
    const ok = await ask({ kind: 'xz', task: taskFor(file, b) });
    expect(ok.ok && ok.decoder).toBe('node-liblzma');
    expect(ok.ok && Buffer.from(ok.bytes).equals(plain.subarray(0, b.uncompressedSize))).toBe(true);
    const bad = file.slice(b.offset, b.offset + padded4(b.unpaddedSize));
    bad[b.unpaddedSize - 1] ^= 0x01;
    const rejected = await ask({ kind: 'xz', task: taskFor(file, b, bad) });
    expect(rejected.ok ? 'decoded' : rejected.code).toBe('CORRUPT_DATA');
  });
});
