/**
 * CLI habits (issue 11 §3): --version, `help CMD`, "did you mean" for commands, flags and flag values,
 * choices listed in errors, progress with rate and ETA (a bar on a terminal, plain lines every few
 * seconds elsewhere, none with -q, kept with --json), and the stats table.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { closeSharedPool } from '../src/index.js';
import { runCli } from '../src/cli/main.js';
import { duration, ProgressReporter } from '../src/cli/progress.js';
import { cli } from './support/cli.js';
import { runTsx } from './support/process.js';
import { bzip2, makeText, tempDir, writeFixture } from './support/fixtures.js';

const tmp = tempDir();
// Several bzip2 blocks (level 1: 100 kB), so indexing reports progress more than once.
const text = makeText(700_000, 5);
const bz = writeFixture(tmp.dir, 'secret-token-data.csv.bz2', bzip2(text, 1));
const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

/** A stream that keeps what is written, a terminal or not. */
class Sink extends Writable {
  text = '';
  readonly chunks: Buffer[] = [];
  constructor(readonly isTTY: boolean) {
    super();
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.chunks.push(Buffer.from(chunk));
    this.text += chunk.toString();
    done();
  }
}

/** runCli with chosen terminals and SEEKDATA_PROGRESS_SECONDS (the test config sets 0: no lines). */
async function run(args: string[], options: { stdoutTty?: boolean; stderrTty?: boolean; seconds?: string } = {}): Promise<{ code: number; stdout: Sink; stderr: Sink }> {
  const stdout = new Sink(options.stdoutTty === true);
  const stderr = new Sink(options.stderrTty === true);
  const saved = process.env.SEEKDATA_PROGRESS_SECONDS;
  if (options.seconds !== undefined) process.env.SEEKDATA_PROGRESS_SECONDS = options.seconds;
  try {
    const code = await runCli(args, { stdout, stderr });
    return { code, stdout, stderr };
  } finally {
    process.env.SEEKDATA_PROGRESS_SECONDS = saved;
  }
}

describe('--version and help', () => {
  it('--version and -v print the version of package.json', async () => {
    for (const flag of ['--version', '-v']) {
      const out = await cli(flag);
      expect(out.code).toBe(0);
      expect(out.stdout.toString()).toBe(`${version}\n`);
    }
  });

  it('`help CMD` prints what `CMD --help` prints; `help` alone the main help', async () => {
    for (const command of ['index', 'range', 'sample', 'compare']) {
      const help = await cli('help', command);
      expect(help.code).toBe(0);
      expect(help.stdout.toString()).toBe((await cli(command, '--help')).stdout.toString());
      expect(help.stdout.toString()).toMatch(new RegExp(`^Usage: seekdata ${command} `));
    }
    const main = await cli('help');
    expect(main.code).toBe(0);
    expect(main.stdout.toString()).toContain('seekdata help <command>');
  });

  it('an unknown command, also after help, names the nearest one (exit 2)', async () => {
    for (const args of [['rnage', bz], ['help', 'rnage'], ['stat', bz]]) {
      const out = await cli(...args);
      expect(out.code, args.join(' ')).toBe(2);
      expect(out.stderr).toBe(`seekdata: unknown command ${JSON.stringify(args[0] === 'help' ? args[1] : args[0])}; did you mean ${args.includes('stat') ? 'stats' : 'range'}?\n`);
    }
    const far = await cli('frobnicate', bz);
    expect(far.code).toBe(2);
    expect(far.stderr).toMatch(/unknown command "frobnicate"; run `seekdata --help` for the commands/);
  });
});

describe('did you mean, and choices in errors', () => {
  it('an unknown flag names the nearest flag of the command, or its help (exit 2)', async () => {
    for (const [args, expected] of [
      [['sample', bz, '--batchsize', '4'], 'sample: unknown option --batchsize; did you mean --batch-size?'],
      [['range', bz, '--form', '2024-01-01', '--to', '2024-01-02'], 'range: unknown option --form; did you mean --from?'],
      [['range', bz, '--from', '0', '--to', '1', '--lim', '3'], 'range: unknown option --lim; did you mean --limit?'],
      [['index', bz, '--time_column', 'ts'], 'index: unknown option --time_column; did you mean --time-column?'],
      [['cat', bz, '--frobnicate'], 'cat: unknown option --frobnicate; run `seekdata cat --help` for its options'],
      [['cat', bz, '-z'], 'cat: unknown option -z; run `seekdata cat --help` for its options'],
    ] as const) {
      const out = await cli(...args);
      expect(out.code, args.join(' ')).toBe(2);
      expect(out.stderr).toBe(`seekdata: ${expected}\n`);
    }
  });

  it('a flag that takes one of a few values lists them and names the nearest', async () => {
    for (const [args, expected] of [
      [['sample', bz, '--shuffle', 'exakt'], '--shuffle must be exact, chunked or none, got "exakt"; did you mean exact?'],
      [['sample', bz, '--shard-policy', 'dorp'], '--shard-policy must be pad or drop, got "dorp"; did you mean drop?'],
      [['index', bz, '--records', 'cvs'], '--records must be lines, csv or jsonl, got "cvs"; did you mean csv?'],
      [['index', bz, '--records', 'csv', '--quoting', 'rfc'], '--quoting must be rfc4180 or none, got "rfc"'],
      [['index', bz, '--records', 'csv', '--time-format', 'isoo'], '--time-format must be auto, iso, date, epoch, s, ms, us or ns, got "isoo"; did you mean iso?'],
    ] as const) {
      const out = await cli(...args);
      expect(out.code, args.join(' ')).toBe(2);
      expect(out.stderr).toBe(`seekdata: ${expected}\n`);
    }
  });

  it('negative numbers stay option values', async () => {
    const out = await cli('records', bz, '--from', '-1');
    expect(out.code).toBe(2);
    expect(out.stderr).toBe('seekdata: --from must be at least 0, got -1\n');
  });
});

describe('progress', () => {
  it('off a terminal: a line per interval with rate and ETA, the first after one interval, a closing line', () => {
    const out: string[] = [];
    let t = 0;
    const reporter = new ProgressReporter({ write: (s: string) => out.push(s) }, { tty: false, intervalMs: 5000, now: () => t });
    const task = reporter.task('indexing', { unit: 'bytes', total: 100e6 });
    t = 1000;
    task.update(10e6);
    expect(out).toEqual([]); // quick work prints nothing
    t = 5000;
    task.update(50e6);
    t = 6000;
    task.update(60e6); // within the interval: nothing
    t = 10_000;
    task.update(100e6);
    task.done();
    expect(out).toEqual([
      'seekdata: indexing 50% 50.0/100.0 MB, 10.0 MB/s, ETA 5 s\n',
      'seekdata: indexing 100% 100.0/100.0 MB, 10.0 MB/s\n',
      'seekdata: indexing done: 100.0 MB in 10 s, 10.0 MB/s\n',
    ]);
    // Tasks share the clock: the next task's first line waits for the interval after the last line.
    out.length = 0;
    const records = reporter.task('printing', { unit: 'records', total: 1_000_000 });
    t = 12_000;
    records.update(100_000);
    expect(out).toEqual([]);
    t = 30_000;
    records.update(250_000);
    records.done();
    // This task started at 10 s: 250,000 records in 20 s.
    expect(out).toEqual(['seekdata: printing 25% 250,000/1,000,000 records, 12.5K records/s, ETA 1m 00s\n', 'seekdata: printing done: 250,000 records in 20 s, 12.5K records/s\n']);
    // A task that printed nothing closes silently.
    out.length = 0;
    const quiet = reporter.task('quick', { unit: 'reads' });
    t = 31_000;
    quiet.update(5);
    quiet.done();
    expect(out).toEqual([]);
  });

  it('on a terminal: a bar redrawn in place, at most every 100 ms, ended by a newline', () => {
    const out: string[] = [];
    let t = 0;
    const reporter = new ProgressReporter({ write: (s: string) => out.push(s) }, { tty: true, intervalMs: 0, now: () => t });
    const task = reporter.task('indexing', { unit: 'bytes', total: 100e6 });
    t = 5000;
    task.update(50e6);
    t = 5050;
    task.update(51e6); // within 100 ms: not redrawn
    t = 10_000;
    task.update(100e6);
    task.done();
    expect(out).toEqual([
      `\rindexing [${'#'.repeat(15)}${'.'.repeat(15)}] 50% 50.0/100.0 MB, 10.0 MB/s, ETA 5 s\x1b[K`,
      `\rindexing [${'#'.repeat(30)}] 100% 100.0/100.0 MB, 10.0 MB/s\x1b[K`,
      `\rindexing [${'#'.repeat(30)}] 100% 100.0/100.0 MB, 10.0 MB/s\x1b[K\n`,
    ]);
    expect([duration(7.4), duration(65), duration(7260)]).toEqual(['7 s', '1m 05s', '2h 01m']);
  });

  it('indexing off a terminal prints plain lines to stderr (never the file name), none with -q; --json keeps them', async () => {
    const logged = await run(['index', bz, '--rebuild', '--json'], { seconds: '0.001' });
    expect(logged.code, logged.stderr.text).toBe(0);
    expect(JSON.parse(logged.stdout.text)).toMatchObject({ format: 'bzip2', size: text.length });
    const lines = logged.stderr.text.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines.slice(0, -1)) expect(line).toMatch(/^seekdata: indexing \d+% [\d.]+\/[\d.]+ MB(, [\d.]+ MB\/s)?(, ETA [^,]+)?(, [\d.]+ MB decoded)?$/);
    expect(lines[lines.length - 1]).toMatch(/^seekdata: indexing done: [\d.]+ MB in \d+ s/);
    expect(logged.stderr.text).not.toContain('secret-token');
    expect(logged.stderr.text).not.toContain('\r');
    const quiet = await run(['index', bz, '--rebuild', '-q'], { seconds: '0.001' });
    expect(quiet.code).toBe(0);
    expect(quiet.stderr.text).toBe('');
    const off = await run(['index', bz, '--rebuild'], { seconds: '0' });
    expect(off.stderr.text).toBe('');
    const bad = await run(['index', bz], { seconds: 'soon' });
    expect(bad.code).toBe(0);
    expect(bad.stderr.text).toBe('seekdata: warning: SEEKDATA_PROGRESS_SECONDS must be a number of seconds (0: no progress lines), got "soon"; using 5\n');
  });

  it('on a terminal --json keeps the bar on stderr; stdout stays pure JSON', async () => {
    const out = await run(['index', bz, '--rebuild', '--json'], { stderrTty: true });
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout.text)).toMatchObject({ format: 'bzip2' });
    expect(out.stderr.text).toContain('indexing [');
    expect(out.stderr.text.endsWith('\n')).toBe(true);
  });

  it('cat shows progress while its output is redirected, none when its output is on the terminal', async () => {
    await cli('index', bz);
    const redirected = await run(['cat', bz], { stderrTty: true });
    expect(Buffer.concat(redirected.stdout.chunks).equals(text)).toBe(true);
    expect(redirected.stderr.text).toMatch(/\rcat \[#+\] 100% 0\.7\/0\.7 MB/);
    const onScreen = await run(['cat', bz], { stderrTty: true, stdoutTty: true });
    expect(Buffer.concat(onScreen.stdout.chunks).equals(text)).toBe(true);
    expect(onScreen.stderr.text).toBe('');
  });

  it('sample and records report the records they print', async () => {
    await cli('index', bz, '--records', 'lines');
    const sample = await run(['sample', bz, '--batch-size', '100', '--indices'], { stderrTty: true });
    expect(sample.code, sample.stderr.text).toBe(0);
    const count = text.toString().split('\n').length - 1;
    expect(sample.stderr.text).toContain(`sampling [${'#'.repeat(30)}] 100% ${count.toLocaleString('en-US')}/${count.toLocaleString('en-US')} records`);
    const records = await run(['records', bz, '--from', '10', '--count', '5000'], { stderrTty: true });
    expect(records.stderr.text).toContain('printing [##############################] 100% 5,000/5,000 records');
  });

  it('a failing command ends a drawn bar before its one-line message', async () => {
    const whole = bzip2(text, 1);
    const cut = writeFixture(tmp.dir, 'cut.csv.bz2', whole.subarray(0, Math.floor(whole.length * 0.7)));
    const out = await run(['cat', cut, '--no-index'], { stderrTty: true });
    expect(out.code).toBe(1);
    expect(out.stderr.text).toContain('\rcat [');
    const last = out.stderr.text.trimEnd().split('\n').pop() ?? '';
    expect(last).toMatch(/^seekdata: .*cut\.csv\.bz2/);
  });

  it('a real process without a terminal (CI, nohup) writes progress lines to stderr', async () => {
    const main = new URL('../src/cli/main.ts', import.meta.url).pathname;
    const fresh = writeFixture(tmp.dir, 'process.csv.bz2', bzip2(text, 1));
    const child = await runTsx([main, 'index', fresh], { ...process.env, SEEKDATA_PROGRESS_SECONDS: '0.001' });
    expect(child.code, child.stderr).toBe(0);
    expect(child.stderr).toMatch(/^seekdata: indexing \d+% /m);
    expect(child.stderr).toMatch(/^seekdata: indexing done: /m);
    expect(child.stdout.toString()).toMatch(/bzip2, \d+ chunks/);
  });
});

describe('stats table', () => {
  it('numbers formatted alike, text columns with their top values and counts, not "count 0"', async () => {
    // An independent truth: the counts below are computed from the rows written.
    const colors = ['red', 'red', 'blue', 'red', 'green', 'blue', 'red', 'New York', 'blue', 'red', 'red', 'green'];
    const rows = colors.map((c, i) => `${i},${(i * 1234.5).toFixed(1)},${c},${i % 3 === 0 ? '' : 'x'},`);
    const csv = writeFixture(tmp.dir, 'colors.csv', Buffer.from(`id,amount,color,maybe,empty\n${rows.join('\n')}\n`));
    const out = await cli('stats', csv, '--records', 'csv');
    expect(out.code, out.stderr).toBe(0);
    const lines = out.stdout.toString().split('\n');
    expect(lines[0]).toBe(`${csv}: 12 records`);
    const cells = (name: string): string[] => (lines.find((l) => l.startsWith(`${name} `)) ?? '').trim().split(/ {2,}/);
    expect(lines.some((l) => l.startsWith('numeric column'))).toBe(true);
    expect(lines.some((l) => l.startsWith('text column'))).toBe(true);
    expect(cells('id')).toEqual(['id', '12', '0', '0', '0', '11', '5.5', '3.45205']);
    expect(cells('amount')).toEqual(['amount', '12', '0', '0', '0', '13,579.5', '6,789.75', '4,261.56']);
    const counted = new Map<string, number>();
    for (const c of colors) counted.set(c, (counted.get(c) ?? 0) + 1);
    const top = [...counted].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([v, n]) => `${v.includes(' ') ? JSON.stringify(v) : v} (${n})`);
    expect(cells('color')).toEqual(['color', '12', '0', '4', top.join(', ')]);
    expect(cells('maybe')).toEqual(['maybe', '8', '4', '1', 'x (8)']);
    expect(cells('empty')).toEqual(['empty', '0', '12', '0', '(all missing)']);
    expect(out.stdout.toString()).not.toMatch(/^color\s+0\s/m);
    // --json keeps the raw statistics.
    const json = JSON.parse((await cli('stats', csv, '--json')).stdout.toString()) as { columns: Array<{ name: string; categories: unknown }> };
    expect(json.columns.find((c) => c.name === 'color')?.categories).toEqual([...counted].map(([value, count]) => ({ value, count })).sort((a, b) => (a.value < b.value ? -1 : 1)));
  });
});
