/**
 * Honest files whose first record comes after blank lines (CSV without a header, JSONL): their saved index
 * loads on the next open. Before, the load check wanted record 0 at offset 0 (or 3, after a byte-order mark)
 * for every kind but JSONL, so a headerless CSV starting with blank lines was rebuilt, with a warning, on
 * every open. `records: 'lines'` counts blank lines as records: its record 0 is still at the start.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeSharedPool, openIndexed } from '../src/index.js';
import { tempDir, writeFixture, xz } from './support/fixtures.js';

const tmp = tempDir('seekdata-leading-blanks-');
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

const text = Buffer.from('\n\r\n\n1,2\n3,4\n\n5,6\n');

describe('a first record after blank lines', () => {
  it.each([
    ['plain', 'a.csv', text],
    ['xz', 'a.csv.xz', xz(text)],
    ['with a byte-order mark', 'bom.csv', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), text])],
  ])('CSV without a header (%s): built, then loaded with no warning, the same records', async (_what, name, bytes) => {
    const path = writeFixture(tmp.dir, name, bytes);
    const built = await openIndexed(path, { records: 'csv', header: false });
    expect(built.report.status).toBe('built');
    const records = await built.records.slice(0, built.records.count);
    await built.close();
    const warnings: string[] = [];
    const loaded = await openIndexed(path, { records: 'csv', header: false, onWarning: (m) => warnings.push(m) });
    expect(loaded.report.status).toBe('loaded');
    expect(warnings).toEqual([]);
    expect((await loaded.records.slice(0, loaded.records.count)).map((r) => Buffer.from(r).toString())).toEqual(records.map((r) => Buffer.from(r).toString()));
    expect(loaded.records.count).toBe(3);
    expect(Buffer.from(await loaded.records.get(0)).toString()).toBe('1,2');
    await loaded.close();
  });

  it("records: 'lines' counts the blank lines: record 0 is the first, and the index loads", async () => {
    const path = writeFixture(tmp.dir, 'lines.txt', text);
    await (await openIndexed(path, { records: 'lines' })).close();
    const loaded = await openIndexed(path, { records: 'lines', ifStale: 'error' });
    expect(loaded.report.status).toBe('loaded');
    expect(loaded.records.count).toBe(7);
    await loaded.close();
  });
});
