/**
 * Defects the fuzz harness found (npm run fuzz), each pinned against the reference tool's verdict:
 * - two bzip2 blocks swapped: each passes its block CRC, only the stream CRC fails; `allowDamage` exposed
 *   the reordered blocks as the "intact part" (reads returned bytes in the wrong order);
 * - "B", "BZ" or "BZh" after the last bzip2 stream (a next stream's header cut short): bzip2 rejects it,
 *   seekdata ignored it as trailing garbage.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { swapRanges } from '../fuzz/mutate.js';
import { closeSharedPool, openReader } from '../src/index.js';
import { bzip2, makeText, tempDir, writeFixture } from './support/fixtures.js';

const tmp = tempDir('seekdata-findings-');
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

const first = makeText(250_000, 21);
const second = makeText(60_000, 22);
const one = bzip2(first, 1);

function referenceAccepts(path: string): boolean {
  return spawnSync('bzip2', ['-dc', path], { maxBuffer: 1 << 30 }).status === 0;
}

async function swappedBlocks(bytes: Buffer): Promise<Buffer> {
  const reader = await openReader(bytes, { index: false, parallelism: 1 });
  const { cStart, cEnd } = reader.units;
  await reader.close();
  return swapRanges(bytes, [cStart[0], cEnd[0]], [cStart[1], cEnd[1]]);
}

describe('bzip2 blocks swapped (each block CRC passes, the stream CRC fails)', () => {
  it('open rejects; allowDamage leaves the whole stream out instead of reading its blocks out of order', async () => {
    const path = writeFixture(tmp.dir, 'swapped.bz2', await swappedBlocks(one));
    expect(referenceAccepts(path)).toBe(false);
    await expect(openReader(path, { index: false })).rejects.toMatchObject({ code: 'CORRUPT_DATA', message: expect.stringContaining('stream CRC') });
    const reader = await openReader(path, { index: false, allowDamage: true });
    expect(reader.damage?.code).toBe('CORRUPT_DATA');
    expect(reader.size).toBe(0);
    await expect(reader.read(0, 100)).rejects.toMatchObject({ code: 'CORRUPT_DATA' });
    await reader.close();
  });

  it('in the second stream: the first stream stays readable, the second is left out', async () => {
    const path = writeFixture(tmp.dir, 'swapped-second.bz2', Buffer.concat([bzip2(second, 1), await swappedBlocks(one)]));
    expect(referenceAccepts(path)).toBe(false);
    const reader = await openReader(path, { index: false, allowDamage: true });
    expect(reader.size).toBe(second.length);
    expect(Buffer.from(await reader.read(0, second.length)).equals(second)).toBe(true);
    await expect(reader.read(second.length, 10)).rejects.toMatchObject({ code: 'CORRUPT_DATA' });
    await reader.close();
  });
});

describe('bytes after the last bzip2 stream', () => {
  it.each(['B', 'BZ', 'BZh'])('%j (a next stream header cut short) is TRUNCATED, as bzip2 says', async (tail) => {
    const path = writeFixture(tmp.dir, `tail-${tail}.bz2`, Buffer.concat([one, Buffer.from(tail)]));
    expect(referenceAccepts(path)).toBe(false);
    const error = await openReader(path, { index: false }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'TRUNCATED', message: expect.stringContaining(path) });
  });

  it.each(['Bx', 'BZh0', 'xyz', '\0'])('%j is trailing garbage, ignored with a warning, as bzip2 does', async (tail) => {
    const path = writeFixture(tmp.dir, `garbage-${tail.charCodeAt(1) || 0}-${tail.length}.bz2`, Buffer.concat([one, Buffer.from(tail)]));
    expect(referenceAccepts(path)).toBe(true);
    const warnings: string[] = [];
    const reader = await openReader(path, { index: false, onWarning: (w) => warnings.push(w) });
    expect(Buffer.from(await reader.read(0, reader.size)).equals(first)).toBe(true);
    expect(warnings.join()).toMatch(/trailing garbage/);
    await reader.close();
  });
});
