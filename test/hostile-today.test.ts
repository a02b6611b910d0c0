/**
 * Hostile inputs against today's features: the quote-free CSV fast path of the index pass (csv-fast.ts,
 * the ISO prefix cache) must give exactly what the general path (analyzeChunkGeneral) gives.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeChunk, analyzeChunkGeneral, type AnalyzeSpec } from '../src/index/records/analyze.js';
import { fastCsvApplies } from '../src/index/records/csv-fast.js';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { isSeekdataError, openCollection, openIndexed, openReader, WorkerPool, type CollectionOptions } from '../src/index.js';
import { readManifest, writeManifest } from '../src/index/collection-manifest.js';
import { makeText, prng } from './support/fixtures.js';
import { comparable, padVocab } from './support/analysis.js';
import { bgzip, gzip } from './support/gzip-fixtures.js';
import { zstdFile, zstdPipe } from './support/zstd.js';

const encoder = new TextEncoder();

/** Temporary directories of this file, removed at the end. */
const dirs: string[] = [];
const made = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const VALUES = [
  '', ' ', '0', '-0', '+0', '1.', '.5', '+.5', '-.5', '-', '+', '.', '-.', '1e-400', '1e400', '-1e-400', '1E5', '1e', '1e+',
  '00000000000000000000000000001', '123456789012345678901234567890', '999999999999999.9', '1000000000000000', '0.0000000000000000000001',
  '0.00000000000000000000001', '1.2.3', '12abc', '-abc', '\u00a012', '12\u00a0', ' 12', '12 ', '\t-3\t', 'NA', 'nan', 'NaN', 'N/A',
  'null', 'None', 'Infinity', '-Infinity', '+Infinity', 'inf', '{"a":1', '"x"', 'a\u0000b', '\u0000', '1\u0000', '\ufeff1', '\ufeffNA',
  '0x10', '1_000', '٣', '１２', '-0.0', '5\r5', '\r', '1\r', 'x\r',
];

const TIMES = [
  '2024-03-10T02:30:00', '2024-03-10T01:59:59.999', '2024-11-03T01:30:00', '2024-11-03T01:30:00Z', '2016-12-31T23:59:60Z',
  '2024-01-01T24:00:00', '2024-01-01T24:59:59', '2024-02-29T00:00', '2023-02-29T00:00', '2024-01-01 12:00:00+05:30',
  '2024-01-01T12:00:00-00:00', '2024-01-01t12:00', '2024-01-01T12:0', '2024-01-01T12:', '2024-01-01T12', '2024-01-01',
  '  2024-01-01T12:00:00  ', '2024-01-01T12:00:00.', '2024-01-01T12:00:00,5', '2024-01-01T12:00:00+2400', '2024-01-01T12:00:00+23:60',
  '\ufeff2024-01-01T12:00:00', '2024-01-01T12:00:00\u0000', '0000-01-01T00:00:00', '9999-12-31T23:59:59', '1883-11-18T12:00:00',
  '1937-07-01T00:00:00', '2024-01-01T12:00:00Zjunk', '',
];

function hostileBody(seed: number, delimiter: string, crlf: boolean, columns: number): string {
  const rand = prng(seed);
  const lines: string[] = ['h'];
  for (let r = 0; r < 400; r++) {
    const fields: string[] = [];
    const n = 1 + Math.floor(rand() * (columns + 2));
    for (let c = 0; c < n; c++) {
      if (c === 0) fields.push(TIMES[Math.floor(rand() * TIMES.length)]);
      else fields.push(VALUES[Math.floor(rand() * VALUES.length)].split(delimiter).join(''));
    }
    lines.push(rand() < 0.05 ? (rand() < 0.5 ? '' : '\r') : fields.join(delimiter));
  }
  return lines.join(crlf ? '\r\n' : '\n') + '\n';
}

describe('fast CSV path vs general path on hostile values', () => {
  const zones = [undefined, 'America/New_York', 'Europe/Amsterdam', 'Australia/Lord_Howe', 'Asia/Kolkata'];
  for (const delimiter of [',', ';', '\t', ' ', '.', '-', 'e', '|']) {
    for (const crlf of [false, true]) {
      it(`delimiter ${JSON.stringify(delimiter)}, CRLF ${crlf}`, () => {
        let fastChunks = 0;
        for (let seed = 1; seed <= 8; seed++) {
          const bytes = encoder.encode(hostileBody(seed * 31 + delimiter.charCodeAt(0), delimiter, crlf, 5));
          const zone = zones[seed % zones.length];
          const rand = prng(seed);
          for (let cut = 0; cut < 6; cut++) {
            const a = Math.floor(rand() * bytes.length);
            const b = Math.min(bytes.length, a + Math.floor(rand() * 3000));
            const piece = cut === 0 ? bytes : bytes.subarray(a, b);
            const spec: AnalyzeSpec = {
              kind: 'csv', delimiter: delimiter.charCodeAt(0), begin: cut === 0 ? 2 : 0, inQuote: false, statColumns: [6, 2, 0, 9][seed % 4],
              statMask: seed % 3 === 0 ? Uint8Array.from([1, 0, 1, 0, 1, 1, 0, 1, 1]) : undefined,
              time: seed % 5 === 4 ? undefined : { field: seed % 4 === 1 ? 3 : cut % 2, format: cut % 2 === 0 ? 'iso' : (['s', 'ms', 'us', 'ns'] as const)[(seed + cut) % 4], zone }, maxBad: 1000, quoting: seed % 2 === 0 ? 'none' : undefined, maxRecordBytes: 30,
            };
            if (!fastCsvApplies(piece, spec)) continue;
            fastChunks++;
            const fast = analyzeChunk(piece, spec);
            const general = analyzeChunkGeneral(piece, spec);
            padVocab(fast, general);
            expect(comparable(fast), `seed ${seed} cut ${cut}`).toEqual(comparable(general));
          }
        }
        expect(fastChunks).toBeGreaterThan(10);
      });
    }
  }
});

describe('a delimiter outside ASCII', () => {
  it('is refused with INVALID_OPTION instead of splitting on one byte of its UTF-8 form (mangled columns before)', async () => {
    const dir = made('hostile-delim-');
    const file = join(dir, 'd.csv');
    writeFileSync(file, 'a§b§c\n1§2§3\n4§5§6\n');
    for (const delimiter of ['§', 'é', 'Ā', '€']) {
      await expect(openIndexed(file, { records: 'csv', delimiter, index: false })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    }
    // ASCII delimiters still work, and the columns are the truth.
    writeFileSync(file, 'a|b|c\n1|2|3\n4|5|6\n');
    const ok = await openIndexed(file, { records: 'csv', delimiter: '|', index: false });
    expect(ok.columns).toEqual(['a', 'b', 'c']);
    await ok.reader.close();
  });
});

describe('a lazy collection whose shard changed behind the same size and mtime', () => {
  it('is a STALE_INDEX error when the changed file is opened, not the old statistics over the new records', async () => {
    const dir = made('hostile-swap-');
    const savedCache = process.env.SEEKDATA_CACHE_DIR;
    process.env.SEEKDATA_CACHE_DIR = join(dir, 'cache');
    const pool = new WorkerPool({ size: 1 });
    try {
      // The same timestamps in every version of shard 1: only the values change (same size, same layout, same time span).
      const shard = (day: number, offset: number): string => {
        let s = 'time,v\n';
        for (let i = 0; i < 200; i++) s += `2024-01-0${day}T00:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')},${String(offset + i).padStart(5, '0')}\n`;
        return s;
      };
      for (let k = 0; k < 3; k++) writeFileSync(join(dir, `s${k}.csv`), shard(k + 1, k * 1000));
      const glob = join(dir, 's*.csv');
      const options: CollectionOptions = { records: 'csv', timeColumn: 'time', pool, lazy: true };
      const first = await openCollection(glob, options);
      expect(first.stats[1].max).toBe(2199);
      await first.close();
      // Shard 1 rewritten with other values, its mtime set back exactly (touch -r keeps the nanoseconds).
      execFileSync('touch', ['-r', join(dir, 's1.csv'), join(dir, 'ref')]);
      writeFileSync(join(dir, 's1.csv'), shard(2, 7000));
      execFileSync('touch', ['-r', join(dir, 'ref'), join(dir, 's1.csv')]);
      const lazy = await openCollection(glob, options);
      try {
        expect(lazy.openedFiles).toBe(0);
        // The truth is now max 7199: the merged statistics came from the manifest and cannot know yet;
        // reading the changed file must say so instead of handing out its records under the old facts.
        await expect(lazy.records.text(250)).rejects.toMatchObject({ code: 'STALE_INDEX', file: join(dir, 's1.csv') });
        expect(await lazy.records.text(50)).toBe('2024-01-01T00:00:50,00050');
      } finally {
        await lazy.close();
      }
      // Opened the normal way (no manifest), the statistics are the truth.
      const eager = await openCollection(glob, { ...options, lazy: false, manifest: false });
      expect(eager.stats[1].max).toBe(7199);
      await eager.close();
    } finally {
      await pool.close();
      if (savedCache === undefined) delete process.env.SEEKDATA_CACHE_DIR;
      else process.env.SEEKDATA_CACHE_DIR = savedCache;
    }
  });
});

describe('damaged gzip/zstd units read inline and through the pool at once', () => {
  const plain = makeText(2_000_000, 5);
  /** Frames of 40,000 bytes each, concatenated (a multi-frame file as many writers make them). */
  const frames = (compress: (p: Uint8Array) => Buffer): Buffer => {
    const parts: Buffer[] = [];
    for (let at = 0; at < plain.length; at += 40_000) parts.push(compress(plain.subarray(at, at + 40_000)));
    return Buffer.concat(parts);
  };
  const STAMP = new Date(Date.UTC(2024, 0, 1));
  /** The decoded range of the BGZF block holding compressed byte `at` (from BSIZE and ISIZE, as htslib walks them). */
  const bgzfBlockAt = (bytes: Buffer, at: number): { start: number; end: number } => {
    let d = 0;
    for (let c = 0; c < bytes.length; ) {
      const size = bytes.readUInt16LE(c + 16) + 1;
      const isize = bytes.readUInt32LE(c + size - 4);
      if (at < c + size) return { start: d, end: d + isize };
      d += isize;
      c += size;
    }
    throw new Error('no block holds that byte');
  };
  it.each([
    ['gzip spans', 'd.gz', () => gzip(plain, '-6'), { gzipSpacingBytes: 64 << 10 }],
    ['BGZF blocks', 'd.bgz.gz', () => bgzip(plain), {}],
    ['zstd frames with a content size', 'd.zst', () => frames((p) => zstdFile(p, '-3')), {}],
    ['zstd frames without a content size', 'p.zst', () => frames((p) => zstdPipe(p, '-3')), {}],
  ] as const)('%s: every read is the truth or CORRUPT_DATA over the damaged unit, never other bytes', async (_what, name, make, extra) => {
    const dir = made('hostile-damage-');
    const path = join(dir, name);
    const bytes = make();
    writeFileSync(path, bytes);
    utimesSync(path, STAMP, STAMP);
    const pool = new WorkerPool({ size: 2 });
    try {
      const built = await openReader(path, { ...extra, parallelism: 2, pool });
      await built.close();
      const at = Math.floor(bytes.length * 0.5);
      const changed = Buffer.from(bytes);
      changed[at] ^= 0x5a;
      writeFileSync(path, changed);
      utimesSync(path, STAMP, STAMP);
      const reader = await openReader(path, { ...extra, ifStale: 'error', parallelism: 2, cacheBytes: 1, pool });
      try {
        expect(reader.indexStatus).toBe('loaded');
        const bits = reader.format === 'gzip' ? 8 : 1;
        const units = reader.units;
        expect(units.count).toBeGreaterThan(1);
        let damaged = 0;
        while (damaged + 1 < units.count && units.cEnd[damaged] / bits <= at) damaged++;
        const block = name.includes('.bgz') ? bgzfBlockAt(bytes, at) : undefined;
        const rand = prng(9);
        const reads = Array.from({ length: 60 }, () => {
          const offset = Math.floor(rand() * (plain.length - 5000));
          return { offset, length: 1 + Math.floor(rand() * (rand() < 0.5 ? 200 : 70_000)) };
        });
        // Half started together (the pool), half one at a time (inline), interleaved with a burst.
        const together = await Promise.allSettled(reads.map((r) => reader.read(r.offset, r.length)));
        const alone: Array<PromiseSettledResult<Uint8Array>> = [];
        for (const r of reads) alone.push(await reader.read(r.offset, r.length).then((v) => ({ status: 'fulfilled' as const, value: v }), (e: unknown) => ({ status: 'rejected' as const, reason: e })));
        // Some reads meet the damaged unit, so the checks were put to work (inline and in the pool).
        reads.push({ offset: units.dStart[damaged] + 5, length: 10 });
        together.push(...(await Promise.allSettled([reader.read(units.dStart[damaged] + 5, 10), reader.read(0, 10)])).slice(0, 1));
        alone.push(await reader.read(units.dStart[damaged] + 5, 10).then((v) => ({ status: 'fulfilled' as const, value: v }), (e: unknown) => ({ status: 'rejected' as const, reason: e })));
        expect(together.filter((r) => r.status === 'rejected').length).toBeGreaterThan(0);
        expect(alone.filter((r) => r.status === 'rejected').length).toBeGreaterThan(0);
        expect(reader.stats.inlineDecodes).toBeGreaterThan(0);
        for (const results of [together, alone]) {
          results.forEach((result, k) => {
            const { offset, length } = reads[k];
            const end = Math.min(offset + length, plain.length);
            const touches = offset < units.dStart[damaged + 1] && end > units.dStart[damaged];
            if (result.status === 'fulfilled') {
              // BGZF blocks are checked one by one (a lone read decodes only the blocks holding it): the damaged part is the block.
              const hit = block === undefined ? touches : offset < block.end && end > block.start;
              expect(hit, `read ${k} handed out bytes of the damaged ${block === undefined ? 'unit' : 'block'}`).toBe(false);
              expect(Buffer.from(result.value).equals(plain.subarray(offset, end)), `read ${k}`).toBe(true);
            } else {
              expect(isSeekdataError(result.reason, 'CORRUPT_DATA'), String(result.reason)).toBe(true);
              expect(touches).toBe(true);
            }
          });
        }
      } finally {
        await reader.close();
      }
    } finally {
      await pool.close();
    }
  });
});

describe('a lazy collection of gzip and zstd shards', () => {
  it('reads racing close() give the truth or CLOSED; reads after close() are CLOSED; a crafted manifest entry outside the glob is NOT_FOUND', async () => {
    const dir = made('hostile-race-');
    const savedCache = process.env.SEEKDATA_CACHE_DIR;
    process.env.SEEKDATA_CACHE_DIR = join(dir, 'cache');
    const pool = new WorkerPool({ size: 2 });
    try {
      const lines: string[] = [];
      for (let k = 0; k < 4; k++) {
        const mine: string[] = [];
        for (let i = 0; i < 3000; i++) mine.push(`2024-01-0${k + 1}T00:00:${String(i % 60).padStart(2, '0')}.${String(i).padStart(4, '0')},${k * 10000 + i}`);
        lines.push(...mine);
        const path = join(dir, `s${k}.csv`);
        writeFileSync(path, `time,v\n${mine.join('\n')}\n`);
        execFileSync(k % 2 === 1 ? 'gzip' : 'zstd', k % 2 === 1 ? ['-f', path] : ['-q', '--rm', path]);
      }
      const glob = join(dir, 's*');
      const options: CollectionOptions = { records: 'csv', timeColumn: 'time', pool, lazy: true };
      await (await openCollection(glob, options)).close();
      for (let round = 0; round < 6; round++) {
        const c = await openCollection(glob, options);
        expect(c.openedFiles).toBe(0);
        const ks = Array.from({ length: 40 }, (_, i) => (i * 997 + round * 131) % lines.length);
        const reads = ks.map((k) => c.records.text(k));
        await new Promise((resolve) => setTimeout(resolve, round));
        const closing = c.close();
        const late = await Promise.allSettled([c.records.text(5), c.records.text(4000), c.records.text(11000)]);
        for (const r of late) expect(r.status === 'rejected' && isSeekdataError(r.reason, 'CLOSED'), String(r.status === 'rejected' ? r.reason : r.value)).toBe(true);
        const settled = await Promise.allSettled(reads);
        await closing;
        settled.forEach((r, i) => {
          if (r.status === 'fulfilled') expect(r.value).toBe(lines[ks[i]]);
          else expect(isSeekdataError(r.reason, 'CLOSED'), String(r.reason)).toBe(true);
        });
      }
      // A manifest entry naming a file outside the collection (valid checksums): nothing of it is read.
      const name = readdirSync(dir).find((n) => n.endsWith('.sdc'));
      expect(name).toBeDefined();
      const path = join(dir, name ?? '');
      const manifest = await readManifest(path);
      if (manifest === undefined) throw new Error('no manifest');
      manifest.entries.push({ ...manifest.entries[0], facts: { ...manifest.entries[0].facts, name: '/etc/passwd' } });
      await writeManifest(path, manifest);
      await expect(openCollection(glob, options)).rejects.toMatchObject({ code: 'NOT_FOUND', file: '/etc/passwd' });
      const skipped = await openCollection(glob, { ...options, onBadFile: 'skip', onWarning: () => undefined });
      expect(skipped.records.count).toBe(lines.length);
      expect(await skipped.records.text(lines.length - 1)).toBe(lines[lines.length - 1]);
      await skipped.close();
    } finally {
      await pool.close();
      if (savedCache === undefined) delete process.env.SEEKDATA_CACHE_DIR;
      else process.env.SEEKDATA_CACHE_DIR = savedCache;
    }
  });
});

describe('vocabularies of byte strings that are no valid UTF-8', () => {
  it('count by text: 1,100 distinct byte strings that all decode to one text are one category, not an overflowed column', () => {
    const parts: number[] = [...encoder.encode('h\n')];
    let k = 0;
    // "x" and two lone continuation bytes: each decodes to "x\uFFFD\uFFFD".
    for (let a = 0x80; a < 0xc0 && k < 1100; a++) for (let b = 0x80; b < 0xc0 && k < 1100; b++, k++) parts.push(0x78, a, b, 0x0a);
    // Then 999 other texts (1,000 in all: the most a vocabulary holds), then one more (dropped).
    for (let i = 0; i < 999; i++) parts.push(...encoder.encode(`v${i}\n`));
    const bytes = Uint8Array.from(parts);
    const spec: AnalyzeSpec = { kind: 'csv', delimiter: 44, begin: 0, inQuote: false, statColumns: 1, time: undefined, maxBad: 5 };
    for (const analyse of [analyzeChunk, analyzeChunkGeneral]) {
      const vocab = analyse(bytes, spec).vocab?.[0];
      expect(vocab?.length).toBe(1000);
      expect(vocab?.find(([v]) => v === 'x\uFFFD\uFFFD')?.[1]).toBe(1100);
      const more = Uint8Array.from([...parts, ...encoder.encode('one more\n')]);
      expect(analyse(more, spec).vocab?.[0]).toBeNull();
    }
  });
});
