/**
 * zstd frames that do not say their decoded size (zstd reading a pipe, pzstd): the first openIndexed learns
 * the frames' sizes while it decodes them, in 1 MiB pieces (cut at the reader's pieces too, when those are
 * not MiBs), and re-bases the records it found onto the reader's chunks (whole frames, or the `pieceBytes`
 * pieces of a frame over `bigUnitBytes`, whose CRC32s the scan records) without decoding again. What the
 * first open builds must be, byte for byte, what a pass over the reader's chunks builds (the same file opened
 * again with `rebuild: true`, the re-base refused and the scan's piece CRCs left out: the second pass, over
 * the chunk map then known, meets the reader's chunks and records the CRCs of the pieces itself), and the
 * records, offsets and tails must be those of a brute-force split of the text. Records are
 * placed against the 1 MiB pieces and the reader's chunks: long ones over several pieces (tails over
 * MAX_TAIL_BYTES that a later start cuts short enough to store, and ones that stay too long), one ending on a
 * piece's end and one on a chunk's end, a reader chunk where no record starts, a last record without its
 * newline. RecordBuilder.finishOn itself is checked against a pass over the chunks it is given, on random
 * records (blank lines, quoted newlines, bad times) cut at random.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { closeSharedPool, openIndexed, type IndexedOptions } from '../src/index.js';
import type { SectionValue } from '../src/index/index-file.js';
import { loadAllSections } from './support/index-sections.js';
import { RecordBuilder } from '../src/index/records/builder.js';
import { ZstdDiscovery } from '../src/readers/zstd/discovery.js';
import { MAX_TAIL_BYTES, type BuiltRecords } from '../src/index/records/built-records.js';
import { analyzeChunk, type AnalyzeSpec } from '../src/index/records/analyze.js';
import { prng, run, tempDir } from './support/fixtures.js';

const tmp = tempDir('seekdata-zstd-rebase-');
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});
afterEach(() => {
  vi.restoreAllMocks();
});

const MiB = 1 << 20;
const K = 1 << 10;
type Kind = 'csv' | 'jsonl' | 'lines';

/**
 * Text of records of `kind`, each ending where `plan` says (absolute offsets of the byte after its newline,
 * in order), short records filling the gaps; `last` bytes of a final record without its newline.
 */
function makeText(kind: Kind, plan: number[], total: number, last: number, seed: number): Buffer {
  const rand = prng(seed);
  const base = Date.UTC(2024, 0, 1);
  let i = 0;
  const parts: string[] = [];
  let at = 0;
  const push = (s: string): void => {
    parts.push(s);
    at += Buffer.byteLength(s);
  };
  if (kind === 'csv') push('time,name,pad\n');
  /** A record of exactly `length` bytes with its newline (or without, `newline` false). */
  const record = (length: number, newline = true): string => {
    const time = new Date(base + i * 1000 + Math.floor(rand() * 900)).toISOString();
    const quoted = kind === 'csv' && length > 40 && length < 400 && rand() < 0.2;
    i++;
    const end = newline ? '\n' : '';
    if (kind === 'jsonl') {
      const head = `{"time":"${time}","n":${i},"pad":"`;
      return `${head}${'j'.repeat(length - head.length - 2 - end.length)}"}${end}`;
    }
    if (kind === 'lines') {
      const head = `${time} n${i} `;
      return `${head}${'l'.repeat(length - head.length - end.length)}${end}`;
    }
    const head = `${time},n${i},`;
    // Some records hold a quoted newline (a record of two lines).
    if (quoted) return `${head}"q\n${'c'.repeat(length - head.length - 4 - end.length)}"${end}`;
    return `${head}${'p'.repeat(length - head.length - end.length)}${end}`;
  };
  const fillTo = (to: number): void => {
    while (to - at >= 400) push(record(60 + Math.floor(rand() * 200)));
    if (to - at > 0) push(record(to - at));
  };
  for (let k = 0; k < plan.length; k += 2) {
    // plan: [start, end] pairs of a record; short ones fill the gaps.
    fillTo(plan[k]);
    if (at !== plan[k]) throw new Error(`fixture: at ${at}, not ${plan[k]}`);
    push(record(plan[k + 1] - plan[k]));
  }
  fillTo(total - last);
  if (last > 0) push(record(last, false));
  const text = Buffer.from(parts.join(''));
  if (text.length !== total) throw new Error(`fixture: ${text.length} bytes, not ${total}`);
  return text;
}

/** Each record's start and bytes (without its newline), split by brute force (quotes in CSV). */
function truth(kind: Kind, text: Buffer): { starts: number[]; records: Buffer[] } {
  const starts: number[] = [];
  const records: Buffer[] = [];
  let at = kind === 'csv' ? text.indexOf(0x0a) + 1 : 0;
  let quote = false;
  let start = at;
  for (; at < text.length; at++) {
    const b = text[at];
    if (kind === 'csv' && b === 0x22) quote = !quote;
    if (b === 0x0a && !quote) {
      starts.push(start);
      records.push(text.subarray(start, at));
      start = at + 1;
    }
  }
  if (start < text.length) {
    starts.push(start);
    records.push(text.subarray(start));
  }
  return { starts, records };
}

function bytesOf(value: SectionValue): Buffer {
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return Buffer.from(JSON.stringify(value));
}

/** A file: how it is compressed, its records, and the reader's chunk starts the options give. */
interface Case {
  name: string;
  kind: Kind;
  options: IndexedOptions;
  /** The text's records: [start, end] pairs placed against the pieces and chunks, the size, an unterminated last record. */
  plan: number[];
  total: number;
  last: number;
  compress: (text: Buffer) => Buffer;
  /** Whether the reader's chunk starts are all pass starts (else: the second pass, checked too). */
  rebased: boolean;
}

/** zstd from standard input: one frame whose header has no content size. */
const pipe = (b: Buffer): Buffer => run('zstd', ['-c', '-q', '-1'], b);
/** pzstd -1: frames of 2 MiB, none with its size. */
const pzstd = (b: Buffer): Buffer => run('pzstd', ['-1', '-p', '2', '-c', '-q'], b);
/** Frames from pipes, cut at `at`: none says its size. */
const frames =
  (...at: number[]) =>
  (b: Buffer): Buffer =>
    Buffer.concat([0, ...at].map((from, k) => pipe(b.subarray(from, k < at.length ? at[k] : b.length))));
/** Two frames from pipes, of 5 MiB and the rest. */
const twoFrames = (b: Buffer): Buffer => Buffer.concat([pipe(b.subarray(0, 5 * MiB)), pipe(b.subarray(5 * MiB))]);

// Frames from pipes of 2, 2, 2 and 1.2 MiB (reader starts 0, 2, 4, 6 MiB; the pass's every MiB):
// - 0.9 MiB to 2 MiB + 30 KiB: over pieces 0-2; its tail past 1 MiB is too long to store, past 2 MiB it is 30 KiB;
// - a record ending on 3 MiB (a piece's end), one ending on 4 MiB (a chunk's end);
// - 4.5 MiB to 6 MiB + 100 KiB: too long past 5 MiB, and still too long past 6 MiB;
// - a last record of 300 KiB without its newline, over 7 MiB.
const planA = [0.9 * MiB, 2 * MiB + 30 * K, 3 * MiB - 500, 3 * MiB, 4 * MiB - 700, 4 * MiB, 4 * MiB + 2000, 4 * MiB + 2300, 4.5 * MiB, 6 * MiB + 100 * K];
// The same with a record from 3 MiB - 10 KiB to 3 MiB + 20 KiB (a tail the re-base drops) in place of the one
// ending on 3 MiB, and one from 4 MiB - 100 B over 4 MiB (a short tail kept as it is) in place of the one ending there.
const planA2 = [0.9 * MiB, 2 * MiB + 30 * K, 3 * MiB - 10 * K, 3 * MiB + 20 * K, 4 * MiB - 100, 4 * MiB + 200, 4.5 * MiB, 6 * MiB + 100 * K];
// pzstd's 2 MiB frames (reader starts 0, 2, 4, 6 MiB): 1.5 MiB to 4 MiB + 20 KiB leaves no record starting in the
// chunk at 2 MiB (its tail from 2 MiB is too long), one over 6 MiB with a short tail, one ending on 5 MiB.
const planB = [1.5 * MiB, 4 * MiB + 20 * K, 5 * MiB - 300, 5 * MiB, 6 * MiB - 100, 6 * MiB + 200];
// For pieces of 1.5 MiB (reader starts 0, 1.5, 3, 4.5, 6 MiB): 0.9 MiB to 2 MiB + 30 KiB (too long past 1.5 MiB),
// a short tail over 3 MiB and one over 4.5 MiB (a reader start that is no MiB), one too long past 6 MiB.
const planC = [0.9 * MiB, 2 * MiB + 30 * K, 3 * MiB - 200, 3 * MiB + 300, 4.5 * MiB - 50 * K, 4.5 * MiB + 10 * K, 5 * MiB, 6 * MiB + 100 * K];
const totalA = Math.round(7.2 * MiB);
const fix = (plan: number[]): number[] => plan.map((v) => Math.round(v));

const cases: Case[] = [];
for (const kind of ['csv', 'jsonl', 'lines'] as const) {
  const time: IndexedOptions = kind === 'lines' ? { time: (r: string) => Date.parse(r.slice(0, 24)) } : { timeColumn: 'time' };
  const none: IndexedOptions = kind === 'lines' ? {} : { timeColumn: null };
  const three = frames(2 * MiB, 4 * MiB, 6 * MiB);
  cases.push(
    { name: `${kind}, four frames from pipes, timed`, kind, options: { records: kind, ...time }, plan: fix(planA), total: totalA, last: 300 * K, compress: three, rebased: true },
    { name: `${kind}, four frames from pipes, no time`, kind, options: { records: kind, ...none }, plan: fix(planA2), total: totalA, last: 0, compress: three, rebased: true },
    { name: `${kind}, pzstd -p 2 (2 MiB frames), timed`, kind, options: { records: kind, ...time }, plan: fix(planB), total: 7 * MiB + 12345, last: 0, compress: pzstd, rebased: true },
  );
}
cases.push(
  {
    name: 'csv, one frame from a pipe, default options (one chunk)',
    kind: 'csv',
    options: { records: 'csv', timeColumn: 'time' },
    plan: fix(planA),
    total: totalA,
    last: 0,
    compress: pipe,
    rebased: true,
  },
  {
    name: 'csv, pzstd -p 2 without a time column',
    kind: 'csv',
    options: { records: 'csv', timeColumn: null },
    plan: fix(planB),
    total: 7 * MiB + 12345,
    last: 100,
    compress: pzstd,
    rebased: true,
  },
  {
    // A frame over bigUnitBytes is read in pieces, whose CRCs the scan records: re-based onto them.
    name: 'csv, frames of 5 MiB (over bigUnitBytes, in 2 MiB pieces) and 2.2 MiB',
    kind: 'csv',
    options: { records: 'csv', timeColumn: 'time', bigUnitBytes: 4 * MiB, pieceBytes: 2 * MiB },
    plan: fix(planA),
    total: totalA,
    last: 0,
    compress: twoFrames,
    rebased: true,
  },
  {
    // Pieces from 0, 3 and 6 MiB: a record over 3 MiB with a 20 KiB tail, one over 6 MiB with a tail too long.
    name: 'jsonl, one frame in 3 MiB pieces, the last one short',
    kind: 'jsonl',
    options: { records: 'jsonl', timeColumn: 'time', bigUnitBytes: 2 * MiB, pieceBytes: 3 * MiB },
    plan: fix(planA2),
    total: totalA,
    last: 300 * K,
    compress: pipe,
    rebased: true,
  },
  {
    // The scan's pieces cut at 1.5 and 4.5 MiB too: from 1 to 1.5 MiB, 1.5 to 2, 4 to 4.5, 4.5 to 5.
    name: 'csv, one frame in 1.5 MiB pieces (not a multiple of the scan’s 1 MiB)',
    kind: 'csv',
    options: { records: 'csv', timeColumn: 'time', bigUnitBytes: MiB, pieceBytes: 1.5 * MiB },
    plan: fix(planC),
    total: totalA,
    last: 0,
    compress: pipe,
    rebased: true,
  },
  {
    // Pieces of 700 KiB: the scan's cut at every multiple of 700 KiB and of 1 MiB.
    name: 'jsonl, two frames, the first in 700 KiB pieces',
    kind: 'jsonl',
    options: { records: 'jsonl', timeColumn: 'time', bigUnitBytes: 4 * MiB, pieceBytes: 700 * K },
    plan: fix(planA2),
    total: totalA,
    last: 0,
    compress: twoFrames,
    rebased: true,
  },
);

describe('zstd frames without their size: the first index is re-based onto the reader’s chunks, decoded once', () => {
  it.each(cases.map((c, k) => [c.name, k] as const))('%s', async (_, k) => {
    const c = cases[k];
    const dir = tmp.sub('rebase');
    const text = makeText(c.kind, c.plan, c.total, c.last, 100 + k);
    const path = join(dir, `data.${c.kind}.zst`);
    writeFileSync(path, c.compress(text));
    const added: number[] = [];
    const addChunk = RecordBuilder.prototype.addChunk;
    vi.spyOn(RecordBuilder.prototype, 'addChunk').mockImplementation(function (this: RecordBuilder, ...args: Parameters<typeof addChunk>) {
      added.push(args[0]);
      return addChunk.apply(this, args);
    });
    const finishOn = vi.spyOn(RecordBuilder.prototype, 'finishOn');
    const progress: number[] = [];
    const built = await openIndexed(path, { ...c.options, onProgress: (p) => progress.push(p.bytesDone) });
    expect(built.report.status).toBe('built');
    // The pass met 1 MiB pieces, not the reader's chunks: the case this is about. Cut at every MiB of a frame
    // and, when the reader's pieces are not MiBs, at them too (frames from pipes start on a MiB here).
    const scan = added.slice(0, added.indexOf(0, 1) < 0 ? added.length : added.indexOf(0, 1));
    expect(scan.length).toBeGreaterThan(6);
    const piece = c.options.pieceBytes ?? MiB;
    const frameStarts = c.compress === twoFrames ? [0, 5 * MiB] : [0];
    const cuts = new Set<number>();
    for (const from of frameStarts) for (const step of [MiB, piece]) for (let at = from; at < text.length; at += step) cuts.add(at);
    expect(scan.filter((a) => !cuts.has(a))).toEqual([]);
    if (piece % MiB !== 0) expect(scan.filter((a) => a % MiB !== 0).length).toBeGreaterThan(0);
    // Tried every time (the scan knows the CRCs of every piece), refused where the starts do not line up.
    expect(finishOn).toHaveBeenCalledTimes(1);
    expect(finishOn.mock.results[0].value === undefined).toBe(!c.rebased);
    // Decoded once: each chunk given to the builder once, in order; the progress never goes back.
    const once = added.every((a, j) => j === 0 || a > added[j - 1]) && progress.every((d, j) => j === 0 || d >= progress[j - 1]);
    expect(once).toBe(c.rebased);
    // Every record is the brute-force split's.
    const { starts, records } = truth(c.kind, text);
    expect(built.records.count).toBe(starts.length);
    expect(Array.from({ length: starts.length }, (_, r) => built.records.start(r))).toEqual(starts);
    const got = await built.records.getMany(Array.from({ length: starts.length }, (_, r) => r));
    const wrong = got.findIndex((b, r) => !Buffer.from(b).equals(records[r]));
    expect(wrong).toBe(-1);
    const first = await loadAllSections(`${path}.sdx`);
    const firstTimes = built.time === undefined ? undefined : Array.from(built.time.times);
    await built.close();
    const readerStarts = c.rebased ? Array.from(finishOn.mock.calls[0][0] as ArrayLike<number>) : added.slice(added.lastIndexOf(0));
    finishOn.mockReset();
    finishOn.mockReturnValue(undefined);
    added.length = 0;
    // Built again with the re-base refused and without the scan's piece CRCs: the pass after the scan runs
    // over the reader's chunks, and records the CRCs of the pieces of big frames itself.
    vi.spyOn(ZstdDiscovery.prototype, 'pieceCrcs').mockReturnValue(undefined);
    const big = c.options.bigUnitBytes !== undefined;
    const again = await openIndexed(path, { ...c.options, rebuild: true });
    expect(again.report.status).toBe('rebuilt');
    expect(finishOn).toHaveBeenCalledTimes(big ? 0 : 1);
    expect(added.slice(added.lastIndexOf(0))).toEqual(readerStarts);
    const second = await loadAllSections(`${path}.sdx`);
    expect(again.time === undefined ? undefined : Array.from(again.time.times)).toEqual(firstTimes);
    await again.close();
    // Byte-identical: every section but the meta (whose statistics are summed in other groupings), the CRCs
    // of the reader's pieces of big frames among them (the second pass's).
    const names = [...second.keys()].filter((n) => n !== 'meta');
    expect([...first.keys()].filter((n) => n !== 'meta')).toEqual(names);
    expect(names).toEqual(expect.arrayContaining(['records.first', 'records.offsets', 'records.tails', 'records.tailOffsets', 'records.tailStored']));
    expect(names.includes('units.pieceCrc')).toBe(big);
    for (const name of names) expect([name, bytesOf(first.get(name) as SectionValue).equals(bytesOf(second.get(name) as SectionValue))]).toEqual([name, true]);
    // And what a brute-force split says the reader's chunks hold: the first record of each, the offsets
    // within them, and each one's tail (the bytes past its end of the last record starting in it).
    const n = readerStarts.length;
    const firstRecord = [...readerStarts.map((r) => starts.filter((s) => s < r).length), starts.length];
    expect(Array.from(first.get('records.first') as Float64Array)).toEqual(firstRecord);
    const chunkOf = (s: number): number => readerStarts.filter((r) => r <= s).length - 1;
    expect(Array.from(first.get('records.offsets') as Uint32Array)).toEqual(starts.map((s) => s - readerStarts[chunkOf(s)]));
    const tails: Array<Buffer | null> = [];
    for (let i = 0; i < n; i++) {
      const last = firstRecord[i + 1] - 1;
      const end = last < 0 ? 0 : starts[last] + records[last].length + 1;
      const crosses = i + 1 < n && last >= firstRecord[i] && end > readerStarts[i + 1] && end <= text.length;
      const tail = crosses ? text.subarray(readerStarts[i + 1], end) : Buffer.alloc(0);
      tails.push(tail.length > MAX_TAIL_BYTES ? null : tail);
    }
    const tailStored = first.get('records.tailStored') as Uint8Array;
    const tailOffsets = first.get('records.tailOffsets') as Float64Array;
    const tailBytes = Buffer.from(first.get('records.tails') as Uint8Array);
    const gotTails = Array.from({ length: n }, (_, i) => (tailStored[i] === 0 ? null : tailBytes.subarray(tailOffsets[i], tailOffsets[i + 1])));
    expect(gotTails.map((t) => t?.toString() ?? null)).toEqual(tails.map((t) => t?.toString() ?? null));
    // The fixtures reach the cases they are for: a tail too long, a stored one (here a re-based one).
    if (c.rebased && n > 1) {
      expect(tails.includes(null)).toBe(true);
      expect(tails.some((t) => t !== null && t.length > 0)).toBe(true);
    }
  }, 20_000);
});

describe('RecordBuilder.finishOn: the same as a pass over the chunks it is given', () => {
  const spec: AnalyzeSpec = { kind: 'csv', delimiter: 0x2c, begin: 0, inQuote: false, statColumns: 2, time: { field: 0, format: 'iso' }, maxBad: 5, quoting: 'rfc4180' };
  const newBuilder = (header: number): RecordBuilder =>
    new RecordBuilder({ file: 'r.csv', specFor: (offset) => (offset === 0 ? { ...spec, begin: header } : spec), columns: ['time', 'x'], strict: false, maxBad: 5, maxRecordBytes: 1 << 22 });
  const feed = (builder: RecordBuilder, bytes: Uint8Array, bounds: number[], header: number): void => {
    for (let k = 0; k + 1 < bounds.length; k++) {
      const piece = bytes.slice(bounds[k], bounds[k + 1]);
      builder.addChunk(bounds[k], piece, analyzeChunk(piece, bounds[k] === 0 ? { ...spec, begin: header } : spec));
    }
  };
  /** The records built over `cuts` and re-based onto `starts`, and those built over `starts` themselves. */
  const rebaseAndPass = (text: Uint8Array, cuts: number[], starts: number[], header: number): { got: BuiltRecords | undefined; want: BuiltRecords } => {
    const rebased = newBuilder(header);
    feed(rebased, text, cuts, header);
    const got = rebased.finishOn(starts);
    const pass = newBuilder(header);
    feed(pass, text, [...starts, text.length], header);
    return { got, want: pass.finish() };
  };
  const view = (b: BuiltRecords): unknown => ({
    count: b.count,
    firstRecord: Array.from(b.firstRecord),
    offsets: Buffer.from(b.offsets.buffer, b.offsets.byteOffset, b.offsets.byteLength).toString('hex'),
    times: b.times === undefined ? undefined : Buffer.from(b.times.buffer, b.times.byteOffset, b.times.byteLength).toString('hex'),
    tails: Buffer.from(b.tails).toString('hex'),
    tailOffsets: Array.from(b.tailOffsets),
    tailStored: Array.from(b.tailStored),
    badCount: b.badCount,
    bad: b.bad,
  });

  it.each([
    ['exactly MAX_TAIL_BYTES past the new start: stored', 0],
    ['one byte more: not stored', 1],
    ['one byte less: stored', -1],
  ])('a tail too long for the pass, cut by a start %s', (_, more) => {
    const t = new Date(Date.UTC(2024, 0, 1)).toISOString();
    const long = `${t},${'L'.repeat(200 * K)}\n`;
    const text = Buffer.from(`time,x\n${t},1\n${long}${t},2\n${t},3\n`);
    const header = 7;
    const start = text.indexOf(long);
    const end = start + long.length;
    // The pass's chunks: one in the long record's first bytes, one MAX_TAIL_BYTES (+ more) before its end.
    const cut = end - MAX_TAIL_BYTES - more;
    const cuts = [0, start + 10, cut, text.length];
    const { got, want } = rebaseAndPass(text, cuts, [0, cut], header);
    expect(view(got as BuiltRecords)).toEqual(view(want));
    expect(want.tailStored[0]).toBe(more > 0 ? 0 : 1);
  });

  it.each([
    [250, true],
    [260, false],
  ])('%i long records over a chunk end each: the ends of the first 256 kept (re-based: %s)', (records, rebases) => {
    const t = new Date(Date.UTC(2024, 0, 1)).toISOString();
    const long = `${t},${'L'.repeat(MAX_TAIL_BYTES + 1000)}\n`;
    const text = Buffer.from(`time,x\n${long.repeat(records)}${t},2\n`);
    const header = 7;
    // A cut 10 bytes into every long record (its tail too long to store), and one 1000 bytes before the last one's end.
    const cuts = [0, ...Array.from({ length: records }, (_, r) => header + r * long.length + 10), header + records * long.length - 1000, text.length];
    const at = cuts[cuts.length - 2];
    const { got, want } = rebaseAndPass(text, cuts, [0, at], header);
    expect(want.tailStored[0]).toBe(1);
    if (rebases) expect(view(got as BuiltRecords)).toEqual(view(want));
    else expect(got).toBeUndefined();
  });

  it.each([1, 2, 3, 4, 5, 6])('random records and chunks, seed %i', (seed) => {
    const rand = prng(seed);
    const base = Date.UTC(2024, 0, 1);
    const lines = ['time,x'];
    let size = 0;
    for (let r = 0; size < MiB; r++) {
      const u = rand();
      // Short records, blank lines, quoted newlines, unparsable times, and long ones (over MAX_TAIL_BYTES and under).
      const long = u < 0.02 ? 'L'.repeat(Math.floor(rand() * 3 * MAX_TAIL_BYTES)) : '';
      const line = u < 0.05 ? '' : u < 0.1 ? `${new Date(base + r).toISOString()},"a\n${'q'.repeat(Math.floor(rand() * 500))}"` : u < 0.12 ? `never,${r}` : `${new Date(base + r * 1000).toISOString()},${r}${long}`;
      lines.push(line);
      size += line.length + 1;
    }
    const text = Buffer.from(lines.join('\n') + (seed % 2 === 0 ? '\n' : ''));
    const header = text.indexOf(0x0a) + 1;
    // The pass's chunks: from a few bytes to 100 KiB, some cut just after a newline.
    const cuts = [0];
    while (cuts[cuts.length - 1] < text.length) {
      const at = cuts[cuts.length - 1];
      const nl = text.indexOf(0x0a, at + 1);
      const next = rand() < 0.2 && nl > 0 ? nl + 1 : at + 1 + Math.floor(rand() * (rand() < 0.3 ? 50 : 100 * K));
      cuts.push(Math.min(next, text.length));
    }
    const passStarts = cuts.slice(0, -1);
    // The reader's chunks: some of the pass's starts (0 always).
    const readerStarts = passStarts.filter((_, k) => k === 0 || rand() < 0.15);
    const { got, want } = rebaseAndPass(text, cuts, readerStarts, header);
    expect(got).toBeDefined();
    expect(view(got as BuiltRecords)).toEqual(view(want));
    // Not a start of the pass: refused.
    const other = newBuilder(header);
    feed(other, text, cuts, header);
    expect(other.finishOn([0, passStarts[1] + 1])).toBeUndefined();
  });
});
