/**
 * Column statistics equal a direct computation over the original values; the record index round-trips
 * through its file and detects stale data and changed options.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { closeSharedPool, openIndexed } from '../src/index.js';
import { bzip2, prng, tempDir, writeFixture, xz } from './support/fixtures.js';

const tmp = tempDir();
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

function direct(values: Array<number | null | string>): { count: number; missing: number; nonNumeric: number; min: number; max: number; mean: number; std: number } {
  const nums = values.filter((v): v is number => typeof v === 'number');
  // Two passes over values shifted by the first one, so a large mean does not swallow a small spread.
  const shift = nums[0];
  const shiftedMean = nums.reduce((a, b) => a + (b - shift), 0) / nums.length;
  const mean = shift + shiftedMean;
  const variance = nums.reduce((a, b) => a + (b - shift - shiftedMean) ** 2, 0) / nums.length;
  return {
    count: nums.length,
    missing: values.filter((v) => v === null).length,
    nonNumeric: values.filter((v) => typeof v === 'string').length,
    min: Math.min(...nums),
    max: Math.max(...nums),
    mean,
    std: Math.sqrt(variance),
  };
}

describe('column statistics', () => {
  it('equal a direct computation for CSV (bz2, xz, plain)', async () => {
    const rand = prng(42);
    const n = 60_000;
    const a: Array<number | null> = [];
    const b: Array<number | null | string> = [];
    const c: number[] = [];
    const lines = ['a,b,c,label'];
    for (let i = 0; i < n; i++) {
      const va = rand() < 0.05 ? null : Math.round((rand() - 0.5) * 2e6) / 1000;
      const vb = rand() < 0.02 ? 'oops' : rand() < 0.02 ? null : 1e10 + rand() * 1e-3;
      const vc = (rand() - 0.5) * 1e-5;
      a.push(va);
      b.push(vb);
      c.push(Number(vc.toExponential(6)));
      const bText = vb === null ? (i % 2 === 0 ? 'NA' : '') : typeof vb === 'string' ? vb : String(vb);
      lines.push(`${va === null ? '' : String(va)},${bText},${vc.toExponential(6)},"x${i % 3}"`);
    }
    const content = Buffer.from(lines.join('\n') + '\n');
    for (const [name, bytes] of [
      ['s.csv.bz2', bzip2(content, 1)],
      ['s.csv.xz', xz(content, '--block-size=40KiB')],
      ['s.csv', content],
    ] as const) {
      const file = await openIndexed(writeFixture(tmp.dir, name, bytes), { records: 'csv', index: false });
      const byName = Object.fromEntries(file.stats.map((s) => [s.name, s]));
      for (const [column, values] of [
        ['a', a],
        ['b', b],
        ['c', c],
      ] as const) {
        const want = direct(values);
        const got = byName[column];
        expect(got.count, `${name} ${column}`).toBe(want.count);
        expect(got.missing, `${name} ${column}`).toBe(want.missing);
        expect(got.nonNumeric, `${name} ${column}`).toBe(want.nonNumeric);
        // Numeric: at least half of the present values are numbers (README, "What a CSV value is").
        expect(got.numeric, `${name} ${column}`).toBe(want.count > 0 && want.nonNumeric <= want.count);
        expect(got.min).toBe(want.min);
        expect(got.max).toBe(want.max);
        expect(got.mean ?? NaN).toBeCloseTo(want.mean, 12 - Math.ceil(Math.log10(Math.abs(want.mean) + 1)));
        expect(Math.abs((got.std ?? NaN) - want.std) / want.std, `${name} ${column} std ${got.std} vs ${want.std}`).toBeLessThan(1e-9);
      }
      expect(byName.label.numeric).toBe(false);
      expect(byName.label.nonNumeric).toBe(n);
      await file.close();
    }
  });

  it('equal a direct computation for JSONL, with nested fields', async () => {
    const rand = prng(7);
    const xs: Array<number | null> = [];
    const lines: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const x = rand() < 0.1 ? null : rand() * 100 - 50;
      xs.push(x);
      lines.push(JSON.stringify({ x, deep: { y: i }, s: 'text' }));
    }
    const file = await openIndexed(writeFixture(tmp.dir, 's.jsonl.bz2', bzip2(Buffer.from(lines.join('\n')), 1)), { records: 'jsonl', index: false });
    const byName = Object.fromEntries(file.stats.map((s) => [s.name, s]));
    const want = direct(xs);
    expect(byName.x).toMatchObject({ count: want.count, missing: want.missing, min: want.min, max: want.max, numeric: true });
    expect(byName.x.mean ?? NaN).toBeCloseTo(want.mean, 9);
    expect(byName['deep.y']).toMatchObject({ count: 20_000, min: 0, max: 19_999, numeric: true });
    expect(byName.s).toMatchObject({ numeric: false, nonNumeric: 20_000 });
    await file.close();
  });
});

describe('statistics of chosen columns', () => {
  it('only the listed columns are computed, and they equal a direct computation; a changed list rebuilds', async () => {
    const rand = prng(9);
    const a: number[] = [];
    const lines = ['a,b,c'];
    for (let i = 0; i < 30_000; i++) {
      const v = Math.round(rand() * 1e6) / 100;
      a.push(v);
      lines.push(`${v},${i},text${i % 5}`);
    }
    const path = writeFixture(tmp.dir, 'subset.csv.bz2', bzip2(Buffer.from(lines.join('\n') + '\n'), 1));
    const file = await openIndexed(path, { records: 'csv', stats: ['a', 'c'] });
    expect(file.stats.map((s) => s.name)).toEqual(['a', 'c']);
    const want = direct(a);
    expect(file.stats[0]).toMatchObject({ count: want.count, min: want.min, max: want.max, numeric: true });
    expect(file.stats[1].categories?.map((c) => c.value)).toEqual(['text0', 'text1', 'text2', 'text3', 'text4']);
    await file.close();
    await expect(openIndexed(path, { records: 'csv', stats: ['a'], ifStale: 'error' })).rejects.toMatchObject({ code: 'INDEX_MISMATCH' });
    await expect(openIndexed(path, { records: 'csv', stats: ['nope'], index: false })).rejects.toThrow(/options.stats must be columns of/);
  });
});

describe('record index file', () => {
  it('round-trips, detects stale data, and detects changed options', async () => {
    const lines = ['t,v', ...Array.from({ length: 5000 }, (_, i) => `${new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString()},${i}`)];
    const path = writeFixture(tmp.dir, 'opts.csv.bz2', bzip2(Buffer.from(lines.join('\n') + '\n'), 1));
    const built = await openIndexed(path, { records: 'csv', timeColumn: 't' });
    expect(built.report.status).toBe('built');
    const loaded = await openIndexed(path, { records: 'csv', timeColumn: 't', ifStale: 'error' });
    expect(loaded.report.status).toBe('loaded');
    expect(Array.from(loaded.records.offsets)).toEqual(Array.from(built.records.offsets));
    expect(Array.from(loaded.records.firstRecord)).toEqual(Array.from(built.records.firstRecord));
    expect(Array.from(loaded.time?.times ?? [])).toEqual(Array.from(built.time?.times ?? []));
    expect(loaded.stats).toEqual(built.stats);
    await built.close();
    await loaded.close();
    // Other options: a mismatch, refused or rebuilt.
    await expect(openIndexed(path, { records: 'csv', timeColumn: 'v', ifStale: 'error' })).rejects.toMatchObject({ code: 'INDEX_MISMATCH' });
    await expect(openIndexed(path, { records: 'lines', ifStale: 'error' })).rejects.toMatchObject({ code: 'INDEX_MISMATCH' });
    const other = await openIndexed(path, { records: 'csv', timeColumn: 'v', timeFormat: 's' });
    expect(other.report.status).toBe('rebuilt');
    expect(other.report.time?.format).toBe('s');
    await other.close();
    // New data: stale.
    writeFileSync(path, bzip2(Buffer.from(lines.slice(0, 100).join('\n') + '\n'), 1));
    await expect(openIndexed(path, { records: 'csv', timeColumn: 'v', timeFormat: 's', ifStale: 'error' })).rejects.toMatchObject({ code: 'STALE_INDEX' });
    const fresh = await openIndexed(path, { records: 'csv', timeColumn: 'v', timeFormat: 's' });
    expect(fresh.records.count).toBe(99);
    await fresh.close();
  });

  it('an index without records (openReader) is extended by openIndexed, keeping the chunk map', async () => {
    const { openReader } = await import('../src/index.js');
    const path = writeFixture(tmp.dir, 'plainmap.txt.bz2', bzip2(Buffer.from('a\nb\nc\n'), 1));
    await (await openReader(path)).close();
    const file = await openIndexed(path, { records: 'lines' });
    expect(file.records.count).toBe(3);
    await file.close();
    const again = await openIndexed(path, { records: 'lines', ifStale: 'error' });
    expect(again.report.status).toBe('loaded');
    const reader = await openReader(path, { ifStale: 'error' });
    expect(reader.indexStatus).toBe('loaded');
    await reader.close();
    await again.close();
  });
});
