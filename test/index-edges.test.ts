/**
 * The indexing pass with chunks kept in their workers (AnalyzeSpec.edges): a job returns the analysis and
 * only the bytes the main thread's join reads — the head up to the first record end and the tail after the
 * last — or the whole chunk when the join needs it all. A chunk that starts inside a quoted field is decoded
 * again whole. Truths: the same file through a path that moves whole chunks (bzip2's discovery), and the
 * generated records.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { closeSharedPool, openIndexed, type IndexedFile } from '../src/index.js';
import type { ChunkAnalysis } from '../src/index/records/analyze.js';
import { RecordBuilder } from '../src/index/records/builder.js';
import { analyzeStep } from '../src/index/steps.js';
import { runStep } from '../src/workers/registry.js';
import { bzip2, prng, run, tempDir, writeFixture, xz } from './support/fixtures.js';

const tmp = tempDir('seekdata-index-edges-');
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

const encoder = new TextEncoder();
const spec = { kind: 'csv' as const, delimiter: 0x2c, begin: 0, inQuote: false, statColumns: 2, maxBad: 5, quoting: 'rfc4180' as const, edges: true };
const analyse = (bytes: Uint8Array, over: Partial<typeof spec> & { maxRecordBytes?: number } = {}): ChunkAnalysis => runStep(analyzeStep.call({ ...spec, ...over }), bytes) as ChunkAnalysis;
const str = (bytes: Uint8Array): string => Buffer.from(bytes).toString();

describe('the analyze step with edges', () => {
  it('returns the chunk length, the bytes up to the first record end and those after the last, as copies', () => {
    const bytes = encoder.encode('ail,1\n2,3\n4,5\n6,');
    const scratch = new Uint8Array(bytes.length + 10);
    scratch.set(bytes);
    const view = scratch.subarray(0, bytes.length);
    const edges = analyse(view).edges;
    expect(edges).toBeDefined();
    if (edges === undefined || !('head' in edges)) throw new Error('expected head and tail');
    expect(edges.length).toBe(bytes.length);
    expect(str(edges.head)).toBe('ail,1\n');
    expect(str(edges.tail)).toBe('6,');
    // Copies: the decoder's buffer is reused for the next chunk once the step has returned.
    scratch.fill(0x21);
    expect(str(edges.head)).toBe('ail,1\n');
    expect(str(edges.tail)).toBe('6,');
    expect(edges.head.buffer).not.toBe(scratch.buffer);
  });

  it('an empty tail when the chunk ends at a record end', () => {
    const edges = analyse(encoder.encode('1,2\n3,4\n')).edges;
    if (edges === undefined || !('head' in edges)) throw new Error('expected head and tail');
    expect(str(edges.head)).toBe('1,2\n');
    expect(edges.tail.length).toBe(0);
  });

  it('the whole chunk when it has no record end, holds a record over the limit, or starts with a header', () => {
    const noEnd = encoder.encode('"a long quoted field, with no end here');
    const whole = (e: ChunkAnalysis['edges']): string => (e !== undefined && 'whole' in e ? str(e.whole) : 'not whole');
    expect(whole(analyse(noEnd).edges)).toBe(str(noEnd));
    const long = encoder.encode(`1,2\n${'x'.repeat(100)}\n3,4\n`);
    expect(whole(analyse(long, { maxRecordBytes: 50 }).edges)).toBe(str(long));
    const header = encoder.encode('a,b\n1,2\n');
    expect(whole(analyse(header, { begin: 4 }).edges)).toBe(str(header));
  });

  it('no edges unless asked for', () => {
    expect(analyse(encoder.encode('1,2\n'), { edges: false }).edges).toBeUndefined();
  });
});

describe('an indexing pass that keeps chunks in its workers', () => {
  // Records with multi-line quoted notes (so many 16 KiB blocks start inside a quoted field), quotes
  // doubled, a timestamp and a number.
  const rand = prng(7);
  const N = 6000;
  const rows = Array.from({ length: N }, (_, i) => {
    const lines = 1 + Math.floor(rand() * 6);
    const note = Array.from({ length: lines }, (_, k) => `line ${k} of "note" ${i}`.padEnd(20 + Math.floor(rand() * 60), '.')).join('\n');
    return `${new Date(Date.UTC(2022, 0, 1) + i * 1000).toISOString()},${(rand() * 100).toFixed(3)},"${note.replace(/"/g, '""')}"`;
  });
  const content = Buffer.from(['time,x,note', ...rows].join('\n') + '\n');
  const files = {
    xz: writeFixture(tmp.dir, 'notes.csv.xz', xz(content, '--block-size=16KiB')),
    bz2: writeFixture(tmp.dir, 'notes.csv.bz2', bzip2(content, 1)),
    // gzip's discovery moves whole chunks: the truth for the statistics' sums.
    gz: writeFixture(tmp.dir, 'notes.csv.gz', run('gzip', ['-c'], content)),
  };

  async function texts(file: IndexedFile): Promise<string[]> {
    const out: string[] = [];
    for (let k = 0; k < file.records.count; k += 1000) {
      const many = await file.records.getMany(Array.from({ length: Math.min(1000, file.records.count - k) }, (_, j) => k + j));
      out.push(...many.map(str));
    }
    return out;
  }

  it.each([
    ['xz', 1],
    ['xz', 2],
    ['bz2', 1],
    ['bz2', 2],
  ] as const)('%s: the index whole chunks give, the chunks that start in a quoted field decoded again (parallelism %i)', async (kind, parallelism) => {
    const asks = vi.spyOn(RecordBuilder.prototype, 'needsWhole');
    const edged = await openIndexed(files[kind], { records: 'csv', timeColumn: 'time', index: false, parallelism });
    // The chunks decoded again: those the join needed whole.
    const again = asks.mock.results.filter((r) => r.value === true).length;
    asks.mockRestore();
    const whole = await openIndexed(files.gz, { records: 'csv', timeColumn: 'time', index: false, parallelism });
    try {
      expect(again).toBeGreaterThan(0);
      expect(edged.records.count).toBe(N);
      expect(whole.records.count).toBe(N);
      expect(await texts(edged)).toEqual(rows);
      expect(edged.time?.summary).toEqual(whole.time?.summary);
      for (let k = 0; k < N; k += 397) expect(edged.time?.timeOf(k)).toBe(whole.time?.timeOf(k));
      const stats = (f: IndexedFile): Map<string, { count: number; nonNumeric: number; mean: number | null; min: number | null; max: number | null }> =>
        new Map(f.stats.map((s) => [s.name, { count: s.count, nonNumeric: s.nonNumeric, mean: s.mean, min: s.min, max: s.max }]));
      const [a, b] = [stats(edged), stats(whole)];
      expect(a.get('x')?.count).toBe(N);
      expect(a.get('x')?.min).toBe(b.get('x')?.min);
      expect(a.get('x')?.max).toBe(b.get('x')?.max);
      expect(a.get('x')?.mean).toBeCloseTo(b.get('x')?.mean ?? NaN, 9);
      expect(a.get('note')?.nonNumeric).toBe(N);
      expect(a.get('note')?.nonNumeric).toBe(b.get('note')?.nonNumeric);
    } finally {
      await edged.close();
      await whole.close();
    }
  });

  it.each(['xz', 'bz2'])('%s: files without quoted fields across chunks decode each chunk once', async (kind) => {
    const plain = Buffer.from(['time,x', ...Array.from({ length: 40_000 }, (_, i) => `${new Date(Date.UTC(2022, 0, 1) + i * 1000).toISOString()},${i % 97}`)].join('\n') + '\n');
    const path = writeFixture(tmp.dir, `plain.csv.${kind}`, kind === 'xz' ? xz(plain, '--block-size=16KiB') : bzip2(plain, 1));
    const asks = vi.spyOn(RecordBuilder.prototype, 'needsWhole');
    const file = await openIndexed(path, { records: 'csv', timeColumn: 'time', index: false, parallelism: 2 });
    const again = asks.mock.results.filter((r) => r.value === true).length;
    const asked = asks.mock.calls.length;
    asks.mockRestore();
    try {
      expect(again).toBe(0);
      // Every chunk but those whose bytes came whole (the first, with the header, and those decoded beside it
      // before the pass) was asked about.
      expect(asked).toBeGreaterThanOrEqual(kind === 'xz' ? 10 : 6);
      expect(file.records.count).toBe(40_000);
      expect(await file.records.text(12_345)).toBe(`${new Date(Date.UTC(2022, 0, 1) + 12_345_000).toISOString()},${12_345 % 97}`);
    } finally {
      await file.close();
    }
  });
});
