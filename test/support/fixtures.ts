/**
 * Test fixtures generated at run time: deterministic text, compressed with the real bzip2 and xz
 * commands, and a local HTTP server with Range support. Not a test file: test files import it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export function tempDir(prefix = 'seekdata-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
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

export function writeFixture(dir: string, name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
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
  /** Body bytes sent so far. */
  bytes: number;
}

/** Serves files from memory with Range support (and, for name "norange/...", without it). */
export async function startRangeServer(files: Record<string, Uint8Array>): Promise<RangeServer> {
  const state = { requests: 0, bytes: 0 };
  const server: Server = createServer((req, res) => {
    state.requests++;
    const name = decodeURIComponent((req.url ?? '/').slice(1));
    const noRange = name.startsWith('norange/');
    const short = name.startsWith('short/');
    const body = files[name.replace(/^(norange|short)\//, '')];
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    const range = /^bytes=(\d+)-(\d+)?$/.exec(req.headers.range ?? '');
    if (range === null || noRange) {
      res.writeHead(200, { 'content-length': body.length, etag: '"v1"' }).end(Buffer.from(body));
      return;
    }
    const start = Number(range[1]);
    const end = Math.min(body.length - 1, range[2] === undefined ? body.length - 1 : Number(range[2]));
    if (start >= body.length) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      return;
    }
    let slice = body.subarray(start, end + 1);
    if (short && slice.length > 1) slice = slice.subarray(0, slice.length - 1);
    res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${body.length}`, 'content-length': slice.length, etag: '"v1"' });
    state.bytes += slice.length;
    res.end(Buffer.from(slice));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: (name) => `http://127.0.0.1:${port}/${name}`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
    get requests() {
      return state.requests;
    },
    get bytes() {
      return state.bytes;
    },
  };
}
