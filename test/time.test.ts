/**
 * The timestamp index: range queries equal a brute-force filter over the generated truth, for sorted and
 * unsorted files and every supported time format; unparsable times are reported and excluded.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeSharedPool, openIndexed, type IndexedFile, type IndexedOptions } from '../src/index.js';
import { bzip2, prng, tempDir, writeFixture, xz } from './support/fixtures.js';
import { Parts } from '../src/index/records/built-records.js';
import { TimeIndex } from '../src/index/time-index.js';

const tmp = tempDir();
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

const N = 20_000;
const START = Date.UTC(2021, 2, 1);
const SPAN = 400 * 86_400_000;

interface Case {
  name: string;
  /** Renders a time (ms) as the field text. */
  render: (t: number, i: number) => string;
  /** The instant the field means, when it is not exactly t (rounding of the format). */
  truth?: (t: number) => number;
  options: IndexedOptions;
  resolved: string;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
function isoLocal(ms: number, sep = 'T'): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}${sep}${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
}

/** Independent of the library: the wall-clock text of instant t in a zone, via Intl. */
function wallClock(t: number, zone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(new Date(t))
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`;
}

const offsets = [0, 60, -300, 330, -570, 765];
const cases: Case[] = [
  { name: 'ISO with Z', render: (t) => new Date(t).toISOString(), options: {}, resolved: 'iso' },
  {
    name: 'ISO with offsets',
    render: (t, i) => {
      const off = offsets[i % offsets.length];
      const sign = off < 0 ? '-' : '+';
      const a = Math.abs(off);
      const text = isoLocal(t + off * 60_000);
      return i % 2 === 0 ? `${text}${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}` : `${text}${sign}${pad(Math.floor(a / 60))}${pad(a % 60)}`;
    },
    options: { timeFormat: 'iso' },
    resolved: 'iso',
  },
  { name: 'ISO without offset = UTC, space separator', render: (t) => isoLocal(t, ' '), options: {}, resolved: 'iso' },
  {
    name: 'ISO without offset in a time zone',
    // Whole seconds; times in the repeated hour of a DST change are ambiguous, so avoid them by truth mapping.
    render: (t) => wallClock(t, 'America/New_York'),
    truth: (t) => Math.floor(t / 1000) * 1000,
    options: { timeZone: 'America/New_York' },
    resolved: 'iso',
  },
  { name: 'dates', render: (t) => new Date(t).toISOString().slice(0, 10), truth: (t) => Math.floor(t / 86_400_000) * 86_400_000, options: { timeFormat: 'date' }, resolved: 'iso' },
  { name: 'epoch seconds (inferred)', render: (t) => (t / 1000).toFixed(3), options: {}, resolved: 's' },
  { name: 'epoch milliseconds (inferred)', render: (t) => String(t), options: { timeFormat: 'epoch' }, resolved: 'ms' },
  { name: 'epoch microseconds (explicit)', render: (t) => `${t}000`, options: { timeFormat: 'us' }, resolved: 'us' },
  { name: 'epoch nanoseconds (inferred)', render: (t) => `${t}000000`, options: {}, resolved: 'ns' },
];

function makeTimes(sorted: boolean, seed: number): number[] {
  const rand = prng(seed);
  const times = Array.from({ length: N }, () => START + Math.floor(rand() * SPAN));
  if (sorted) times.sort((a, b) => a - b);
  return times;
}

function bruteRange(truth: number[], t0: number, t1: number): number[] {
  const hits: number[] = [];
  truth.forEach((t, i) => {
    if (t >= t0 && t < t1) hits.push(i);
  });
  return hits.sort((a, b) => truth[a] - truth[b] || a - b);
}

function checkRanges(file: IndexedFile, truth: number[], label: string, seed: number): void {
  const rand = prng(seed);
  for (let q = 0; q < 200; q++) {
    const t0 = START - 86_400_000 + Math.floor(rand() * (SPAN + 2 * 86_400_000));
    const t1 = t0 + Math.floor(rand() * SPAN * (q % 10 === 0 ? 0.3 : 0.01));
    expect(Array.from(file.range(t0, t1)), `${label} [${t0}, ${t1})`).toEqual(bruteRange(truth, t0, t1));
  }
  const valid = truth.filter((t) => !Number.isNaN(t));
  expect(file.time?.summary.first).toBe(Math.min(...valid));
  expect(file.time?.summary.last).toBe(Math.max(...valid));
  // nearest: no record is closer than the one returned.
  for (let q = 0; q < 50; q++) {
    const t = START + Math.floor(rand() * SPAN);
    const got = file.nearest(t);
    if (got === undefined) throw new Error('no nearest');
    const best = Math.min(...valid.map((v) => Math.abs(v - t)));
    expect(Math.abs(truth[got] - t)).toBe(best);
  }
}

describe.each([true, false])('sorted=%s', (sorted) => {
  it.each(cases.map((c) => [c.name, c] as const))('%s: ranges equal a brute-force filter', async (_name, c) => {
    const times = makeTimes(sorted, c.name.length);
    const truth = times.map((t) => (c.truth ?? ((x: number) => x))(t));
    const lines = ['id,when,value', ...times.map((t, i) => `${i},${c.render(t, i)},${i % 13}`)];
    const content = Buffer.from(lines.join('\n') + '\n');
    for (const [ext, bytes] of [
      ['bz2', bzip2(content, 1)],
      ['csv', content],
    ] as const) {
      const path = writeFixture(tmp.dir, `${c.name.replace(/\W+/g, '-')}-${sorted}.${ext}`, bytes);
      for (const pass of ['built', 'loaded']) {
        const file = await openIndexed(path, { records: 'csv', timeColumn: 'when', ...c.options });
        expect(file.report.status).toBe(pass);
        expect(file.report.time?.format).toBe(c.resolved);
        expect(file.time?.summary.sorted).toBe(sorted);
        expect(file.info().sorted).toBe(sorted);
        checkRanges(file, truth, `${c.name} ${ext} ${pass}`, 9);
        await file.close();
      }
    }
  });
});

describe('unparsable and other time sources', () => {
  it('unparsable timestamps are counted, listed and excluded; strict makes them an error', async () => {
    const times = makeTimes(true, 77);
    const bad = new Set([5, 17, 18, 999, 12_345]);
    const truth = times.map((t, i) => (bad.has(i) ? NaN : t));
    const lines = ['when,v', ...times.map((t, i) => `${bad.has(i) ? (i === 999 ? '' : `garbage-${i}`) : new Date(t).toISOString()},${i}`)];
    const path = writeFixture(tmp.dir, 'bad-times.csv.xz', xz(Buffer.from(lines.join('\n') + '\n'), '--block-size=64KiB'));
    const file = await openIndexed(path, { records: 'csv', timeColumn: 'when' });
    expect(file.report.time?.unparsable).toBe(5);
    expect(file.report.time?.unparsableExamples.map((e) => e.record)).toEqual([5, 17, 18, 999, 12_345]);
    expect(file.report.time?.unparsableExamples[0].text).toBe('garbage-5');
    expect(file.info().unparsableTimes).toBe(5);
    checkRanges(file, truth, 'bad', 3);
    await file.close();
    await expect(openIndexed(path, { records: 'csv', timeColumn: 'when', strict: true, rebuild: true })).rejects.toMatchObject({ code: 'PARSE_ERROR', record: 5 });
    // A stored index with unparsable times also refuses strict opens.
    await expect(openIndexed(path, { records: 'csv', timeColumn: 'when', strict: true })).rejects.toMatchObject({ code: 'PARSE_ERROR' });
  });

  it('JSONL with a dotted field path, and a user time function', async () => {
    const times = makeTimes(false, 8);
    const lines = times.map((t, i) => JSON.stringify({ id: i, meta: { ts: new Date(t).toISOString() }, ms: t }));
    const path = writeFixture(tmp.dir, 'events.jsonl.bz2', bzip2(Buffer.from(lines.join('\n') + '\n'), 1));
    const byPath = await openIndexed(path, { records: 'jsonl', timeColumn: 'meta.ts', index: false });
    checkRanges(byPath, times, 'jsonl path', 4);
    await byPath.close();
    const byNumber = await openIndexed(path, { records: 'jsonl', timeColumn: 'ms', index: false });
    expect(byNumber.report.time?.format).toBe('ms');
    checkRanges(byNumber, times, 'jsonl number', 5);
    await byNumber.close();
    const byFunction = await openIndexed(path, { records: 'lines', time: (line) => (JSON.parse(line) as { ms: number }).ms, index: false });
    expect(byFunction.report.time?.format).toBe('function');
    checkRanges(byFunction, times, 'function', 6);
    await byFunction.close();
  });

  it('a time column that does not exist is INVALID_OPTION naming the columns', async () => {
    const path = writeFixture(tmp.dir, 'cols.csv', Buffer.from('a,b\n1,2\n'));
    await expect(openIndexed(path, { records: 'csv', timeColumn: 'when' })).rejects.toThrow(/timeColumn must be a column of .*\(a, b\)/);
    await expect(openIndexed(path, { records: 'csv', timeZone: 'Mars/Olympus' })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    const file = await openIndexed(path, { records: 'csv' });
    expect(() => file.range(0, 1)).toThrow(/no timestamp index/);
    await file.close();
  });
});

describe('the pass end: offsets and times in parts', () => {
  it('a sliced join gives the plain join (once: both hand out the same array), the event loop running between slices', async () => {
    const rand = prng(3);
    const parts = new Parts<Float64Array>((n) => new Float64Array(n));
    const plain = new Parts<Float64Array>((n) => new Float64Array(n));
    for (let k = 0; k < 400; k++) {
      const part = Float64Array.from({ length: Math.floor(rand() * 900) }, () => rand());
      parts.add(part);
      plain.add(part);
    }
    // Counts turns of the event loop (one tick per turn's check phase) while the join runs.
    let turns = 0;
    let joining = true;
    const tick = (): void => {
      turns++;
      if (joining) setImmediate(tick);
    };
    setImmediate(tick);
    const sliced = await parts.doneSliced();
    joining = false;
    expect(sliced).toEqual(plain.done());
    expect(parts.done()).toBe(sliced);
    expect(await parts.doneSliced()).toBe(sliced);
    // Over 1 MiB copied in 512 KiB slices: the loop turned between them.
    expect(sliced.byteLength).toBeGreaterThan(1 << 20);
    expect(turns).toBeGreaterThanOrEqual(2);
    expect(() => parts.add(new Float64Array(1))).toThrow(/after the join/);
  });

  it('a part added while a sliced join yields is refused, not lost from the joined array', async () => {
    const parts = new Parts<Float64Array>((n) => new Float64Array(n));
    for (let k = 0; k < 4; k++) parts.add(new Float64Array(100_000).fill(k));
    const joining = parts.doneSliced();
    // The join copies 512 KiB, then yields: the add runs between two slices.
    await new Promise((resolve) => setImmediate(resolve));
    expect(() => parts.add(new Float64Array(1))).toThrow(/after the join began/);
    const joined = await joining;
    expect(joined.length).toBe(400_000);
    expect(joined[399_999]).toBe(3);
  });

  it('the summary of sorted, valid times from their parts is the one TimeIndex.build gives the joined times', () => {
    const rand = prng(9);
    for (const sizes of [[], [1], [3, 1, 4], [500, 1, 1, 200]]) {
      let t = -5e12 * rand();
      const parts = sizes.map((n) => Float64Array.from({ length: n }, () => (t += Math.floor(rand() * 3))));
      const joined = Float64Array.from(parts.flatMap((p) => [...p]));
      expect(TimeIndex.needsOrder({ valid: joined.length, sorted: true }, joined.length)).toBe(false);
      expect(TimeIndex.sortedSummary(parts)).toEqual(TimeIndex.build(joined).summary);
    }
    expect(TimeIndex.needsOrder({ valid: 9, sorted: true }, 10)).toBe(true);
    expect(TimeIndex.needsOrder({ valid: 10, sorted: false }, 10)).toBe(true);
  });
});
