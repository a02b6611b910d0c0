/**
 * `seekdata recompress IN OUT`: the format from OUT's name or --format, --unit-mb and --level reach the
 * output (as the standard tools see it), a summary on stdout (--json: the numbers), an existing OUT kept
 * unless --force, a progress bar on a terminal (none with -q), and usage errors
 * (exit 2, nothing written) for a name without a known ending, a bad --format, --level out of the
 * format's range, --unit-mb out of range, and OUT == IN.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { closeSharedPool } from '../src/index.js';
import { runCli } from '../src/cli/main.js';
import { Capture, cli } from './support/cli.js';
import { makeText, tempDir, writeFixture } from './support/fixtures.js';
import { toolDecode, toolTest, xzBlocks, zstdListing } from './support/recompress-tools.js';

const tmp = tempDir('seekdata-recompress-cli-');

/** A stream that keeps what is written and says it is a terminal. */
class Terminal extends Writable {
  readonly isTTY = true;
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** `seekdata ...args` with stderr on a "terminal" (progress is drawn as a bar there). */
async function runWithTerminal(args: string[]): Promise<{ code: number; stderr: string }> {
  const stderr = new Terminal();
  const code = await runCli(args, { stdout: new Capture(), stderr });
  return { code, stderr: stderr.text };
}
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

const text = makeText(2_300_000, 41);
const input = writeFixture(tmp.dir, 'in.csv', text);

describe('seekdata recompress', () => {
  it('takes the format from the name; prints a summary', async () => {
    const out = await cli('recompress', input, join(tmp.dir, 'a.csv.zst'), '-p', '2');
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout.toString()).toMatch(/a\.csv\.zst: zstd level 3, 3 unit\(s\) of 1 MiB, 2\.3 MB -> [\d.]+ [kM]B \(ratio [\d.]+\) in [\d.]+ s\n$/);
    toolTest('zstd', join(tmp.dir, 'a.csv.zst'));
    expect(zstdListing(join(tmp.dir, 'a.csv.zst'))).toMatch(/# Zstandard Frames: 3\b/);
    expect(toolDecode('zstd', join(tmp.dir, 'a.csv.zst')).equals(text)).toBe(true);
  });

  it('--format, --unit-mb and --level reach the output; --json', async () => {
    const path = join(tmp.dir, 'b.out');
    const out = await cli('recompress', input, path, '--format', 'xz', '--unit-mb', '2', '--level', '0', '--json');
    expect(out.code, out.stderr).toBe(0);
    const json = JSON.parse(out.stdout.toString()) as Record<string, unknown>;
    expect(json).toMatchObject({ output: path, format: 'xz', level: 0, unitBytes: 2 << 20, units: 2, decompressedBytes: text.length, compressedBytes: readFileSync(path).length });
    toolTest('xz', path);
    // Preset 0's dictionary (256 KiB) caps the block's.
    expect(xzBlocks(path).map((b) => [b.uncompressedSize, b.filters])).toEqual([
      [2 << 20, '--lzma2=dict=256KiB'],
      [text.length - (2 << 20), '--lzma2=dict=256KiB'],
    ]);
    expect(toolDecode('xz', path).equals(text)).toBe(true);
  });

  it.each([
    [['recompress', 'IN', 'c.dat'], /cannot tell the format from the name "[^"]*c\.dat"; give --format gzip\|zstd\|xz\|bzip2/],
    [['recompress', 'IN', 'c.gz', '--format', 'zstdd'], /--format must be gzip, zstd, xz or bzip2, got "zstdd"; did you mean zstd\?/],
    [['recompress', 'IN', 'c.zst', '--level', '23'], /--level must be an integer from 1 to 22 for zstd/],
    [['recompress', 'IN', 'c.bz2', '--level', '0'], /--level must be an integer from 1 to 9 for bzip2/],
    [['recompress', 'IN', 'c.gz', '--unit-mb', '0'], /--unit-mb must be at least 1, got 0/],
    [['recompress', 'IN', 'c.gz', '--unit-mb', '257'], /--unit-mb must be at most 256, got 257/],
    [['recompress', 'IN', 'IN', '--format', 'gzip'], /the output is the input file/],
    [['recompress', 'IN'], /missing argument \(usage: seekdata recompress IN OUT/],
  ])('usage error, nothing written: %j', async (args, message) => {
    const before = readdirSync(tmp.dir).sort();
    const out = await cli(...args.map((a) => (a === 'IN' ? input : a.startsWith('c.') ? join(tmp.dir, a) : a)));
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(message);
    expect(readdirSync(tmp.dir).sort()).toEqual(before);
  });

  it('a missing input is a runtime error (exit 1) naming it, and leaves nothing', async () => {
    const before = readdirSync(tmp.dir).sort();
    const out = await cli('recompress', join(tmp.dir, 'nope.csv'), join(tmp.dir, 'nope.csv.gz'));
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('nope.csv');
    expect(readdirSync(tmp.dir).sort()).toEqual(before);
  });

  it('an existing OUT is an error (exit 1, naming it, kept as it was) unless --force', async () => {
    const path = writeFixture(tmp.dir, 'exists.csv.gz', Buffer.from('old contents'));
    const refused = await cli('recompress', input, path);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${path}: the output exists`);
    expect(refused.stderr).toContain('--force');
    expect(readFileSync(path, 'utf8')).toBe('old contents');
    const forced = await cli('recompress', input, path, '--force', '-p', '1');
    expect(forced.code, forced.stderr).toBe(0);
    expect(toolDecode('gzip', path).equals(text)).toBe(true);
    expect(readdirSync(tmp.dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('shows progress on a terminal, none with -q', async () => {
    const path = join(tmp.dir, 'progress.csv.xz');
    const shown = await runWithTerminal(['recompress', input, path, '--level', '0']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stderr).toMatch(/\rrecompress \[#+\] 100% 2\.3\/2\.3 MB/);
    const quiet = await runWithTerminal(['recompress', input, path, '--level', '0', '--force', '-q']);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).toBe('');
  });

  it('is listed in the help', async () => {
    const out = await cli('--help');
    expect(out.stdout.toString()).toMatch(/^ {2}recompress {2}Write IN/m);
    expect(out.stdout.toString()).toMatch(/^ {2}index {7}Build/m);
    const help = await cli('help', 'recompress');
    expect(help.stdout.toString()).toContain('Usage: seekdata recompress IN OUT [--format gzip|zstd|xz|bzip2] [--unit-mb N] [--level L]');
  });
});
