/**
 * Test fixtures generated at run time: deterministic text, compressed with the real bzip2 and xz
 * commands, and a local HTTP server with Range support. Not a test file: test files import it.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';

/**
 * Points $SEEKDATA_CACHE_DIR at `dir` for the test file (beforeAll) and puts the old value back after it
 * (afterAll), so indexes that go to the cache directory stay inside the test's temporary directory.
 */
export function useCacheDir(dir: string): void {
  const saved = process.env.SEEKDATA_CACHE_DIR;
  beforeAll(() => {
    process.env.SEEKDATA_CACHE_DIR = dir;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.SEEKDATA_CACHE_DIR;
    else process.env.SEEKDATA_CACHE_DIR = saved;
  });
}

export function tempDir(prefix = 'seekdata-test-'): { dir: string; cleanup: () => void; sub: (name?: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let subs = 0;
  return {
    dir,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
    /** A new directory inside it (name-N, N counting up), for a test's files of their own. */
    sub: (name = 'd') => {
      const path = join(dir, `${name}-${subs++}`);
      mkdirSync(path, { recursive: true });
      return path;
    },
  };
}

/** A seeded PRNG for fixtures. */
export { mulberry32 as prng } from '../../src/datasets/permutation.js';
import { mulberry32 as prng } from '../../src/datasets/permutation.js';

/** CSV-like text of about `bytes` bytes: varied lines, some non-ASCII, compressible but not trivially. */
export function makeText(bytes: number, seed = 1, finalNewline = true): Buffer {
  const rand = prng(seed);
  const words = ['alpha', 'beta', 'gamma', 'delta', 'épsilon', 'zeta', 'ηta', 'theta', '東京', 'kappa', 'lambda'];
  const parts: string[] = [];
  let size = 0;
  let i = 0;
  while (size < bytes) {
    const n = 1 + Math.floor(rand() * 12);
    const fields = [String(i++), (rand() * 1000).toFixed(3)];
    for (let k = 0; k < n; k++) fields.push(words[Math.floor(rand() * words.length)]);
    const line = fields.join(',') + '\n';
    parts.push(line);
    size += Buffer.byteLength(line);
  }
  let text = Buffer.from(parts.join(''));
  text = text.subarray(0, Math.max(0, bytes));
  if (finalNewline && text.length > 0) text[text.length - 1] = 0x0a;
  if (!finalNewline && text.length > 0 && text[text.length - 1] === 0x0a) text[text.length - 1] = 0x78;
  return text;
}

export function run(command: string, args: string[], input?: Uint8Array): Buffer {
  const result = spawnSync(command, args, { input, maxBuffer: 1 << 30 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr.toString()}`);
  return result.stdout;
}

export const bzip2 = (data: Uint8Array, level = 9): Buffer => run('bzip2', [`-${level}`, '-c'], data);
export const xz = (data: Uint8Array, ...args: string[]): Buffer => run('xz', ['-c', ...args], data);

/** Typed arrays of one kind joined into one (what Parts.done gives, for comparisons). */
export function concatTyped<T extends Uint32Array | Float64Array>(parts: readonly T[], make: (n: number) => T): T {
  const out = make(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * CSV with a time column (time,sensor,x, and y with `y`): in order, or with records out of order and
 * unparsable times (`disorder`). The same records for the same arguments.
 */
export function timedCsv(records: number, seed: number, disorder: boolean, y = false): Buffer {
  const rand = prng(seed);
  const lines = [y ? 'time,sensor,x,y' : 'time,sensor,x'];
  const base = Date.UTC(2024, 0, 1);
  for (let r = 0; r < records; r++) {
    let t = new Date(base + r * 1000 + Math.floor(rand() * 900)).toISOString();
    if (disorder && rand() < 0.05) t = new Date(base + Math.floor(rand() * records) * 1000).toISOString();
    if (disorder && rand() < 0.01) t = 'not a time';
    const row = `${t},${'abcdefgh'[Math.floor(rand() * 8)]},${(rand() * 100).toFixed(3)}`;
    lines.push(y ? `${row},${Math.floor(rand() * 1000)}` : row);
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

export function writeFixture(dir: string, name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** The mtime `datedFixture` and `damageInPlace` give a file (whole seconds: it is set again exactly). */
const FIXED_MTIME = new Date('2025-01-01T00:00:00Z');

/** `writeFixture` with a fixed mtime, which `damageInPlace` sets again (an index of it stays fresh). */
export function datedFixture(dir: string, name: string, bytes: Uint8Array): string {
  const path = writeFixture(dir, name, bytes);
  utimesSync(path, FIXED_MTIME, FIXED_MTIME);
  return path;
}

/** Flips a byte of a `datedFixture` in place, keeping its size and mtime (the index stays fresh). */
export function damageInPlace(path: string, at: number): void {
  const bytes = readFileSync(path);
  bytes[at] ^= 0x55;
  writeFileSync(path, bytes);
  utimesSync(path, FIXED_MTIME, FIXED_MTIME);
}

/** The shared conformance corpus, or undefined when this checkout has none beside it. */
export function corpusDir(): string | undefined {
  const dir = process.env.SEEKDATA_CORPUS ?? resolve(fileURLToPath(new URL('../../../shared/corpus', import.meta.url)));
  try {
    readFileSync(join(dir, 'README.md'));
    return dir;
  } catch {
    return undefined;
  }
}

export interface RangeServer {
  url: (name: string) => string;
  close: () => Promise<void>;
  requests: number;
  /** Body bytes sent so far (for a `norange/` answer: the bytes written before the client closed it). */
  bytes: number;
  /** Answers whose connection closed before their body was all sent. */
  cutShort: number;
  /** Request headers of every request, in order. */
  seen: Array<Record<string, string | string[] | undefined>>;
  /** Replaces a file's bytes (a new version: its ETag and Last-Modified change). */
  replace: (name: string, bytes: Uint8Array) => void;
}

/**
 * How a URL prefix makes the server answer (the file is the rest of the path). Requests for `bytes=0-0`
 * (what an HttpSource sends when it opens) are answered honestly in every mode but `norange/`, so a source
 * opens and meets the lie on its reads.
 */
const MODES = [
  'norange', // 200 and the whole body to every request, written in pieces as the client takes them
  'short', // 206 with one byte less than the range (and a Content-Length that says so)
  'badrange', // 206 with a Content-Range (and bytes) one byte later than asked
  'badtotal', // 206 with a total one byte larger than the file
  'whole', // 200 and the whole body to reads (same ETag)
  'long', // 206 with the right headers but more bytes than asked (chunked encoding)
  'gzip', // 206 with Content-Encoding: gzip
  'drop', // 206, half the body, then the connection is destroyed
  'stall', // 206, half the body, then nothing (the connection stays open)
  'noconditional', // ignores If-Match / If-Range / If-Unmodified-Since
  'ifrange', // honours If-Range (a changed file gets a 200 and the whole body) but ignores If-Match
  'weak', // weak ETags (W/"v1") and Last-Modified; honours If-Unmodified-Since
] as const;
type Mode = (typeof MODES)[number];

/**
 * Serves files from memory with Range support, ETags (`"v1"`, `"v2"` after `replace`), Last-Modified, and
 * If-Match / If-Range / If-Unmodified-Since, as a conforming server does; the prefixes in MODES make it lie.
 */
export async function startRangeServer(files: Record<string, Uint8Array>): Promise<RangeServer> {
  const state = { requests: 0, bytes: 0, cutShort: 0 };
  const seen: RangeServer['seen'] = [];
  const versions = new Map<string, number>();
  const stalled = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    state.requests++;
    seen.push({ ...req.headers });
    const path = decodeURIComponent((req.url ?? '/').slice(1).replace(/\?.*$/, ''));
    const prefix = /^([a-z]+)\//.exec(path)?.[1];
    const mode = (MODES as readonly string[]).includes(prefix ?? '') ? (prefix as Mode) : undefined;
    const name = mode === undefined ? path : path.slice(mode.length + 1);
    const body = files[name];
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    const version = versions.get(name) ?? 1;
    const etag = mode === 'weak' ? `W/"v${version}"` : `"v${version}"`;
    const lastModified = new Date(Date.UTC(2024, 0, 1) + version * 1000).toUTCString();
    const validators = { etag, 'last-modified': lastModified };
    const range = /^bytes=(\d+)-(\d+)?$/.exec(req.headers.range ?? '');
    const opening = req.headers.range === 'bytes=0-0';
    const whole = (): void => {
      res.writeHead(200, { 'content-length': body.length, ...validators });
      writeInPieces(res, body, (n) => (state.bytes += n), () => state.cutShort++);
    };
    if (range === null || mode === 'norange' || (mode === 'whole' && !opening)) return whole();
    if (mode !== 'noconditional' && mode !== 'ifrange') {
      const ifMatch = req.headers['if-match'];
      const ifUnmodified = req.headers['if-unmodified-since'];
      const failed =
        (ifMatch !== undefined && ifMatch !== '*' && !ifMatch.split(/\s*,\s*/).includes(etag)) ||
        (ifUnmodified !== undefined && Date.parse(lastModified) > Date.parse(ifUnmodified));
      if (failed) {
        res.writeHead(412, validators).end();
        return;
      }
    }
    const ifRange = req.headers['if-range'];
    if (mode !== 'noconditional' && ifRange !== undefined && ifRange !== etag) return whole();
    const start = Number(range[1]);
    const end = Math.min(body.length - 1, range[2] === undefined ? body.length - 1 : Number(range[2]));
    if (start >= body.length) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}`, ...validators }).end();
      return;
    }
    const lie = opening ? undefined : mode;
    const shift = lie === 'badrange' && end + 1 < body.length ? 1 : 0;
    let slice = body.subarray(start + shift, end + 1 + shift);
    if (mode === 'short' && slice.length > 1) slice = slice.subarray(0, slice.length - 1);
    const total = lie === 'badtotal' ? body.length + 1 : body.length;
    const headers: Record<string, string | number> = { 'content-range': `bytes ${start + shift}-${end + shift}/${total}`, ...validators };
    if (lie === 'long') {
      res.writeHead(206, headers);
      res.write(Buffer.from(slice));
      res.end(Buffer.from('and some more bytes'));
      return;
    }
    if (lie === 'gzip') {
      const packed = gzipSync(slice);
      res.writeHead(206, { ...headers, 'content-encoding': 'gzip', 'content-length': packed.length }).end(packed);
      return;
    }
    res.writeHead(206, { ...headers, 'content-length': slice.length });
    state.bytes += slice.length;
    if (lie === 'drop' || lie === 'stall') {
      res.write(Buffer.from(slice.subarray(0, slice.length >> 1)));
      if (lie === 'drop') setTimeout(() => res.socket?.destroy(), 20);
      else stalled.add(res);
      return;
    }
    res.end(Buffer.from(slice));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: (name) => `http://127.0.0.1:${port}/${name}`,
    close: () => {
      for (const res of stalled) res.socket?.destroy();
      server.closeAllConnections();
      return new Promise<void>((ok) => server.close(() => ok()));
    },
    replace: (name, bytes) => {
      files[name] = bytes;
      versions.set(name, (versions.get(name) ?? 1) + 1);
    },
    seen,
    get requests() {
      return state.requests;
    },
    get bytes() {
      return state.bytes;
    },
    get cutShort() {
      return state.cutShort;
    },
  };
}

/** Writes a body in 64 KiB pieces, each when the client has taken the last (so a client that hangs up stops it). */
function writeInPieces(res: ServerResponse, body: Uint8Array, sent: (n: number) => void, cut: () => void): void {
  let at = 0;
  let done = false;
  res.on('close', () => {
    if (!done) cut();
  });
  const next = (): void => {
    while (at < body.length && !res.destroyed) {
      const piece = body.subarray(at, Math.min(body.length, at + (64 << 10)));
      at += piece.length;
      sent(piece.length);
      if (!res.write(Buffer.from(piece))) {
        res.once('drain', next);
        return;
      }
    }
    if (at >= body.length && !res.destroyed) {
      done = true;
      res.end();
    }
  };
  next();
}

/**
 * A CSV text's records (after its header line), from its newlines: each record's start, a record's bytes
 * without its newline, and the first record starting at or after an offset (-1: none).
 */
export function csvLines(text: Buffer): { starts: number[]; bytes: (r: number) => Buffer; from: (offset: number) => number } {
  const starts: number[] = [];
  for (let at = text.indexOf(0x0a) + 1; at > 0 && at < text.length; at = text.indexOf(0x0a, at) + 1) starts.push(at);
  return {
    starts,
    bytes: (r) => text.subarray(starts[r], (r + 1 < starts.length ? starts[r + 1] : text.length) - 1),
    from: (offset) => starts.findIndex((s) => s >= offset),
  };
}
