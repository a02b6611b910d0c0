/**
 * Record options belong to the data set (issue 8 item 2): whatever makes an index be rebuilt — a damaged
 * section, a touched or changed data file, `index --rebuild` without flags, an old-version file, new
 * flags given only in part — the CSV index stays a CSV index with its header and time column, with a
 * warning that says what was rebuilt and why; when the options cannot be read, a clear error names them.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { closeSharedPool, openIndexed, openReader, type IndexedFile } from '../src/index.js';
import { runCli } from '../src/cli/main.js';
import { bzip2, tempDir, writeFixture } from './support/fixtures.js';
import { entry, json } from './support/sdx.js';
import { encodeV1 } from './support/sdx-v1.js';

const tmp = tempDir();
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

const ROWS = 6000;
function csv(rows = ROWS, seed = 0): Buffer {
  const lines = ['ts,v,label'];
  for (let i = 0; i < rows; i++) lines.push(`${new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString().slice(0, 19)},${(i * 7 + seed) % 1000},l${i % 3}`);
  return Buffer.from(lines.join('\n') + '\n');
}
const rowsOf = (text: Buffer): string[] => text.toString().split('\n').slice(1, -1);

let n = 0;
/** A CSV data set indexed with --records csv --time-column ts (bzip2, several blocks). */
async function dataset(text = csv()): Promise<string> {
  const path = writeFixture(tmp.dir, `set${n++}.csv.bz2`, bzip2(text, 1));
  const file = await openIndexed(path, { records: 'csv', timeColumn: 'ts', parallelism: 1 });
  expect(file.report.status).toBe('built');
  await file.close();
  return path;
}

/** The facts of a CSV index with header and time column, against the text. */
async function expectCsv(file: IndexedFile, text: Buffer): Promise<void> {
  const rows = rowsOf(text);
  expect(file.options).toMatchObject({ kind: 'csv', header: true, timeColumn: 'ts' });
  expect(file.columns).toEqual(['ts', 'v', 'label']);
  expect(file.records.count).toBe(rows.length);
  expect(await file.records.text(0)).toBe(rows[0]);
  expect(await file.records.text(rows.length - 1)).toBe(rows.at(-1));
  expect(file.time?.summary.count).toBe(rows.length);
  expect(file.nearest(Date.UTC(2024, 0, 1, 1))).toBe(60);
}

function touch(path: string): void {
  const later = new Date(Date.now() + 10_000);
  utimesSync(path, later, later);
}

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const sink = (into: Buffer[]): Writable =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        into.push(Buffer.from(chunk));
        done();
      },
    });
  const code = await runCli(args, { stdout: sink(out), stderr: sink(err) });
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

describe('a rebuilt index keeps the record options of the data set', () => {
  it('damaged record section (a body byte flipped): rebuilt as csv + header + time column, with a warning', async () => {
    const path = await dataset();
    const index = readFileSync(`${path}.sdx`);
    const offsets = entry(index, 'records.offsets');
    index[offsets.offset + 5] ^= 0x10;
    writeFileSync(`${path}.sdx`, index);
    await expect(openIndexed(path, { ifStale: 'error' })).rejects.toMatchObject({ code: 'CORRUPT_INDEX' });
    const warnings: string[] = [];
    const file = await openIndexed(path, { onWarning: (m) => warnings.push(m) });
    expect(file.report.status).toBe('rebuilt');
    await expectCsv(file, csv());
    await file.close();
    expect(warnings.join('\n')).toMatch(/records\.offsets checksum mismatch; rebuilding the record index with records csv, header, .*time column "ts"/);
  });

  it('stale after touch, and after a content change: rebuilt as csv + header + time column', async () => {
    const path = await dataset();
    touch(path);
    await expect(openIndexed(path, { ifStale: 'error' })).rejects.toMatchObject({ code: 'STALE_INDEX' });
    const warnings: string[] = [];
    const touched = await openIndexed(path, { onWarning: (m) => warnings.push(m) });
    expect(touched.report.status).toBe('rebuilt');
    await expectCsv(touched, csv());
    await touched.close();
    expect(warnings.join('\n')).toMatch(/stale.*modification stamp changed.*rebuilding the record index with records csv, header/);
    const other = csv(ROWS - 100, 5);
    writeFileSync(path, bzip2(other, 1));
    const changed = await openIndexed(path, {});
    expect(changed.report.status).toBe('rebuilt');
    await expectCsv(changed, other);
    await changed.close();
  });

  it('openReader rebuilding a stale index keeps the options for the next record command', async () => {
    const path = await dataset();
    touch(path);
    const warnings: string[] = [];
    const reader = await openReader(path, { onWarning: (m) => warnings.push(m) });
    expect(reader.indexStatus).toBe('rebuilt');
    await reader.close();
    expect(warnings.join()).toMatch(/rebuilding the chunk map \(keeping its record options\)/);
    const file = await openIndexed(path);
    await expectCsv(file, csv());
    await file.close();
  });

  it('an index of format version 1 is rebuilt with the options it holds', async () => {
    const path = await dataset();
    const v2 = readFileSync(`${path}.sdx`);
    const meta = json(v2, 'meta') as Record<string, unknown>;
    const records = { ...(meta.records as Record<string, unknown>), options: meta.recordOptions };
    const f64 = (name: string): Float64Array => {
      const e = entry(v2, name);
      return new Float64Array(v2.buffer.slice(v2.byteOffset + e.offset, v2.byteOffset + e.offset + e.length));
    };
    const v1 = encodeV1([
      ['meta', { json: { format: meta.format, source: meta.source, fingerprint: meta.fingerprint, createdAt: meta.createdAt, records } }],
      ['units.dStart', f64('units.dStart')],
    ]);
    writeFileSync(`${path}.sdx`, v1);
    await expect(openIndexed(path, { ifStale: 'error' })).rejects.toMatchObject({ code: 'STALE_INDEX' });
    const warnings: string[] = [];
    const file = await openIndexed(path, { onWarning: (m) => warnings.push(m) });
    expect(file.report.status).toBe('rebuilt');
    await expectCsv(file, csv());
    await file.close();
    expect(warnings.join()).toMatch(/index format version 1.*rebuilding the record index with records csv/);
    // A version-1 file whose body is damaged: its options cannot be trusted.
    const bad = Buffer.from(v1);
    bad[bad.length - 4] ^= 1;
    writeFileSync(`${path}.sdx`, bad);
    await expect(openIndexed(path)).rejects.toThrow(/record options of .* cannot be read .*--records KIND/);
  });

  it('metadata unrecoverable: a clear error naming the options to give; given, the index is rebuilt', async () => {
    const path = await dataset();
    const index = readFileSync(`${path}.sdx`);
    index[2] ^= 1; // the magic: not recognisable as an index at all
    writeFileSync(`${path}.sdx`, index);
    await expect(openIndexed(path)).rejects.toMatchObject({ code: 'CORRUPT_INDEX', message: expect.stringMatching(/cannot be read .*records \('csv', 'jsonl' or 'lines'\).*--records KIND/) });
    const run = await cli('records', path, '--from', '0', '--count', '1');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/give them again: .*--records KIND/);
    // openReader replaces the unreadable index but remembers that the options are unknown.
    await (await openReader(path)).close();
    await expect(openIndexed(path)).rejects.toThrow(/record options of .* cannot be read/);
    const file = await openIndexed(path, { records: 'csv', timeColumn: 'ts' });
    await expectCsv(file, csv());
    await file.close();
    const again = await openIndexed(path, { ifStale: 'error' });
    expect(again.report.status).toBe('loaded');
    await again.close();
  });
});

describe('the CLI keeps stored record flags', () => {
  it('index --rebuild without flags rebuilds the csv index as it was (also with -q)', async () => {
    const path = await dataset();
    const rebuilt = await cli('index', path, '--rebuild', '--json', '-p', '1');
    expect(rebuilt.code).toBe(0);
    const report = JSON.parse(rebuilt.stdout) as { report: { status: string; records: number; time: { column: string } }; columns: string[] };
    expect(report.report).toMatchObject({ status: 'rebuilt', records: ROWS, time: { column: 'ts' } });
    touch(path);
    const quiet = await cli('records', path, '--from', '0', '--count', '2', '-q', '-p', '1');
    expect(quiet).toMatchObject({ code: 0, stderr: '' });
    expect(quiet.stdout).toBe(rowsOf(csv()).slice(0, 2).join('\n') + '\n');
    const file = await openIndexed(path, { ifStale: 'error' });
    await expectCsv(file, csv());
    await file.close();
  });

  it('partial flags: --time-zone alone keeps --records csv --time-column ts; --no-time-column clears it', async () => {
    const path = await dataset();
    const run = await cli('records', path, '--from', '1', '--count', '1', '--time-zone', 'Europe/Paris', '-p', '1');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(rowsOf(csv())[1] + '\n');
    expect(run.stderr).toMatch(/other options \(timeZone is unset in the index, "Europe\/Paris" requested\); rebuilding the record index with records csv, header, .*time column "ts".*time zone Europe\/Paris/);
    const zoned = await openIndexed(path, { ifStale: 'error' });
    expect(zoned.options).toMatchObject({ kind: 'csv', header: true, timeColumn: 'ts', timeZone: 'Europe/Paris' });
    // Paris is UTC+1 in January: local 01:00 is 00:00 UTC, record 0.
    expect(zoned.nearest(Date.UTC(2024, 0, 1, 0))).toBe(60);
    await zoned.close();
    const cleared = await cli('info', path, '--no-time-column', '--json', '-q');
    expect(cleared.code).toBe(0);
    expect(JSON.parse(cleared.stdout)).toMatchObject({ records: ROWS, timeRange: null, columns: ['ts', 'v', 'label'] });
    const untimed = await openIndexed(path, { ifStale: 'error' });
    expect(untimed.options).toMatchObject({ kind: 'csv', header: true, timeColumn: undefined });
    await untimed.close();
  });
});

describe('openIndexed option semantics', () => {
  it('unset options come from the stored index, given ones override, null clears, another kind starts afresh', async () => {
    const path = await dataset();
    const loaded = await openIndexed(path, { ifStale: 'error' });
    expect(loaded.report.status).toBe('loaded');
    await expectCsv(loaded, csv());
    await loaded.close();
    const noZone = await openIndexed(path, { timeZone: null, ifStale: 'error' });
    expect(noZone.report.status).toBe('loaded');
    await noZone.close();
    await expect(openIndexed(path, { timeColumn: 'v', ifStale: 'error' })).rejects.toMatchObject({ code: 'INDEX_MISMATCH' });
    const cleared = await openIndexed(path, { timeColumn: null });
    expect(cleared.options).toMatchObject({ kind: 'csv', header: true, timeColumn: undefined });
    expect(cleared.time).toBeUndefined();
    await cleared.close();
    const lines = await openIndexed(path, { records: 'lines' });
    expect(lines.records.count).toBe(ROWS + 1);
    expect(await lines.records.text(0)).toBe('ts,v,label');
    await lines.close();
    const back = await openIndexed(path, { records: 'csv' });
    expect(back.options).toMatchObject({ kind: 'csv', header: true, timeColumn: undefined });
    await back.close();
  });

  it('an index built with a time function: loaded without it, rebuilt only when it is given again', async () => {
    const path = await dataset();
    const time = (record: string): number => Date.parse(`${record.slice(0, 19)}Z`);
    const built = await openIndexed(path, { records: 'csv', time });
    expect(built.report.status).toBe('rebuilt');
    await built.close();
    const loaded = await openIndexed(path, { ifStale: 'error' });
    expect(loaded.time?.summary.count).toBe(ROWS);
    await loaded.close();
    touch(path);
    await expect(openIndexed(path)).rejects.toThrow(/built with options\.time .* pass options\.time again/);
    const again = await openIndexed(path, { time });
    expect(again.report.status).toBe('rebuilt');
    expect(again.options.kind).toBe('csv');
    await again.close();
  });
});
