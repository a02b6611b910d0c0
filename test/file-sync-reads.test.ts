/**
 * Local reads of up to `syncReadBytes` (default 4 MiB) are synchronous: their bytes are there without a turn
 * of the event loop, so a thread that never turns it (training between batches) still gets the next chunk's
 * compressed bytes at once and its decode starts in a worker. Larger reads, and every read with
 * `syncReadBytes: 0`, go through libuv's thread pool. Both paths give the same bytes and the same typed errors.
 */
import { openSync, closeSync, ftruncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeSharedPool, isSeekdataError, openReader } from '../src/index.js';
import { FileSource, SYNC_READ_BYTES } from '../src/sources/file-source.js';
import { makeText, tempDir, xz } from './support/fixtures.js';

const tmp = tempDir();
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

const bytes = makeText(300_000, 7);
const path = join(tmp.dir, 'plain.txt');
writeFileSync(path, bytes);

/** Whether `read` needed a turn of the event loop to complete (a setImmediate callback ran before it resolved). */
async function neededATurn(read: () => Promise<Uint8Array>, expected: Uint8Array): Promise<boolean> {
  let turned = false;
  const immediate = setImmediate(() => {
    turned = true;
  });
  const got = await read();
  clearImmediate(immediate);
  expect(Buffer.from(got).equals(expected)).toBe(true);
  return turned;
}

describe('synchronous local reads', () => {
  it('a read within syncReadBytes completes without an event-loop turn; a larger one, and any with syncReadBytes: 0, needs one', async () => {
    const source = await FileSource.open(path, { syncReadBytes: 100_000 });
    expect(await neededATurn(() => source.read(1000, 50_000), bytes.subarray(1000, 51_000))).toBe(false);
    expect(await neededATurn(() => source.read(0, 200_000), bytes.subarray(0, 200_000))).toBe(true);
    await source.close();
    const async = await FileSource.open(path, { syncReadBytes: 0 });
    expect(await neededATurn(() => async.read(1000, 50_000), bytes.subarray(1000, 51_000))).toBe(true);
    await async.close();
    const byDefault = await FileSource.open(path);
    expect(SYNC_READ_BYTES).toBe(4 << 20);
    expect(await neededATurn(() => byDefault.read(0, bytes.length), bytes)).toBe(false);
    await byDefault.close();
  });

  it('the same typed errors on both paths: a file that shrank is TRUNCATED at its new end, a closed source CLOSED', async () => {
    for (const syncReadBytes of [SYNC_READ_BYTES, 0]) {
      const file = join(tmp.dir, `shrinks-${syncReadBytes}.txt`);
      writeFileSync(file, bytes);
      const source = await FileSource.open(file, { syncReadBytes });
      const fd = openSync(file, 'r+');
      ftruncateSync(fd, 100_000);
      closeSync(fd);
      const error = await source.read(90_000, 20_000).catch((e: unknown) => e);
      expect(isSeekdataError(error, 'TRUNCATED'), String(error)).toBe(true);
      expect(String(error)).toContain(`${file}: file ended at offset 100000`);
      await source.close();
      const closed = await source.read(0, 10).catch((e: unknown) => e);
      expect(isSeekdataError(closed, 'CLOSED')).toBe(true);
    }
  });

  it('syncReadBytes is validated where it is given (openReader, FileSource.open)', async () => {
    for (const bad of [-1, 1.5, Number.NaN, '4']) {
      const error = await openReader(path, { syncReadBytes: bad as number }).catch((e: unknown) => e);
      expect(isSeekdataError(error, 'INVALID_OPTION'), String(error)).toBe(true);
      expect(String(error)).toContain('syncReadBytes');
    }
  });

  it('an xz file read through openReader gives the same bytes with synchronous and asynchronous reads', async () => {
    const text = makeText(2_000_000, 3);
    const file = join(tmp.dir, 'd.xz');
    writeFileSync(file, xz(text, '--block-size=200000'));
    for (const syncReadBytes of [SYNC_READ_BYTES, 0]) {
      const reader = await openReader(file, { syncReadBytes, index: false, parallelism: 2 });
      expect(Buffer.from(await reader.read(0, text.length)).equals(text)).toBe(true);
      expect(Buffer.from(await reader.read(777_777, 1000)).equals(text.subarray(777_777, 778_777))).toBe(true);
      await reader.close();
    }
  });
});
