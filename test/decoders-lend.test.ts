/**
 * Lent decoded bytes (DecodeOutput.release): node-liblzma decodes xz blocks into the thread's scratch buffer,
 * libbzip2's output is copied there out of its heap, and, in a pool worker, for a job that keeps no bytes,
 * the buffer is lent to the job's step instead of copied into a new array. What must hold: a lent view is never handed
 * out past its release (the job copies what it keeps; a step reads in place and the buffer goes back when the
 * step has returned, failed or settled), a second block decoded while the scratch is lent gets an array of
 * its own, and a damaged block gives its typed error and gives the scratch back.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { isSeekdataError } from '../src/errors.js';
import { MemorySource } from '../src/sources/source.js';
import { padded4, parseXzContainer, type XzBlockRecord } from '../src/readers/xz/container.js';
import { decodeXzBlockFast, loadFastXz, type XzFastTask } from '../src/readers/xz/napi.js';
import { decodeAtCandidates, decodeBzip2BlockWasm, loadBzip2Wasm } from '../src/readers/bzip2/wasm.js';
import { runJobNow, type JobResult } from '../src/workers/jobs.js';
import { defineStep, registerDecoder } from '../src/workers/registry.js';
import { bzip2, makeText, xz } from './support/fixtures.js';

const plain = makeText(200_000, 5);
const file = new Uint8Array(xz(plain, '--check=crc64', '--block-size=50000'));
let blocks: XzBlockRecord[];
const task = (b: XzBlockRecord, data = file.slice(b.offset, b.offset + padded4(b.unpaddedSize))): XzFastTask => ({ ...b, data, file: 'lend.xz' });
const expected = (k: number): Buffer => plain.subarray(k * 50_000, (k + 1) * 50_000);

beforeAll(async () => {
  expect(await loadFastXz()).toContain('node-liblzma');
  blocks = await parseXzContainer(new MemorySource(file, 'lend.xz'));
  expect(blocks.length).toBe(4);
});

describe('node-liblzma into the scratch buffer', () => {
  it('lends the scratch when asked, and decodes into an array of its own while it is lent', () => {
    const first = decodeXzBlockFast(task(blocks[0]), ['node-liblzma'], true);
    expect(first.decoder).toBe('node-liblzma');
    expect(first.release).toBeTypeOf('function');
    expect(Buffer.from(first.bytes).equals(expected(0))).toBe(true);
    // Lent: the next block must not overwrite it.
    const second = decodeXzBlockFast(task(blocks[1]), ['node-liblzma'], true);
    expect(second.release).toBeUndefined();
    expect(second.bytes.byteOffset).toBe(0);
    expect(second.bytes.byteLength).toBe(second.bytes.buffer.byteLength);
    expect(Buffer.from(second.bytes).equals(expected(1))).toBe(true);
    expect(Buffer.from(first.bytes).equals(expected(0))).toBe(true);
    first.release?.();
    // A second call of a release must not free a later lending.
    const third = decodeXzBlockFast(task(blocks[2]), ['node-liblzma'], true);
    expect(third.release).toBeTypeOf('function');
    first.release?.();
    const fourth = decodeXzBlockFast(task(blocks[3]), ['node-liblzma'], true);
    expect(fourth.release).toBeUndefined();
    expect(Buffer.from(third.bytes).equals(expected(2))).toBe(true);
    expect(Buffer.from(fourth.bytes).equals(expected(3))).toBe(true);
    third.release?.();
  });

  it('without lending, bytes in an array of their own (the scratch reused, not handed out)', () => {
    const a = decodeXzBlockFast(task(blocks[0]), ['node-liblzma']);
    const b = decodeXzBlockFast(task(blocks[1]), ['node-liblzma']);
    expect(a.release).toBeUndefined();
    expect(a.bytes.buffer).not.toBe(b.bytes.buffer);
    expect(a.bytes.byteLength).toBe(a.bytes.buffer.byteLength);
    expect(Buffer.from(a.bytes).equals(expected(0))).toBe(true);
    expect(Buffer.from(b.bytes).equals(expected(1))).toBe(true);
  });

  it('a damaged block: the typed error (diagnosed by lzma-native), and the scratch given back', () => {
    const b = blocks[1];
    const data = file.slice(b.offset, b.offset + padded4(b.unpaddedSize));
    data[Math.floor(data.length / 2)] ^= 0x10;
    let error: unknown;
    try {
      decodeXzBlockFast(task(b, data), ['node-liblzma'], true);
    } catch (e) {
      error = e;
    }
    expect(isSeekdataError(error) && error.code).toBe('CORRUPT_DATA');
    const next = decodeXzBlockFast(task(blocks[0]), ['node-liblzma'], true);
    expect(next.release).toBeTypeOf('function');
    next.release?.();
  });
});

describe('a job with lent bytes', () => {
  const scratch = new Uint8Array(64);
  const log: string[] = [];
  // Lends whether asked or not (the job must cope either way); says whether it was asked.
  registerDecoder<{ fill: number }>('lend-test', ({ fill }, lend) => {
    log.push(lend === true ? 'decode, lend asked' : 'decode');
    scratch.fill(fill);
    return { bytes: scratch.subarray(0, 16), release: () => log.push('release') };
  });
  const sum = defineStep<null, number>('lend-test-sum', (bytes) => {
    log.push('step');
    return bytes.reduce((s, b) => s + b, 0);
  });
  const later = defineStep<null, Promise<number>>('lend-test-later', async (bytes) => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    log.push('step settled');
    return bytes[0];
  });
  const fails = defineStep<null, number>('lend-test-fails', () => {
    throw new Error('step failed');
  });
  const input = (fill: number) => ({ kind: 'decode' as const, format: 'lend-test', task: { fill } });

  it('kept bytes are a copy of their own, and the buffer goes back at once', () => {
    log.length = 0;
    const result = runJobNow({ input: input(3), step: sum.call(null) }) as JobResult;
    expect(log).toEqual(['decode', 'step', 'release']);
    scratch.fill(9);
    expect([...result.bytes]).toEqual(new Array(16).fill(3));
    expect(result.bytes.buffer).not.toBe(scratch.buffer);
    expect(result.step).toBe(48);
  });

  it('a step on bytes not kept reads them in place; they go back after it', () => {
    log.length = 0;
    const result = runJobNow({ input: input(2), step: sum.call(null), keepBytes: false }) as JobResult;
    expect(log).toEqual(['decode, lend asked', 'step', 'release']);
    expect(result.bytes.length).toBe(0);
    expect(result.length).toBe(16);
    expect(result.step).toBe(32);
  });

  it('an asynchronous step keeps them until it settles', async () => {
    log.length = 0;
    const running = runJobNow({ input: input(7), step: later.call(null), keepBytes: false });
    expect(running).toBeInstanceOf(Promise);
    expect(log).toEqual(['decode, lend asked']);
    const result = await running;
    expect(log).toEqual(['decode, lend asked', 'step settled', 'release']);
    expect(result.step).toBe(7);
  });

  it('a step that throws: the error, and the buffer given back', () => {
    log.length = 0;
    expect(() => runJobNow({ input: input(1), step: fails.call(null), keepBytes: false })).toThrow('step failed');
    expect(log).toEqual(['decode, lend asked', 'release']);
  });
});

describe('libbzip2 into the scratch buffer', () => {
  const text = makeText(250_000, 9);
  const data = new Uint8Array(bzip2(text, 1));
  const at = (bitOffset: number, extra = {}) => ({ data, bitOffset, level: 1, base: 0, atEnd: true, file: 'lend.bz2', ...extra });

  it('lends when asked, an array of its own while lent, and gives the scratch back after a candidate that fails', async () => {
    const bz2 = await loadBzip2Wasm();
    const first = decodeBzip2BlockWasm(bz2, at(32), true);
    expect(first.decoder).toBe('libbzip2');
    expect(first.release).toBeTypeOf('function');
    expect(Buffer.from(first.bytes).equals(text.subarray(0, first.bytes.length))).toBe(true);
    const second = decodeBzip2BlockWasm(bz2, at(first.endBit), true);
    expect(second.release).toBeUndefined();
    expect(second.bytes.byteLength).toBe(second.bytes.buffer.byteLength);
    expect(Buffer.from(second.bytes).equals(text.subarray(first.bytes.length, first.bytes.length + second.bytes.length))).toBe(true);
    expect(Buffer.from(first.bytes).equals(text.subarray(0, first.bytes.length))).toBe(true);
    first.release?.();
    // A length that disagrees with the block: no bytes, and the scratch not kept lent.
    expect(decodeAtCandidates(bz2, at(32, { expectedLength: first.bytes.length + 5 }), [first.endBit], true)).toBeUndefined();
    const again = decodeBzip2BlockWasm(bz2, at(32), true);
    expect(again.release).toBeTypeOf('function');
    again.release?.();
    // Not asked: bytes of their own, as before.
    const own = decodeBzip2BlockWasm(bz2, at(32));
    expect(own.release).toBeUndefined();
    expect(Buffer.from(own.bytes).equals(text.subarray(0, own.bytes.length))).toBe(true);
  });
});
