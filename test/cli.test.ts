/**
 * The seekdata command: help, output, JSON fields, exit codes (0 / 1 / 2) and one-line errors without
 * stack traces. Commands run in this process (runCli with captured streams); what only a real process
 * shows (exit status, a closed pipe, no terminal) runs as one, asynchronously.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeSharedPool } from '../src/index.js';
import { cli, cliCommand, cliProcess } from './support/cli.js';
import type { CommandSpec } from '../src/cli/args.js';
import { benchSpec, compareSpec } from '../src/cli/commands/bench-commands.js';
import { exportSpec, sampleSpec } from '../src/cli/commands/dataset-commands.js';
import { catSpec, infoSpec, readSpec } from '../src/cli/commands/reader-commands.js';
import { indexSpec, rangeSpec, recordsSpec, statsSpec } from '../src/cli/commands/record-commands.js';
import { recompressSpec } from '../src/cli/commands/recompress.js';
import { runProcess } from './support/process.js';
import { bzip2, makeText, tempDir, writeFixture, xz } from './support/fixtures.js';

const text = makeText(400_000, 31);
const tmp = tempDir();
const bz = writeFixture(tmp.dir, 'data.csv.bz2', bzip2(text, 1));
const xzPath = writeFixture(tmp.dir, 'data.csv.xz', xz(text, '--block-size=64KiB'));
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

describe('seekdata CLI', () => {
  it('prints help for the program and each command', async () => {
    const main = await cli('--help');
    expect(main.code).toBe(0);
    for (const command of ['index', 'info', 'cat', 'read', 'records', 'range', 'stats', 'sample', 'export', 'bench', 'compare']) {
      expect(main.stdout.toString()).toContain(command);
      const help = await cli(command, '--help');
      expect(help.code).toBe(0);
      expect(help.stdout.toString()).toMatch(new RegExp(`Usage: seekdata ${command}`));
      expect(help.stdout.toString()).toContain('Examples:');
    }
  });

  it('every flag a command accepts is in its help, and every flag in its help is accepted (none is taken and ignored)', async () => {
    const specs: CommandSpec[] = [indexSpec, infoSpec, catSpec, readSpec, recordsSpec, rangeSpec, statsSpec, sampleSpec, exportSpec, benchSpec, recompressSpec, compareSpec];
    for (const spec of specs) {
      const inHelp = new Set(spec.optionHelp.flatMap(([flags]) => [...flags.matchAll(/--([a-z0-9-]+)/g)].map((m) => m[1])));
      expect(Object.keys(spec.options).sort(), spec.name).toEqual([...inHelp].sort());
    }
    expect((await cli('compare', bz, '--keep')).code).toBe(2);
    expect((await cli('cat', bz, '--json')).code).toBe(2);
  });

  it('index builds and then reuses the index; info --json has the documented fields', async () => {
    const first = await cli('index', bz, '--json');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout.toString())).toMatchObject({ format: 'bzip2', size: text.length, index: { status: 'built' } });
    const info = JSON.parse((await cli('info', bz, '--json')).stdout.toString()) as Record<string, unknown>;
    expect(info).toMatchObject({ file: bz, format: 'bzip2', compressedSize: expect.any(Number), size: text.length, fresh: true });
    expect(info.units).toBeGreaterThan(3);
    expect(info.largestUnit).toBeGreaterThan(50_000);
    expect(info.index).toMatchObject({ path: `${bz}.sdx`, status: 'loaded' });
    const human = await cli('info', xzPath);
    expect(human.code).toBe(0);
    expect(human.stdout.toString()).toMatch(/format\s+xz/);
    expect(human.stdout.toString()).toMatch(/decodes one unit/);
  });

  it('cat writes exactly the decompressed bytes, with and without an index', async () => {
    for (const file of [bz, xzPath]) {
      expect((await cli('cat', file, '--no-index')).stdout.equals(text)).toBe(true);
      expect((await cli('cat', file)).stdout.equals(text)).toBe(true);
    }
  });

  it('cat into a pipe that closes early (| head) exits 0, letting running decodes finish', async () => {
    const big = writeFixture(tmp.dir, 'big.csv.xz', xz(Buffer.concat(Array.from({ length: 8 }, () => text)), '--block-size=64KiB'));
    const command = cliCommand.map((a) => JSON.stringify(a)).join(' ');
    for (let i = 0; i < 3; i++) {
      const result = await runProcess('bash', ['-c', `set -o pipefail; ${command} cat "${big}" --no-index | head -c 100 > /dev/null`]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).not.toMatch(/terminate|Napi/);
    }
  });

  it('as a real process: exit codes 0 / 1 / 2, one line on stderr, no stack trace, no progress bar without a terminal', async () => {
    const ok = await cliProcess('index', xzPath, '--rebuild');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toBe('');
    for (const [args, code, pattern] of [
      [['read', bz], 2, /--offset and --length are required/],
      [['cat', `${tmp.dir}/missing.bz2`], 1, /missing\.bz2: no such file/],
    ] as const) {
      const out = await cliProcess(...args);
      expect(out.code, args.join(' ')).toBe(code);
      expect(out.stderr.trim().split('\n')).toHaveLength(1);
      expect(out.stderr).toMatch(pattern);
      expect(out.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('read writes exactly the requested bytes', async () => {
    const out = await cli('read', xzPath, '--offset', '123456', '--length', '7890');
    expect(out.code).toBe(0);
    expect(out.stdout.equals(text.subarray(123456, 123456 + 7890))).toBe(true);
  });

  it('usage errors exit 2 with one line', async () => {
    for (const args of [['frobnicate'], ['read', bz], ['read', bz, '--offset', 'x', '--length', '3'], ['info'], ['info', bz, '--bogus'], ['cat', bz, '-p', '0'], []]) {
      const out = await cli(...args);
      expect(out.code, args.join(' ')).toBe(2);
      if (args.length > 0) expect(out.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('runtime errors exit 1 with one line naming the file, no stack trace', async () => {
    const bad = writeFixture(tmp.dir, 'bad.bz2', bzip2(text, 1).subarray(0, 30_000));
    for (const [args, pattern] of [
      [['info', `${tmp.dir}/missing.bz2`], /missing\.bz2: no such file/],
      [['cat', bad, '--no-index'], /bad\.bz2: .*byte \d+/],
      [['read', bz, '--offset', String(text.length), '--length', '1'], /past the end/],
      [['info', writeFixture(tmp.dir, 'x.zip', Buffer.concat([Buffer.from([0x50, 0x4b, 3, 4]), Buffer.alloc(40)]))], /zip files are not supported/],
      [['info', writeFixture(tmp.dir, 'cut.gz', Buffer.from([0x1f, 0x8b, 8, 0]))], /cut\.gz: truncated gzip file/],
    ] as const) {
      const out = await cli(...args);
      expect(out.code, args.join(' ')).toBe(1);
      const lines = out.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(pattern);
      expect(out.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('index --records builds the record, time and stats index; records, range, stats and info use it', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => `${new Date(Date.UTC(2024, 2, 3, 9) + i * 1000).toISOString()},${i},${(i % 7) * 1.5}`);
    const csv = writeFixture(tmp.dir, 'ticks.csv.bz2', bzip2(Buffer.from(['time,id,price', ...rows].join('\n') + '\n'), 1));
    const built = await cli('index', csv, '--records', 'csv', '--time-column', 'time');
    expect(built.code).toBe(0);
    expect(built.stdout.toString()).toMatch(/3000 records \(csv\)/);
    expect(built.stdout.toString()).toMatch(/2024-03-03T09:00:00.000Z .. 2024-03-03T09:49:59.000Z, sorted/);
    expect(built.stdout.toString()).toMatch(/unparsable timestamps: 0/);
    // Later commands reuse the options stored in the index.
    expect((await cli('records', csv, '--from', '10', '--count', '3')).stdout.toString()).toBe(rows.slice(10, 13).join('\n') + '\n');
    const range = await cli('range', csv, '--from', '2024-03-03T09:01:00', '--to', '2024-03-03T09:01:05');
    expect(range.stdout.toString()).toBe(rows.slice(60, 65).join('\n') + '\n');
    const epoch = await cli('range', csv, '--from', String(Date.UTC(2024, 2, 3, 9, 1) / 1000), '--to', String(Date.UTC(2024, 2, 3, 9, 2) / 1000), '--count-only');
    expect(epoch.stdout.toString().trim()).toBe('60');
    const limited = await cli('range', csv, '--from', '2024-03-03', '--to', '2024-03-04', '--limit', '2', '--json');
    const objects = limited.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as { record: number; time: string; text: string });
    expect(objects).toEqual([
      { record: 0, time: '2024-03-03T09:00:00.000Z', text: rows[0] },
      { record: 1, time: '2024-03-03T09:00:01.000Z', text: rows[1] },
    ]);
    const stats = JSON.parse((await cli('stats', csv, '--json')).stdout.toString()) as { records: number; columns: Array<{ name: string; max: number | null }> };
    expect(stats.records).toBe(3000);
    expect(stats.columns.find((c) => c.name === 'id')?.max).toBe(2999);
    expect((await cli('stats', csv)).stdout.toString()).toMatch(/^price\s+3,000\s+0\s+0\s+0\s+9\s/m); // count (grouped), missing, non-numeric, min, max
    const info = JSON.parse((await cli('info', csv, '--json')).stdout.toString()) as Record<string, unknown>;
    expect(info).toMatchObject({ records: 3000, columns: ['time', 'id', 'price'], sorted: true, timeRange: { first: '2024-03-03T09:00:00.000Z', last: '2024-03-03T09:49:59.000Z' } });
    const noTime = await cli('range', bz, '--from', '2024-01-01', '--to', '2024-01-02');
    expect(noTime.code).toBe(2);
    expect(noTime.stderr).toMatch(/no timestamp index/);
    expect((await cli('records', csv, '--from', '5000')).code).toBe(1);
    expect((await cli('range', csv, '--from', 'yesterday', '--to', '2024-01-01')).code).toBe(2);
  });

  it('sample prints seeded, sharded batch orders; export writes an Arrow file; bench and compare report', async () => {
    const rows = Array.from({ length: 2000 }, (_, i) => `${new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString()},${i},${i % 3}`);
    const csvPath = writeFixture(tmp.dir, 'minutes.csv', Buffer.from(['t,v,label', ...rows].join('\n') + '\n'));
    const file = writeFixture(tmp.dir, 'minutes.csv.xz', xz(Buffer.from(['t,v,label', ...rows].join('\n') + '\n'), '--block-size=8KiB'));
    expect((await cli('index', file, '--records', 'csv', '--time-column', 't')).code).toBe(0);
    const a = (await cli('sample', file, '-b', '7', '--batches', '3', '--seed', '5', '--indices')).stdout.toString();
    expect(a.trim().split('\n')).toHaveLength(3);
    expect(a.trim().split('\n').every((l) => l.split(' ').length === 7)).toBe(true);
    expect((await cli('sample', file, '-b', '7', '--batches', '3', '--seed', '5', '--indices')).stdout.toString()).toBe(a);
    expect((await cli('sample', file, '-b', '7', '--batches', '3', '--seed', '6', '--indices')).stdout.toString()).not.toBe(a);
    const shards: number[][] = [];
    for (const rank of [0, 1]) shards.push((await cli('sample', file, '-b', '100', '--shuffle', 'exact', '--rank', String(rank), '--world-size', '2', '--indices')).stdout.toString().trim().split(/\s+/).map(Number));
    expect([...shards[0], ...shards[1]].sort((x, y) => x - y)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    const json = (await cli('sample', file, '-b', '2', '--batches', '1', '--shuffle', 'none', '--json')).stdout.toString();
    expect(JSON.parse(json)).toEqual({ batch: 0, records: [0, 1], text: rows.slice(0, 2) });
    const out = `${tmp.dir}/range.arrow`;
    const exported = await cli('export', file, '--from', '2024-01-01T01:00', '--to', '2024-01-01T02:00', '--arrow', out, '--json');
    expect(exported.code).toBe(0);
    expect(JSON.parse(exported.stdout.toString())).toMatchObject({ rows: 60, columns: [{ name: 't', type: 'Timestamp<MILLISECOND>' }, { name: 'v', type: 'Int32' }, { name: 'label', type: 'Int32' }] });
    expect((await cli('export', file, '--from', '2024-01-01', '--to', '2024-01-02')).code).toBe(2);
    const bench = JSON.parse((await cli('bench', file, '--reads', '5', '--json')).stdout.toString()) as Record<string, unknown>;
    expect(bench).toMatchObject({ format: 'xz', size: expect.any(Number), randomReadMs: { reads: 5 }, recordsPerSecond: expect.any(Number) });
    const compare = JSON.parse((await cli('compare', csvPath, '--reads', '3', '--json')).stdout.toString()) as Array<{ format: string }>;
    expect(compare.map((c) => c.format)).toEqual(['plain', 'bzip2', 'xz']);
    expect((await cli('compare', file)).code).toBe(2);
  });
});
