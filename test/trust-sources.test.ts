/**
 * The byte sources under a hostile world: HTTP servers that lie about ranges, change the file between
 * requests, ignore Range, drop or stall connections; data "files" that are FIFOs, directories or devices;
 * Arrow files written where they cannot be. Each must end in the right bytes or a typed error naming the
 * file (and the range), never mixed bytes, a hang, or a download of a body that will be rejected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { constants, mkdirSync, openSync, closeSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Int32, Table, vectorFromArray } from 'apache-arrow';
import { FileSource, HttpSource, openReader, writeArrowFile } from '../src/index.js';
import { bzip2, makeText, prng, startRangeServer, tempDir, writeFixture, type RangeServer } from './support/fixtures.js';

const data = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7 + (i >> 8)) & 0xff);
const big = new Uint8Array(64 << 20);
const text = makeText(600_000, 5);
const compressed = bzip2(text, 1); // 100 kB blocks: several chunks
let server: RangeServer;
const tmp = tempDir('seekdata-trust-sources-');

beforeAll(async () => {
  server = await startRangeServer({ 'data.bin': data, 'big.bin': big, 'text.bz2': compressed });
});
afterAll(async () => {
  await server.close();
  tmp.cleanup();
});

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string; compressedOffset: number | undefined }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; message: string; compressedOffset: number | undefined };
  }
  throw new Error('expected a rejection');
}

/** Waits until `test` holds (the server learns of a closed connection asynchronously). */
async function until(test: () => boolean, ms = 10_000): Promise<void> {
  const started = Date.now();
  while (!test() && Date.now() - started < ms) await new Promise((ok) => setTimeout(ok, 20));
}

describe('HTTP: every answer is checked (issue 8 item 4)', () => {
  it('an honest server gives the bytes, and every read carries the validators seen at open', async () => {
    const source = await HttpSource.open(server.url('data.bin'));
    expect(source.size).toBe(data.length);
    const rand = prng(3);
    for (let k = 0; k < 20; k++) {
      const offset = Math.floor(rand() * data.length);
      const length = Math.min(data.length - offset, 1 + Math.floor(rand() * 50_000));
      expect(Buffer.from(await source.read(offset, length)).equals(Buffer.from(data.subarray(offset, offset + length)))).toBe(true);
    }
    const last = server.seen[server.seen.length - 1];
    expect(last['if-match']).toBe('"v1"');
    expect(last['if-range']).toBe('"v1"');
    expect(last['accept-encoding']).toMatch(/^identity\b/);
    expect(last['accept-encoding']).not.toMatch(/gzip|br|deflate/);
    await source.close();
  });

  it('a 206 for another range, with another total, too short or too long, or encoded is refused', async () => {
    const read = async (mode: string) => {
      const source = await HttpSource.open(server.url(`${mode}/data.bin`));
      return failure(source.read(1000, 20_000));
    };
    const wrongRange = await read('badrange');
    expect(wrongRange.code).toBe('HTTP_ERROR');
    expect(wrongRange.message).toContain(server.url('badrange/data.bin'));
    expect(wrongRange.message).toContain('bytes 1000-20999');
    expect(wrongRange.message).toContain('bytes 1001-21000/300000');
    expect(wrongRange.compressedOffset).toBe(1000);
    const wrongTotal = await read('badtotal');
    expect(wrongTotal.code).toBe('STALE_SOURCE');
    expect(wrongTotal.message).toMatch(/size changed from 300000 to 300001 bytes/);
    expect((await read('short')).code).toBe('HTTP_ERROR');
    expect((await read('long')).message).toMatch(/more than the 20000 bytes/);
    expect((await read('gzip')).message).toMatch(/Content-Encoding "gzip"/);
  });

  it('a 200 where a 206 was asked is STALE_SOURCE, and its body is not downloaded', async () => {
    const source = await HttpSource.open(server.url('whole/big.bin'));
    const before = { bytes: server.bytes, cut: server.cutShort };
    const error = await failure(source.read(1 << 20, 1000));
    expect(error.code).toBe('STALE_SOURCE');
    expect(error.message).toMatch(/HTTP 200/);
    await until(() => server.cutShort > before.cut);
    expect(server.cutShort).toBe(before.cut + 1);
    expect(server.bytes - before.bytes).toBeLessThan(big.length / 2);
  });

  it.each([
    ['', 'If-Match: the server answers 412'],
    ['noconditional/', 'the server ignores the conditions: the new ETag gives it away'],
    ['ifrange/', 'If-Range only: the server sends the whole new object with a 200'],
    ['weak/', 'weak ETag: If-Unmodified-Since with Last-Modified'],
  ])('a file changed on the server mid-run is STALE_SOURCE, never mixed bytes (%s%s)', async (mode) => {
    const name = `changing-${mode.replace('/', '')}.bin`;
    const local = await startRangeServer({ [name]: data.slice() });
    try {
      const source = await HttpSource.open(local.url(`${mode}${name}`));
      expect(Buffer.from(await source.read(0, 100)).equals(Buffer.from(data.subarray(0, 100)))).toBe(true);
      local.replace(name, data.map((b) => b ^ 0xff)); // same size, other bytes, new ETag and Last-Modified
      const error = await failure(source.read(100, 100));
      expect(error.code).toBe('STALE_SOURCE');
      expect(error.message).toContain(local.url(`${mode}${name}`));
      expect(error.message).toContain('bytes 100-199');
      const sent = local.seen[local.seen.length - 1];
      if (mode === 'weak/') {
        expect(sent['if-match']).toBeUndefined(); // a weak ETag never matches strongly: not sent
        expect(sent['if-unmodified-since']).toBeDefined();
      } else {
        expect(sent['if-match']).toBe('"v1"');
      }
    } finally {
      await local.close();
    }
  });

  it('through openReader: a bzip2 file replaced on the server between chunk reads is STALE_SOURCE', async () => {
    const local = await startRangeServer({ 'text.bz2': compressed });
    try {
      const reader = await openReader(local.url('text.bz2'), { index: false, cacheBytes: 1, parallelism: 1 });
      expect(Buffer.from(await reader.read(0, 1000)).equals(text.subarray(0, 1000))).toBe(true);
      const other = bzip2(makeText(600_000, 6), 1);
      const sameSize = new Uint8Array(compressed.length);
      sameSize.set(other.subarray(0, Math.min(other.length, sameSize.length)));
      local.replace('text.bz2', sameSize);
      const error = await failure(reader.read(text.length - 1000, 1000));
      expect(error.code).toBe('STALE_SOURCE');
      await reader.close();
    } finally {
      await local.close();
    }
  });
});

describe('HTTP: status first, body never read when rejected (issue 8 item 10)', () => {
  it('a server that ignores Range: the open fails at once and the connection is closed long before the body is sent', async () => {
    const before = { bytes: server.bytes, cut: server.cutShort };
    const error = await failure(openReader(server.url('norange/big.bin'), { index: false }));
    expect(error.code).toBe('HTTP_ERROR');
    expect(error.message).toMatch(/answered 200.*Range support/);
    await until(() => server.cutShort > before.cut);
    expect(server.cutShort).toBe(before.cut + 1);
    expect(server.bytes - before.bytes).toBeLessThan(big.length / 2);
  });
});

describe('HTTP: typed errors naming the URL and the range (issue 8 item 12)', () => {
  it('a connection dropped mid-body', async () => {
    const source = await HttpSource.open(server.url('drop/data.bin'));
    const error = await failure(source.read(5000, 100_000));
    // Retried (issue 10: one retry policy), then a SOURCE_ERROR with the last failure.
    expect(error.code).toBe('SOURCE_ERROR');
    expect(error.message).toContain(server.url('drop/data.bin'));
    expect(error.message).toMatch(/bytes 5000-104999: connection dropped after 50000 of 100000 bytes/);
    expect(error.compressedOffset).toBe(55_000);
  });

  it('a body that stalls is a SOURCE_ERROR after httpTimeoutMs (and the retries), not a raw TimeoutError or a hang', async () => {
    const error = await failure(openReader(server.url('stall/text.bz2'), { index: false, httpTimeoutMs: 300 }));
    expect(error.code).toBe('SOURCE_ERROR');
    expect(error.message).toContain(server.url('stall/text.bz2'));
    expect(error.message).toMatch(/bytes 0-\d+: the server stalled: no data for 300 ms after \d+ of \d+ bytes/);
  });

  it('a bad time limit is refused naming the field', async () => {
    await expect(HttpSource.open(server.url('data.bin'), { timeoutMs: 0 })).rejects.toMatchObject({ code: 'INVALID_OPTION', message: /timeoutMs/ });
  });
});

describe('local data files must be regular files (issue 8 item 11, data-file half)', () => {
  it('a FIFO is refused at once instead of blocking forever', async () => {
    const fifo = join(tmp.dir, 'pipe.csv');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const link = join(tmp.dir, 'link-to-pipe.csv');
    symlinkSync(fifo, link);
    for (const path of [fifo, link]) {
      let timer: NodeJS.Timeout | undefined;
      const hung = new Promise<'hung'>((ok) => (timer = setTimeout(() => ok('hung'), 5000)));
      const outcome = await Promise.race([failure(openReader(path, { index: false })), hung]);
      clearTimeout(timer);
      if (outcome === 'hung') {
        // Release the blocked open() (it waits for a writer) so the test process can end.
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
        throw new Error(`opening ${path} hung`);
      }
      expect(outcome.code).toBe('IO_ERROR');
      expect(outcome.message).toBe(`${path}: is a FIFO (named pipe); seekdata reads regular files (it needs their size and positional reads)`);
    }
  });

  it('a directory and a character device are refused naming the file; a symlink to a regular file is read', async () => {
    const dir = join(tmp.dir, 'adir.csv');
    mkdirSync(dir);
    await expect(FileSource.open(dir)).rejects.toMatchObject({ code: 'IO_ERROR', message: `${dir}: is a directory; seekdata reads regular files (it needs their size and positional reads)` });
    await expect(openReader('/dev/zero', { index: false })).rejects.toMatchObject({ code: 'IO_ERROR', message: /^\/dev\/zero: is a character device/ });
    const file = writeFixture(tmp.dir, 'real.bz2', compressed);
    const link = join(tmp.dir, 'link.bz2');
    symlinkSync(file, link);
    const reader = await openReader(link, { index: false });
    expect(Buffer.from(await reader.read(1234, 100)).equals(text.subarray(1234, 1334))).toBe(true);
    await reader.close();
    await expect(FileSource.open(join(tmp.dir, 'missing.csv'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('writeArrowFile errors are typed and name the path (issue 8 item 12)', () => {
  const table = new Table({ a: vectorFromArray([1, 2, 3], new Int32()) });

  it('into a directory', async () => {
    await expect(writeArrowFile(table, tmp.dir)).rejects.toMatchObject({ code: 'IO_ERROR', message: `${tmp.dir}: cannot write the Arrow file: it is a directory (give a file name)` });
  });

  it('into a missing directory', async () => {
    const path = join(tmp.dir, 'no', 'such', 'out.arrow');
    await expect(writeArrowFile(table, path)).rejects.toMatchObject({
      code: 'IO_ERROR',
      message: `${path}: cannot write the Arrow file: its directory ${join(tmp.dir, 'no', 'such')} does not exist`,
    });
  });

  it('and a good path still gets the file', async () => {
    const path = join(tmp.dir, 'ok.arrow');
    expect(await writeArrowFile(table, path)).toBeGreaterThan(0);
  });
});
