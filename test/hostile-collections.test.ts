/**
 * Hostile collections: one file named twice through a symlink or hard link, dotfiles and dangling links in
 * globs and directories, and a stray file under onBadFile 'skip' that must not define the schema. The truth
 * is the rows written (plain CSV: `time,x,label` with x the global record number).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeSharedPool, csvDataset, openCollection } from '../src/index.js';
import { tempDir } from './support/fixtures.js';

const tmp = tempDir('seekdata-hostile-collections-');
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

function shard(k: number, n: number): string {
  const lines = ['time,x,label'];
  for (let i = 0; i < n; i++) lines.push(`${1_700_000_000 + k * n + i},${k * n + i},${i % 2}`);
  return lines.join('\n') + '\n';
}

function dirWith(name: string, files: Record<string, string>): string {
  const dir = join(tmp.dir, name);
  mkdirSync(dir);
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
}

const base = { records: 'csv' as const, index: false as const };

describe('a file named twice through a link', () => {
  it('a symlink to a member, in a glob, is refused as named twice', async () => {
    const dir = dirWith('sym', { 'part-0.csv': shard(0, 50), 'part-1.csv': shard(1, 50) });
    symlinkSync('part-0.csv', join(dir, 'part-9.csv'));
    await expect(openCollection(join(dir, '*'), base)).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringMatching(/part-9\.csv is named twice.*same file as .*part-0\.csv/) });
    await expect(openCollection(dir, base)).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining('named twice') });
  });

  it('a hard link, in a list, is refused as named twice', async () => {
    const dir = dirWith('hard', { 'a.csv': shard(0, 20) });
    linkSync(join(dir, 'a.csv'), join(dir, 'b.csv'));
    await expect(openCollection([join(dir, 'a.csv'), join(dir, 'b.csv')], base)).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining('b.csv is named twice') });
  });

  it('globs skip dotfiles unless the pattern spells the dot', async () => {
    const dir = dirWith('dot', { 'part-0.csv': shard(0, 30), 'part-1.csv': shard(1, 30), '.part-1.csv.bak': shard(1, 30) });
    const c = await openCollection(join(dir, '*'), base);
    expect(c.report.files).toBe(2);
    expect(c.report.records).toBe(60);
    await c.close();
    const d = await openCollection(join(dir, '.*'), base);
    expect(d.report.files).toBe(1);
    await d.close();
  });

  it('a dangling symlink in a glob or directory is reported, or skipped with a warning', async () => {
    const dir = dirWith('dangling', { 'part-0.csv': shard(0, 30) });
    symlinkSync('gone.csv', join(dir, 'part-1.csv'));
    await expect(openCollection(join(dir, '*.csv'), base)).rejects.toMatchObject({ message: expect.stringContaining('part-1.csv') });
    await expect(openCollection(dir, base)).rejects.toMatchObject({ message: expect.stringContaining('part-1.csv') });
    const warnings: string[] = [];
    const c = await openCollection(join(dir, '*.csv'), { ...base, onBadFile: 'skip', onWarning: (w) => warnings.push(w) });
    expect(c.report.records).toBe(30);
    expect(c.report.skipped.map((s) => s.file)).toEqual([join(dir, 'part-1.csv')]);
    expect(warnings.join('\n')).toContain('part-1.csv');
    await c.close();
  });
});

describe('onBadFile skip: the schema most files share', () => {
  it('a stray first file is the skipped one, not every real shard', async () => {
    const dir = dirWith('stray', { '0-notes.csv': 'id,comment\n1,hello\n', 'part-0.csv': shard(0, 40), 'part-1.csv': shard(1, 40), 'part-2.csv': shard(2, 40) });
    const c = await openCollection(dir, { ...base, onBadFile: 'skip' });
    expect(c.report.files).toBe(3);
    expect(c.report.records).toBe(120);
    expect(c.columns).toEqual(['time', 'x', 'label']);
    expect(c.report.skipped.map((s) => s.file)).toEqual([join(dir, '0-notes.csv')]);
    await c.close();
    await expect(openCollection(dir, base)).rejects.toMatchObject({ code: 'INDEX_MISMATCH', message: expect.stringMatching(/0-notes\.csv: cannot join/) });
  });

  it('a tie keeps the first file in order', async () => {
    const dir = dirWith('tie', { 'a.csv': 'id,comment\n1,hello\n', 'b.csv': shard(0, 10) });
    const c = await openCollection(dir, { ...base, onBadFile: 'skip' });
    expect(c.columns).toEqual(['id', 'comment']);
    expect(c.report.skipped.map((s) => s.file)).toEqual([join(dir, 'b.csv')]);
    await c.close();
  });
});

describe('errors and warnings name the member file and its own record number', () => {
  // part-1's record 99 (collection record 599, line 101 of part-1) has text in x.
  const dir = join(tmp.dir, 'pe');
  mkdirSync(dir);
  writeFileSync(join(dir, 'part-0.csv'), shard(0, 500));
  const lines = shard(1, 500).split('\n');
  // And record 100 too, so that the skips pass the warning threshold (0.1%).
  for (const l of [100, 101]) lines[l] = lines[l].replace(/,[0-9]+,/, ',notanumber,');
  writeFileSync(join(dir, 'part-1.csv'), lines.join('\n'));
  const drain = async (options: Record<string, unknown>): Promise<void> => {
    const dataset = await csvDataset(join(dir, '*.csv'), { columnConfigs: { label: { isLabel: true } }, timeColumn: 'time', shuffle: false, batchSize: 64, ...options });
    try {
      for await (const b of dataset) void b;
    } finally {
      await dataset.close();
    }
  };

  it('onMalformed error: PARSE_ERROR names part-1.csv and its record 99', async () => {
    const error = await drain({ onMalformed: 'error' }).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'PARSE_ERROR', file: join(dir, 'part-1.csv'), record: 99 });
    expect((error as Error).message).toMatch(new RegExp(`^${join(dir, 'part-1.csv').replace(/[.*]/g, '\\$&')}: record 99 x is not a number.*\\(collection record 599\\)$`));
  });

  it('the skip warning names part-1.csv and its record 99', async () => {
    const warnings: string[] = [];
    await drain({ onMalformed: 'skip', onWarning: (w: string) => warnings.push(w) });
    expect(warnings.join('\n')).toContain(`the first: ${join(dir, 'part-1.csv')}: record 99 (collection record 599) x is not a number`);
  });
});
