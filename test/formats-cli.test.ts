/**
 * The seekdata command on gzip and zstd files: index / info (--json) / cat / read / records / range /
 * sample, against the bytes and rows the test generated; info says the kind of file, its units or
 * checkpoints, the cost of a random read and what is verified; --gzip-spacing-mb sets the spacing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeSharedPool } from '../src/index.js';
import { cli } from './support/cli.js';
import { makeText, tempDir, writeFixture } from './support/fixtures.js';
import { bgzip, gzip } from './support/gzip-fixtures.js';
import { pzstd, zstdFile } from './support/zstd.js';

const tmp = tempDir('seekdata-formats-cli-');
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

const text = makeText(500_000, 17);
const rows = Array.from({ length: 4000 }, (_, i) => `${new Date(Date.UTC(2024, 2, 3, 9) + i * 1000).toISOString()},${i},${(i % 7) * 1.5}`);
const csv = Buffer.from(['time,id,price', ...rows].join('\n') + '\n');

const files: Array<[string, Buffer, string, RegExp]> = [
  ['single.csv.gz', gzip(text, '-6'), 'single-member', /checkpoint/],
  ['bgzf.csv.gz', bgzip(text), 'bgzf', /run of whole members/],
  ['frames.csv.zst', Buffer.concat([zstdFile(text.subarray(0, 200_000)), zstdFile(text.subarray(200_000))]), 'multi-frame', /2 frames/],
  ['one.csv.zst', zstdFile(text, '-19'), 'one frame', /costs decoding from the start of the frame/],
  ['pzstd.csv.zst', pzstd(text), 'one frame', /frame/],
];

describe.each(files)('%s', (name, bytes, kind, cost) => {
  const path = writeFixture(tmp.dir, name, bytes);

  it('index, info (--json), cat with and without an index, read', async () => {
    const fresh = writeFixture(tmp.dir, `cat-${name}`, bytes);
    // Without an index (a scan hands out only verified bytes; the rest is read through the chunk map).
    const catNoIndex = await cli('cat', fresh, '--no-index', '--gzip-spacing-mb', '0.0625');
    expect(catNoIndex.code, catNoIndex.stderr).toBe(0);
    expect(catNoIndex.stdout.equals(text)).toBe(true);
    const built = await cli('index', path, '--json', '--gzip-spacing-mb', '0.0625');
    expect(built.code, built.stderr).toBe(0);
    expect(JSON.parse(built.stdout.toString())).toMatchObject({ size: text.length, index: { status: 'built' } });
    const info = JSON.parse((await cli('info', path, '--json')).stdout.toString()) as { format: string; units: number; fresh: boolean; details: { kind: string; randomRead: string; verified: string; facts: Record<string, unknown> } };
    expect(info.format).toBe(name.endsWith('.gz') ? 'gzip' : 'zstd');
    expect(info.fresh).toBe(true);
    expect(info.details.kind).toBe(kind);
    expect(info.details.randomRead).toMatch(cost);
    expect(info.details.verified).toMatch(/CRC-32|checksum/);
    if (kind === 'single-member') {
      expect(info.units).toBeGreaterThan(2);
      expect(info.details.facts.checkpoints).toBe(info.units - 1);
    }
    const human = (await cli('info', path)).stdout.toString();
    expect(human).toMatch(new RegExp(`kind\\s+${kind}`));
    expect(human).toMatch(/verified\s+/);
    expect((await cli('cat', path)).stdout.equals(text)).toBe(true);
    const read = await cli('read', path, '--offset', '123456', '--length', '7890');
    expect(read.stdout.equals(text.subarray(123_456, 123_456 + 7890))).toBe(true);
  });
});

describe.each([
  ['ticks.csv.gz', gzip(csv)],
  ['ticks.csv.zst', pzstd(csv)],
])('%s: records, range and sample', (name, bytes) => {
  it('index --records builds the record and time index; records, range and sample use it', async () => {
    const path = writeFixture(tmp.dir, name, bytes);
    const built = await cli('index', path, '--records', 'csv', '--time-column', 'time', '--gzip-spacing-mb', '0.0625');
    expect(built.code, built.stderr).toBe(0);
    expect(built.stdout.toString()).toMatch(/4000 records \(csv\)/);
    expect((await cli('records', path, '--from', '10', '--count', '3')).stdout.toString()).toBe(rows.slice(10, 13).join('\n') + '\n');
    expect((await cli('records', path, '--from', '3998', '--count', '5')).stdout.toString()).toBe(rows.slice(3998).join('\n') + '\n');
    const range = await cli('range', path, '--from', '2024-03-03T09:30:00', '--to', '2024-03-03T09:30:05');
    expect(range.stdout.toString()).toBe(rows.slice(1800, 1805).join('\n') + '\n');
    const shards: number[][] = [];
    for (const rank of [0, 1]) {
      const out = await cli('sample', path, '-b', '100', '--shuffle', 'exact', '--rank', String(rank), '--world-size', '2', '--indices');
      shards.push(out.stdout.toString().trim().split(/\s+/).map(Number));
    }
    expect([...shards[0], ...shards[1]].sort((x, y) => x - y)).toEqual(Array.from({ length: 4000 }, (_, i) => i));
  });
});

it('--gzip-spacing-mb is checked', async () => {
  const path = writeFixture(tmp.dir, 'x.gz', gzip(text));
  for (const bad of ['0', '-1', 'abc', '0.01', '5000']) {
    const out = await cli('info', path, '--no-index', `--gzip-spacing-mb=${bad}`);
    expect(out.code, bad).toBe(2);
    expect(out.stderr).toMatch(/--gzip-spacing-mb must be a number of MiB from 0.0625 to 4096/);
  }
});
