/**
 * Issue 13 item 1: secrets stay secret. A URL carrying credentials and a presigned query string, and
 * request headers carrying tokens, are used on every output path — errors at open and mid-read (their
 * messages, causes and stacks), warnings, `info`, the index file's bytes, the cache file's name, and the
 * CLI's stdout and stderr (progress lines included) — and no secret may appear in any of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { runCli } from '../src/cli/main.js';
import { HttpSource, openIndexed, openReader, redactUrl } from '../src/index.js';
import { SecretScrubber } from '../src/sources/redact.js';
import { bzip2, startRangeServer, tempDir, type RangeServer } from './support/fixtures.js';

const QUERY = 'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDSECRET%2F20240101&X-Amz-Signature=SIGSECRET123';
const USER = 'aliceSECRET';
const PASSWORD = 'pa55w0rdSECRET';
const HEADERS = { Authorization: 'Bearer TOKENSECRET', Cookie: 'session=COOKIESECRET' };
const BASIC = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');

/** Every secret above contains "SECRET"; the Basic credentials made from user and password do not. */
function expectClean(text: string): void {
  expect(text).not.toContain('SECRET');
  expect(text).not.toContain(BASIC);
  expect(text).not.toContain('X-Amz');
}

const rows = ['ts,value,label', ...Array.from({ length: 40_000 }, (_, i) => `2024-01-01T00:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z,${(i * 37) % 1000},${i % 3 === 0 ? 'up' : 'down'}`)];
const csv = Buffer.from(rows.join('\n') + '\n');
const compressed = bzip2(csv, 1);
let server: RangeServer;
const cache = tempDir('seekdata-secrets-cache-');
const tmp = tempDir('seekdata-secrets-');

/** The server's URL for `name`, with credentials and a presigned query string. */
function secretUrl(name: string, query = QUERY): string {
  const url = new URL(server.url(name));
  url.username = USER;
  url.password = PASSWORD;
  return `${url.href}?${query}`;
}

beforeAll(async () => {
  process.env.SEEKDATA_CACHE_DIR = cache.dir;
  server = await startRangeServer({ 'ticks.csv.bz2': compressed });
});
afterAll(async () => {
  delete process.env.SEEKDATA_CACHE_DIR;
  await server.close();
  cache.cleanup();
  tmp.cleanup();
});

async function failure(promise: Promise<unknown>): Promise<Error & { code: string; file?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code: string; file?: string };
  }
  throw new Error('expected a rejection');
}

/** The error as a user would see it logged: message, stack, and the whole chain of causes. */
function shown(error: Error): string {
  return `${error.message}\n${inspect(error, { depth: 10 })}\n${JSON.stringify(error)}`;
}

class Capture extends Writable {
  text = '';
  isTTY: boolean;
  constructor(tty = false) {
    super();
    this.isTTY = tty;
  }
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture(true); // a terminal: progress lines are drawn too
  const code = await runCli(argv, { stdout, stderr });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('redactUrl', () => {
  it.each([
    ['https://bucket.s3.amazonaws.com/a/b.csv?X-Amz-Signature=abc&X-Amz-Credential=k', 'https://bucket.s3.amazonaws.com/a/b.csv?…redacted'],
    ['https://user:pass@example.org:8443/x.csv.bz2', 'https://…redacted@example.org:8443/x.csv.bz2'],
    ['https://TOKEN@github.com/o/r/raw/x.csv', 'https://…redacted@github.com/o/r/raw/x.csv'],
    ['https://account.blob.core.windows.net/c/x.xz?sv=2020&sig=abc#frag', 'https://account.blob.core.windows.net/c/x.xz?…redacted#…redacted'],
    ['http://example.org/plain.csv', 'http://example.org/plain.csv'],
    ['http://exa mple.org:99999/x?sig=abc', 'http://exa mple.org:99999/x?…redacted'],
    ['ftp://u:p@host/x?y', 'ftp://…redacted@host/x?…redacted'],
  ])('%s → %s', (url, redacted) => {
    expect(redactUrl(url)).toBe(redacted);
  });
});

describe('SecretScrubber (for text seekdata did not write: the messages of network errors)', () => {
  it('scrubs the URL, its query values, credentials and header values out of an error and its causes', () => {
    const raw = `https://${USER}:${PASSWORD}@example.org/x.csv?${QUERY}`;
    const scrubber = new SecretScrubber(raw, new URL(raw), Object.values(HEADERS));
    const inner = Object.assign(new Error(`upstream said: bad signature SIGSECRET123 for ${PASSWORD}`), { code: 'EUPSTREAM' });
    const outer = new TypeError(`Failed to fetch ${raw} with Bearer TOKENSECRET`, { cause: inner });
    const clean = scrubber.scrubError(outer) as Error & { cause: Error & { code: string } };
    expectClean(shown(clean));
    expect(clean).toBeInstanceOf(Error);
    expect(clean.name).toBe('TypeError');
    expect(clean.message).toBe('Failed to fetch …redacted with …redacted');
    expect(clean.cause.message).toBe('upstream said: bad signature …redacted for …redacted');
    expect(clean.cause.code).toBe('EUPSTREAM');
    const harmless = new Error('connect ECONNREFUSED 127.0.0.1:1');
    expect(scrubber.scrubError(harmless)).toBe(harmless); // nothing to hide: the original, stack and all
    expect(scrubber.scrub('AKIDSECRET/20240101')).toBe('…redacted');
  });
});

describe('the library never shows a secret', () => {
  it('the source is named by its redacted URL; credentials still reach the server (as Basic authorization)', async () => {
    const source = await HttpSource.open(secretUrl('ticks.csv.bz2'), { headers: HEADERS });
    expect(source.name).toBe(`${server.url('ticks.csv.bz2').replace('http://', 'http://…redacted@')}?…redacted`);
    expectClean(`${source.name} ${inspect(source, { depth: 10, showHidden: true })} ${JSON.stringify(source)}`);
    const sent = server.seen[server.seen.length - 1];
    expect(sent.authorization).toBe('Bearer TOKENSECRET'); // an explicit Authorization header wins
    await source.close();
    await HttpSource.open(secretUrl('ticks.csv.bz2'));
    expect(server.seen[server.seen.length - 1].authorization).toBe(`Basic ${BASIC}`);
  });

  it('errors at open: refused connection, 404, a socket destroyed at once, an invalid URL', async () => {
    const closed = createServer();
    await new Promise<void>((ok) => closed.listen(0, '127.0.0.1', ok));
    const address = closed.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    await new Promise<void>((ok) => closed.close(() => ok()));
    const rude = createServer((req) => req.socket.destroy());
    await new Promise<void>((ok) => rude.listen(0, '127.0.0.1', ok));
    const rudeAddress = rude.address();
    const rudePort = typeof rudeAddress === 'object' && rudeAddress !== null ? rudeAddress.port : 0;
    try {
      const cases: Array<[string, string]> = [
        [`http://${USER}:${PASSWORD}@127.0.0.1:${port}/x.csv?${QUERY}`, 'SOURCE_ERROR'],
        [secretUrl('missing.csv.bz2'), 'NOT_FOUND'],
        [`http://127.0.0.1:${rudePort}/x.csv?${QUERY}`, 'SOURCE_ERROR'],
        [`http://exa mple.org/x.csv?${QUERY}`, 'INVALID_OPTION'],
      ];
      for (const [url, code] of cases) {
        const error = await failure(openReader(url, { headers: HEADERS, index: false }));
        expect(error.code).toBe(code);
        expect(error.message).toContain('?…redacted');
        expectClean(shown(error));
      }
    } finally {
      await new Promise<void>((ok) => rude.close(() => ok()));
    }
  });

  it('errors mid-read: a dropped connection and a changed object', async () => {
    const dropped = await failure(openReader(secretUrl('drop/ticks.csv.bz2'), { headers: HEADERS, index: false }));
    expect(dropped.code).toBe('SOURCE_ERROR');
    expectClean(shown(dropped));
    const local = await startRangeServer({ 'x.bin': new Uint8Array(10_000) });
    try {
      const source = await HttpSource.open(`${local.url('x.bin')}?${QUERY}`, { headers: HEADERS });
      local.replace('x.bin', new Uint8Array(10_000).fill(1));
      const stale = await failure(source.read(10, 10));
      expect(stale.code).toBe('STALE_SOURCE');
      expect(stale.message).toContain(`${local.url('x.bin')}?…redacted`);
      expectClean(shown(stale));
    } finally {
      await local.close();
    }
  });

  it('the index file and its cache name hold no secret; a re-signed URL finds the same index; a stale-index warning is clean', async () => {
    const built = await openIndexed(secretUrl('ticks.csv.bz2'), { headers: HEADERS, records: 'csv', timeColumn: 'ts' });
    expect(built.report.status).toBe('built');
    const info = built.info();
    await built.close();
    expectClean(JSON.stringify(info));
    const names = readdirSync(cache.dir).filter((f) => f.endsWith('.sdx'));
    expect(names).toHaveLength(1);
    expectClean(names.join());
    const bytes = readFileSync(join(cache.dir, names[0]));
    // The metadata is stored as readable JSON: the redacted source is there to be seen, the secrets are not.
    expect(bytes.includes(Buffer.from(`127.0.0.1:${new URL(server.url('x')).port}/ticks.csv.bz2?…redacted`))).toBe(true);
    expectClean(bytes.toString('latin1'));
    expectClean(bytes.toString('utf8'));

    const resigned = await openIndexed(secretUrl('ticks.csv.bz2', 'X-Amz-Signature=OTHERSIGNATURE'), { records: 'csv', timeColumn: 'ts' });
    expect(resigned.report.status).toBe('loaded');
    await resigned.close();
    expect(readdirSync(cache.dir).filter((f) => f.endsWith('.sdx'))).toEqual(names);

    const local = await startRangeServer({ 'ticks.csv.bz2': compressed });
    const warnings: string[] = [];
    try {
      // Same host and path on another server (port): not the same cache key, so build, then change it.
      const url = `${local.url('ticks.csv.bz2')}?${QUERY}`;
      await (await openReader(url, { headers: HEADERS })).close();
      local.replace('ticks.csv.bz2', bzip2(Buffer.from(rows.slice(0, 20_000).join('\n') + '\n'), 1));
      const reader = await openReader(url, { headers: HEADERS, onWarning: (m) => warnings.push(m) });
      expect(reader.indexStatus).toBe('rebuilt');
      await reader.close();
    } finally {
      await local.close();
    }
    expect(warnings.join('\n')).toMatch(/index is stale for .*\?…redacted/);
    expectClean(warnings.join('\n'));
  });
});

describe('the CLI never shows a secret', () => {
  it('the issue\'s example: read on a port nothing listens on', async () => {
    const out = await cli(['read', 'http://127.0.0.1:1/x.csv?X-Amz-Signature=SECRET123', '--offset', '0', '--length', '5']);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/^seekdata: http:\/\/127\.0\.0\.1:1\/x\.csv\?…redacted: bytes 0-0: request failed/);
    expectClean(out.stdout + out.stderr);
  });

  it('index, info, info --json, read, records, range, stats, export: stdout, stderr and progress lines', async () => {
    const url = secretUrl('ticks.csv.bz2', `${QUERY}&cli=1`);
    const arrow = join(tmp.dir, 'out.arrow');
    const runs: Array<[string[], RegExp]> = [
      [['index', url, '--records', 'csv', '--time-column', 'ts', '--rebuild'], /40000 records/],
      [['info', url], /file\s+http:\/\/…redacted@127\.0\.0\.1:\d+\/ticks\.csv\.bz2\?…redacted/],
      [['info', url, '--json'], /"file": "http:\/\/…redacted@127\.0\.0\.1:\d+\/ticks\.csv\.bz2\?…redacted"/],
      [['index', url, '--json'], /"file"/],
      [['read', url, '--offset', '0', '--length', '14'], /^ts,value,label$/],
      [['records', url, '--from', '5', '--count', '2'], /,/],
      [['range', url, '--from', '2024-01-01T00:01:00Z', '--to', '2024-01-01T00:01:05Z'], /00:01:04Z/],
      [['stats', url, '--json'], /"file": "http:\/\/…redacted@/],
      [['export', url, '--from', '2024-01-01', '--to', '2024-01-02', '--arrow', arrow, '--json'], /"file": "http:\/\/…redacted@/],
    ];
    for (const [argv, expected] of runs) {
      const out = await cli(argv);
      expect(out.code, `${argv[0]}: ${out.stderr}`).toBe(0);
      expect(out.stdout).toMatch(expected);
      expectClean(out.stdout + out.stderr);
    }
    const progress = await cli(['index', url, '--records', 'csv', '--time-column', 'ts', '--rebuild']);
    expect(progress.stderr).toContain('indexing ['); // progress was drawn, and is clean
    expectClean(progress.stderr);
  });

  it('failures mid-read, and their stack traces with SEEKDATA_DEBUG=1', async () => {
    process.env.SEEKDATA_DEBUG = '1';
    try {
      for (const argv of [
        ['cat', secretUrl('drop/ticks.csv.bz2'), '--no-index'],
        ['read', secretUrl('whole/ticks.csv.bz2'), '--offset', '0', '--length', '10', '--no-index'],
        ['info', secretUrl('badrange/ticks.csv.bz2'), '--no-index'],
        ['info', secretUrl('norange/ticks.csv.bz2')],
      ]) {
        const out = await cli(argv);
        expect(out.code, argv.join(' ')).toBe(1);
        expect(out.stderr).toContain('?…redacted');
        expectClean(out.stdout + out.stderr);
      }
    } finally {
      delete process.env.SEEKDATA_DEBUG;
    }
  });
});
