/**
 * The CLI tells the truth (issue 8 items 7, 14, 15, 17): records are printed byte for byte, errors name
 * the flag the user typed, `compare` runs no shell, and edge-case arguments get clear usage errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeSharedPool } from '../src/index.js';
import { readerOptions } from '../src/cli/context.js';
import { Capture, cli } from './support/cli.js';
import { bzip2, run, tempDir, writeFixture } from './support/fixtures.js';

const tmp = tempDir('seekdata-trust-cli-');
const t0 = Date.UTC(2024, 2, 3, 9);
/** Rows with Latin-1 (not UTF-8) bytes in some of them: "café" as caf\xe9, "naïve" as na\xefve. */
const rows: Buffer[] = Array.from({ length: 400 }, (_, i) => {
  const time = new Date(t0 + i * 1000).toISOString();
  const label = i % 3 === 0 ? Buffer.from([0x63, 0x61, 0x66, 0xe9]) : i % 3 === 1 ? Buffer.from([0x6e, 0x61, 0xef, 0x76, 0x65]) : Buffer.from('plain ☕');
  return Buffer.concat([Buffer.from(`${time},${i},`), label]);
});
const header = Buffer.from('time,id,label');
const csvBytes = Buffer.concat([header, ...rows].flatMap((r) => [r, Buffer.from('\n')]));
let csv: string;

beforeAll(async () => {
  csv = writeFixture(tmp.dir, 'latin.csv.bz2', bzip2(csvBytes, 1));
  const built = await cli('index', csv, '--records', 'csv', '--time-column', 'time');
  expect(built.code, built.stderr).toBe(0);
});

afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

const lines = (from: number, to: number): Buffer => Buffer.concat(rows.slice(from, to).flatMap((r) => [r, Buffer.from('\n')]));

describe('records and range print the bytes of the file (item 7)', () => {
  it('records writes invalid UTF-8 bytes unchanged, not as U+FFFD', async () => {
    const out = await cli('records', csv, '--from', '0', '--count', '6');
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout.equals(lines(0, 6))).toBe(true);
    expect(out.stdout.includes(Buffer.from('\ufffd'))).toBe(false);
  });

  it('range writes the bytes unchanged', async () => {
    const out = await cli('range', csv, '--from', new Date(t0 + 10_000).toISOString(), '--to', new Date(t0 + 20_000).toISOString());
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout.equals(lines(10, 20))).toBe(true);
  });

  it('--json gives text for valid UTF-8 and the exact bytes in base64 otherwise', async () => {
    for (const args of [
      ['records', csv, '--from', '0', '--count', '3', '--json'],
      ['range', csv, '--from', new Date(t0).toISOString(), '--to', new Date(t0 + 3000).toISOString(), '--json'],
    ]) {
      const out = await cli(...args);
      expect(out.code, out.stderr).toBe(0);
      const objects = out.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as { record: number; text?: string; base64?: string; time?: string });
      expect(objects.map((o) => o.record)).toEqual([0, 1, 2]);
      expect(objects[0].text).toBeUndefined();
      expect(Buffer.from(objects[0].base64 ?? '', 'base64').equals(rows[0])).toBe(true);
      expect(Buffer.from(objects[1].base64 ?? '', 'base64').equals(rows[1])).toBe(true);
      expect(objects[2]).toMatchObject({ text: rows[2].toString() });
      expect(objects[2].base64).toBeUndefined();
      if (args[0] === 'range') expect(objects[1].time).toBe(new Date(t0 + 1000).toISOString());
    }
  });
});

describe('errors name the CLI flag, not the API field (item 14)', () => {
  it('--cache-mb is converted to bytes without 32-bit overflow', async () => {
    const io = { stdout: new Capture(), stderr: new Capture() };
    expect(readerOptions(io, { 'cache-mb': '2048' }).cacheBytes).toBe(2048 * 2 ** 20);
    expect(readerOptions(io, { 'cache-mb': '5000' }).cacheBytes).toBe(5000 * 2 ** 20);
    const info = await cli('info', csv, '--cache-mb', '2048');
    expect(info.code, info.stderr).toBe(0);
    const huge = await cli('info', csv, '--cache-mb', '99999999999999');
    expect(huge.code).toBe(2);
    expect(huge.stderr).toMatch(/^seekdata: --cache-mb must be at most \d+, got 99999999999999\n$/);
  });

  it('an INVALID_OPTION from the API about a flag names the flag', async () => {
    for (const [flags, pattern] of [
      [['--time-zone', 'Mars/Olympus'], /--time-zone must be an IANA time zone name .*"Mars\/Olympus"/],
      [['--time-column', 'when'], /--time-column must be a column of .*latin\.csv\.bz2 \(time, id, label\), got "when"/],
      [['--stats', 'id,nope'], /--stats must be columns of .*got "nope"/],
      [['--delimiter', ';;'], /--delimiter must be one ASCII character/],
    ] as const) {
      const out = await cli('info', csv, '--no-index', '--records', 'csv', ...flags);
      expect(out.code, flags.join(' ')).toBe(2);
      expect(out.stderr).toMatch(pattern);
      expect(out.stderr).not.toMatch(/options\./);
      expect(out.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('compare runs no shell and says what failed (item 15)', () => {
  const plain = 'id,value\n' + Array.from({ length: 3000 }, (_, i) => `${i},${(i * 7) % 13}`).join('\n') + '\n';

  it('a file name with $(...), quotes and spaces is data, not shell syntax; --out is created', async () => {
    const dir = join(tmp.dir, 'shell');
    mkdirSync(dir);
    const name = `it's a "test" $(touch pwned) \`touch pwned2\`.csv`;
    const path = writeFixture(dir, name, Buffer.from(plain));
    const out = join(dir, 'made', 'by compare');
    const cwd = process.cwd();
    process.chdir(dir);
    let result;
    try {
      result = await cli('compare', path, '--out', out, '--reads', '2', '--json');
    } finally {
      process.chdir(cwd);
    }
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
    expect(existsSync(join(dir, 'pwned2'))).toBe(false);
    expect(existsSync(join(cwd, 'pwned'))).toBe(false);
    const rowsOut = JSON.parse(result.stdout.toString()) as Array<{ format: string; file: string }>;
    expect(rowsOut.map((r) => r.format)).toEqual(['plain', 'bzip2', 'xz']);
    expect(run('bzip2', ['-dc', join(out, `${name}.bz2`)]).toString()).toBe(plain);
    expect(run('xz', ['-dc', join(out, `${name}.xz`)]).toString()).toBe(plain);
  });

  it('a failing tool is named with its exit status and stderr; a missing tool is named', async () => {
    const path = writeFixture(tmp.dir, 'small.csv', Buffer.from(plain));
    const bin = join(tmp.dir, 'fake-bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'bzip2'), '#!/bin/sh\necho "bzip2: simulated failure" >&2\nexit 3\n');
    chmodSync(join(bin, 'bzip2'), 0o755);
    const saved = process.env.PATH;
    try {
      process.env.PATH = `${bin}:${saved ?? ''}`;
      const failing = await cli('compare', path, '--out', join(tmp.dir, 'out-fail'));
      expect(failing.code).toBe(1);
      expect(failing.stderr).toMatch(/`bzip2 -9 -c` exited with status 3 compressing .*small\.csv: bzip2: simulated failure/);
      expect(existsSync(join(tmp.dir, 'out-fail', 'small.csv.bz2'))).toBe(false);
      process.env.PATH = join(tmp.dir, 'no-such-dir');
      const missing = await cli('compare', path);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/cannot run `bzip2 -9 -c`: bzip2 is not installed/);
    } finally {
      process.env.PATH = saved;
    }
    const notDir = await cli('compare', path, '--out', path);
    expect(notDir.code).toBe(1);
    expect(notDir.stderr).toMatch(/cannot create the --out directory .*small\.csv/);
    expect(readFileSync(path, 'utf8')).toBe(plain);
  });
});

describe('usage edge cases (item 17)', () => {
  it('negative numbers are option values, validated with a clear message', async () => {
    for (const [args, message] of [
      [['read', csv, '--offset', '-1', '--length', '3'], '--offset must be at least 0, got -1'],
      [['read', csv, '-o', '-5', '-n', '3'], '--offset must be at least 0, got -5'],
      [['read', csv, '--offset', '0', '--length', '-2'], '--length must be at least 0, got -2'],
      [['records', csv, '--from', '-1'], '--from must be at least 0, got -1'],
    ] as const) {
      const out = await cli(...args);
      expect(out.code, args.join(' ')).toBe(2);
      expect(out.stderr).toBe(`seekdata: ${message}\n`);
    }
    // A negative epoch is a time (1969-12-31T23:59:59Z), not an error.
    const before = await cli('range', csv, '--from', '-1', '--to', String(t0 / 1000), '--count-only');
    expect(before.code, before.stderr).toBe(0);
    expect(before.stdout.toString()).toBe('0\n');
  });

  it('range and export with --from after --to are usage errors', async () => {
    const range = await cli('range', csv, '--from', '2024-03-04', '--to', '2024-03-03');
    expect(range.code).toBe(2);
    expect(range.stderr).toMatch(/--from \(2024-03-04T00:00:00.000Z\) is after --to \(2024-03-03T00:00:00.000Z\)/);
    const exported = await cli('export', csv, '--from', '2024-03-04', '--to', '2024-03-03', '--arrow', join(tmp.dir, 'x.arrow'));
    expect(exported.code).toBe(2);
    expect(exported.stderr).toMatch(/is after --to/);
    const empty = await cli('range', csv, '--from', '2024-03-03T09:00:05Z', '--to', '2024-03-03T09:00:05Z', '--count-only');
    expect(empty.stdout.toString()).toBe('0\n');
  });

  it('impossible dates and times are rejected, not rolled over', async () => {
    for (const bad of ['2020-02-30', '2019-02-29', '2024-13-01', '2024-03-03T25:00', '2024-03-03T24:30', '2024-03-03T09:60', '2024-3-3', 'yesterday']) {
      const out = await cli('range', csv, '--from', bad, '--to', '2030-01-01');
      expect(out.code, bad).toBe(2);
      expect(out.stderr).toBe(`seekdata: --from must be an ISO-8601 date or time (2024-03-03, 2024-03-03T09:00:00Z) or an epoch number, got ${JSON.stringify(bad)}\n`);
    }
    const leap = await cli('range', csv, '--from', '2024-02-29', '--to', '2024-03-03T09:00:02+00:00', '--count-only');
    expect(leap.stdout.toString()).toBe('2\n');
    const endOfDay = await cli('range', csv, '--from', '2024-03-02T24:00', '--to', '2024-03-03T09:00:01', '--count-only');
    expect(endOfDay.stdout.toString()).toBe('1\n');
  });

  it('a record past the end is a runtime error (OUT_OF_RANGE, exit 1)', async () => {
    const out = await cli('records', csv, '--from', '400');
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/latin\.csv\.bz2: record 400 is past the end \(400 records\)/);
    const last = await cli('records', csv, '--from', '399', '--count', '5');
    expect(last.code).toBe(0);
    expect(last.stdout.equals(lines(399, 400))).toBe(true);
  });
});
