/**
 * The record index: counts and contents of records against independent truths (wc -l, the records the
 * test generated), across bzip2 / xz / plain files whose chunk boundaries fall everywhere.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeSharedPool, openIndexed, type IndexedFile, type IndexedOptions } from '../src/index.js';
import { bzip2, makeText, prng, run, tempDir, writeFixture, xz } from './support/fixtures.js';

const tmp = tempDir();
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

let serial = 0;
/** The same content as .bz2 (100 kB blocks), .xz (32 KiB blocks) and plain; each opened twice (build, then load). */
async function eachFormat(content: Buffer, options: IndexedOptions, check: (file: IndexedFile, label: string) => Promise<void>): Promise<void> {
  const id = serial++;
  const variants: Array<[string, Buffer]> = [
    [`f${id}.bz2`, bzip2(content, 1)],
    [`f${id}.xz`, xz(content, '--block-size=32KiB')],
    [`f${id}.txt`, content],
  ];
  for (const [name, bytes] of variants) {
    const path = writeFixture(tmp.dir, name, bytes);
    for (const expected of ['built', 'loaded']) {
      const file = await openIndexed(path, { ...options, ifStale: 'error' });
      expect(file.report.status).toBe(expected);
      try {
        await check(file, `${name} (${expected})`);
      } finally {
        await file.close();
      }
    }
  }
}

function wcLines(content: Buffer): number {
  return Number(run('wc', ['-l'], content).toString().trim());
}

function linesOf(content: Buffer): string[] {
  const text = content.toString('utf8');
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  return text.length === 0 ? [] : lines;
}

async function checkRandomRecords(file: IndexedFile, expected: string[], label: string, samples = 1000): Promise<void> {
  expect(file.records.count, label).toBe(expected.length);
  const rand = prng(expected.length);
  const picks = Array.from({ length: Math.min(samples, expected.length) }, () => Math.floor(rand() * expected.length));
  for (const i of picks.slice(0, 100)) expect(await file.records.text(i), `${label} record ${i}`).toBe(expected[i]);
  const many = await file.records.getMany(picks);
  const decoder = new TextDecoder();
  picks.forEach((i, k) => expect(decoder.decode(many[k]), `${label} getMany ${i}`).toBe(expected[i]));
  if (expected.length > 0) {
    const from = Math.floor(rand() * expected.length);
    const slice = await file.records.slice(from, from + 50);
    expect(slice.map((b) => decoder.decode(b)), label).toEqual(expected.slice(from, from + 50));
  }
}

describe('lines', () => {
  it('counts equal wc -l and record i is line i, with and without a final newline', async () => {
    for (const finalNewline of [true, false]) {
      const content = makeText(700_000, 3, finalNewline);
      const expected = linesOf(content);
      expect(expected.length).toBe(wcLines(content) + (finalNewline ? 0 : 1));
      await eachFormat(content, { records: 'lines' }, (file, label) => checkRandomRecords(file, expected, label));
    }
  });

  it('CRLF line ends are not part of the record; empty lines are records', async () => {
    const lines = Array.from({ length: 30_000 }, (_, i) => (i % 7 === 3 ? '' : `row ${i} ünïcødé ${'x'.repeat(i % 50)}`));
    const content = Buffer.from(lines.join('\r\n') + '\r\n');
    await eachFormat(content, { records: 'lines' }, (file, label) => checkRandomRecords(file, lines, label));
  });

  it('a 5 MB single line spanning many chunks', async () => {
    const long = 'L'.repeat(5_000_000);
    const lines = ['first', long, 'after the long one', ''];
    const content = Buffer.from(lines.join('\n') + '\n');
    await eachFormat(content, { records: 'lines' }, async (file, label) => {
      expect(file.records.count, label).toBe(4);
      expect((await file.records.get(1)).length).toBe(5_000_000);
      expect(await file.records.text(2)).toBe('after the long one');
      expect(await file.records.text(3)).toBe('');
      expect((await file.records.getMany([2, 1, 0])).map((b) => b.length)).toEqual([18, 5_000_000, 5]);
    });
  });

  it('UTF-8 multibyte text crossing chunk boundaries is whole in every record', async () => {
    const lines = Array.from({ length: 40_000 }, (_, i) => `${i}:${'東京😀é'.repeat(1 + (i % 9))}`);
    const content = Buffer.from(lines.join('\n') + '\n');
    await eachFormat(content, { records: 'lines' }, (file, label) => checkRandomRecords(file, lines, label));
  });

  it('an empty file has no records; a lone newline is one empty record', async () => {
    await eachFormat(Buffer.alloc(0), { records: 'lines' }, async (file) => expect(file.records.count).toBe(0));
    await eachFormat(Buffer.from('\n'), { records: 'lines' }, async (file) => {
      expect(file.records.count).toBe(1);
      expect(await file.records.text(0)).toBe('');
    });
  });

  it('asking for a record that does not exist is OUT_OF_RANGE', async () => {
    await eachFormat(Buffer.from('a\nb\n'), { records: 'lines' }, async (file) => {
      await expect(file.records.get(2)).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
      await expect(file.records.getMany([0, -1])).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
    });
  });
});

/** RFC 4180 serialisation of a field. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

describe('csv', () => {
  it('quoted fields with newlines, quotes and delimiters do not end records; the header names the columns', async () => {
    const rand = prng(5);
    const pieces = ['plain', 'with, comma', 'with "quotes"', 'multi\nline', 'crlf\r\ninside', 'ünï', '', '"', '\n'];
    const rows = Array.from({ length: 20_000 }, (_, i) => [String(i), pieces[Math.floor(rand() * pieces.length)], (rand() * 100).toFixed(2)]);
    const expected = rows.map((r) => r.map(csvField).join(','));
    const content = Buffer.from(['id,text,value', ...expected].join('\n') + '\n');
    await eachFormat(content, { records: 'csv' }, async (file, label) => {
      expect(file.columns).toEqual(['id', 'text', 'value']);
      await checkRandomRecords(file, expected, label);
    });
  });

  it('a header-only file has columns and no records; blank lines are skipped', async () => {
    await eachFormat(Buffer.from('a,b,c\n'), { records: 'csv' }, async (file) => {
      expect(file.columns).toEqual(['a', 'b', 'c']);
      expect(file.records.count).toBe(0);
    });
    await eachFormat(Buffer.from('a,b\n\n1,2\n\n\n3,4'), { records: 'csv' }, async (file) => {
      expect(file.records.count).toBe(2);
      expect(await file.records.text(0)).toBe('1,2');
      expect(await file.records.text(1)).toBe('3,4');
    });
    await eachFormat(Buffer.from('\ufeffx;y\r\n1;2\r\n'), { records: 'csv', delimiter: ';' }, async (file) => {
      expect(file.columns).toEqual(['x', 'y']);
      expect(await file.records.text(0)).toBe('1;2');
    });
  });

  it('without a header every line is a record and columns are numbered', async () => {
    await eachFormat(Buffer.from('1,2\n3,4\n'), { records: 'csv', header: false }, async (file) => {
      expect(file.columns).toEqual(['0', '1']);
      expect(file.records.count).toBe(2);
    });
  });
});

describe('jsonl', () => {
  it('one value per line, blank lines skipped', async () => {
    const values = Array.from({ length: 30_000 }, (_, i) => JSON.stringify({ i, name: `n${i}`, nested: { v: i * 2 } }));
    const content = Buffer.from(values.map((v, i) => (i % 11 === 0 ? `${v}\n  \n` : `${v}\n`)).join(''));
    await eachFormat(content, { records: 'jsonl' }, async (file, label) => {
      expect(file.columns).toEqual(['i', 'name', 'nested']);
      await checkRandomRecords(file, values, label);
    });
  });
});

describe('csv chunk boundaries', () => {
  it('a quoted field with newlines straddling a chunk boundary (plain files: 1 MiB spans)', async () => {
    const rows: string[] = [];
    let size = 'a,b\n'.length;
    while (size < (1 << 20) - 40) {
      const row = `${rows.length},${'x'.repeat(30)}`;
      rows.push(row);
      size += row.length + 1;
    }
    // This record starts just before the 1 MiB boundary and its quoted field runs across it.
    rows.push(`${rows.length},"${'q\n'.repeat(40)}""end"""`);
    for (let i = 0; i < 1000; i++) rows.push(`${rows.length},"tail ""${i}"" with\nnewline"`);
    const content = Buffer.from(['a,b', ...rows].join('\n') + '\n');
    const path = writeFixture(tmp.dir, 'straddle.csv', content);
    const file = await openIndexed(path, { records: 'csv', index: false });
    expect(file.reader.layout.count).toBe(2);
    await checkRandomRecords(file, rows, 'straddle');
    await file.close();
  });
});

describe('cancelling the indexing pass', () => {
  it('an aborted pass over an xz file rejects with ABORTED while decodes are in flight, and the file opens after', async () => {
    const content = makeText(2_000_000, 12);
    const path = writeFixture(tmp.dir, 'abort.txt.xz', xz(content, '--block-size=32KiB'));
    for (let i = 0; i < 3; i++) {
      const controller = new AbortController();
      const opening = openIndexed(path, { records: 'lines', signal: controller.signal, onProgress: () => controller.abort() });
      await expect(opening).rejects.toMatchObject({ code: 'ABORTED' });
    }
    const file = await openIndexed(path, { records: 'lines' });
    expect(file.records.count).toBe(linesOf(content).length);
    await file.close();
  });
});
