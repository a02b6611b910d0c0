/**
 * The `map` step (issue 11 §2, issue 13 item 5): a module the caller names, run on parsed rows (or a
 * job's rows as columns) in the worker pool; errors in it are MAP_ERRORs naming the record; only the
 * named module is loaded. And the built-in time features (hour of day, day of week, ...) from the time
 * index. The truth is the plain rows, computed here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { closeSharedPool, csvDataset, SeekdataError, type Batch, type FileDataset } from '../src/index.js';
import { bzip2, prng, tempDir, writeFixture } from './support/fixtures.js';

const tmp = tempDir('seekdata-ergo-map-');
const ROWS = 2000;
const START = Date.UTC(2024, 2, 9, 0, 30); // across the US switch to summer time (2024-03-10)
const STEP = 37 * 60_000;
let path = '';
const rows: Array<{ t: number; a: number; b: number; y: number }> = [];

beforeAll(() => {
  const rand = prng(3);
  const lines = ['ts,a,b,y'];
  for (let i = 0; i < ROWS; i++) {
    const t = START + i * STEP;
    const a = Math.round(rand() * 1000) / 10;
    const b = Math.round(rand() * 100);
    const y = i % 3;
    rows.push({ t, a, b, y });
    lines.push(`${new Date(t).toISOString()},${a},${b},${y}`);
  }
  path = writeFixture(tmp.dir, 'map.csv.bz2', bzip2(Buffer.from(lines.join('\n') + '\n')));
});

afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

function module(name: string, code: string): string {
  const file = join(tmp.dir, name);
  writeFileSync(file, code);
  return file;
}

async function collect(dataset: AsyncIterable<Batch>): Promise<{ xs: number[][]; ys: number[][] }> {
  const out = { xs: [] as number[][], ys: [] as number[][] };
  for await (const b of dataset) {
    const F = b.xsShape[1];
    const L = b.ysShape[1] ?? 0;
    for (let k = 0; k < b.size; k++) {
      out.xs.push(Array.from(b.xs.subarray(k * F, (k + 1) * F)));
      out.ys.push(b.ys === undefined ? [] : Array.from(b.ys.subarray(k * L, (k + 1) * L)));
    }
  }
  return out;
}

async function open(extra: Record<string, unknown>): Promise<FileDataset> {
  return csvDataset(path, { columnConfigs: { a: {}, b: {}, y: { isLabel: true } }, configuredColumnsOnly: true, timeColumn: 'ts', shuffle: false, batchSize: 300, ...extra });
}

describe('map in the worker pool', () => {
  it('a row map gets the parsed row, its record and time, and gives the batches its columns', async () => {
    const file = module('row.mjs', `export default ({ xs, ys, record, time }) => ({ xs: { sum: xs.a + xs.b, record, minute: new Date(time).getUTCMinutes() }, ys: { y: ys.y * 10 } });\n`);
    const dataset = await open({ map: { module: file, features: ['sum', 'record', 'minute'], labels: ['y'] }, labelType: 'float32' });
    try {
      expect(dataset.featureNames).toEqual(['sum', 'record', 'minute']);
      const got = await collect(dataset);
      expect(got.xs).toHaveLength(ROWS);
      rows.forEach((r, i) => {
        expect(got.xs[i][0]).toBeCloseTo(r.a + r.b, 3);
        expect(got.xs[i][1]).toBe(i);
        expect(got.xs[i][2]).toBe(new Date(r.t).getUTCMinutes());
        expect(got.ys[i]).toEqual([r.y * 10]);
      });
    } finally {
      await dataset.close();
    }
  });

  it('a batched map (named export, file: URL) gets typed columns and runs in worker threads', async () => {
    const file = module(
      'batched.mjs',
      `import { threadId } from 'node:worker_threads';
export function columns({ xs, records, times, size }) {
  const product = new Float32Array(size);
  for (let k = 0; k < size; k++) product[k] = xs.a[k] * xs.b[k];
  const hours = Float64Array.from(times, (t) => new Date(t).getUTCHours());
  return { xs: { product, hours, thread: new Float32Array(size).fill(threadId), isTyped: new Float32Array(size).fill(xs.a instanceof Float32Array && records instanceof Float64Array ? 1 : 0) } };
}\n`,
    );
    const dataset = await open({ map: { module: pathToFileURL(file).href, export: 'columns', batched: true, features: ['product', 'hours', 'thread', 'isTyped'] } });
    try {
      const got = await collect(dataset);
      expect(got.xs).toHaveLength(ROWS);
      rows.forEach((r, i) => {
        expect(got.xs[i][0]).toBeCloseTo(Math.fround(r.a) * r.b, 1);
        expect(got.xs[i][1]).toBe(new Date(r.t).getUTCHours());
        expect(got.xs[i][3]).toBe(1);
        // Labels the map does not return pass through.
        expect(got.ys[i]).toEqual([r.y]);
      });
      // The shared pool's worker threads, not the main thread (threadId 0), ran it.
      expect(got.xs.every((x) => x[2] > 0)).toBe(true);
    } finally {
      await dataset.close();
    }
  });

  it("an error in the user's code is a MAP_ERROR naming the file, the record and the module", async () => {
    const file = module('throws.mjs', `export default ({ xs, record }) => { if (record === 1234) throw new RangeError('no good'); return { xs }; };\n`);
    const dataset = await open({ map: { module: file } });
    try {
      const error = await collect(dataset).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SeekdataError);
      expect((error as SeekdataError).code).toBe('MAP_ERROR');
      expect((error as SeekdataError).message).toMatch(/map\.csv\.bz2: map .*throws\.mjs threw RangeError: no good on record 1234/);
      expect((error as SeekdataError).record).toBe(1234);
    } finally {
      await dataset.close();
    }
  });

  it('output of the wrong shape is a MAP_ERROR saying what is wrong (batched: naming the records of the call)', async () => {
    const row = module('shape.mjs', `export default ({ xs, record }) => ({ xs: record === 5 ? { a: 'x', b: xs.b } : xs });\n`);
    const d1 = await open({ map: { module: row } });
    await expect(collect(d1)).rejects.toThrow(/map .*shape\.mjs returned xs\.a as string, not a number on record 5/);
    await d1.close();
    const batched = module('short.mjs', `export default ({ xs, size }) => ({ xs: { a: xs.a.subarray(0, size - 1), b: xs.b } });\n`);
    const d2 = await open({ map: { module: batched, batched: true } });
    await expect(collect(d2)).rejects.toThrow(/returned xs\.a not as \d+ numbers on records 0 to \d+ \(a batched call of \d+ rows\)/);
    await d2.close();
    const extra = module('extra.mjs', `export default ({ xs }) => ({ xs: { ...xs, c: 1 } });\n`);
    const d3 = await open({ map: { module: extra } });
    await expect(collect(d3)).rejects.toThrow(/returned xs columns not declared in map\.features \(c; declared: a, b\)/);
    await d3.close();
  });

  it('names only local modules: a missing file, another scheme or a missing export are refused, naming it', async () => {
    await expect(open({ map: { module: join(tmp.dir, 'nope.mjs') } })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/map module .*nope\.mjs not found/) });
    await expect(open({ map: { module: 'https://example.org/m.js' } })).rejects.toThrow(/options\.map\.module must be a file path or a file: URL \(only local modules are loaded\)/);
    await expect(open({ map: { module: 'data:text/javascript,export default () => ({})' } })).rejects.toThrow(/only local modules are loaded/);
    const file = module('noexport.mjs', `export const other = 1;\n`);
    const dataset = await open({ map: { module: file } });
    await expect(collect(dataset)).rejects.toMatchObject({ code: 'MAP_ERROR', message: expect.stringMatching(/has no function export "default" \(its exports: other\)/) });
    await dataset.close();
  });

  it('nothing stored names a module: the index and the state hold no trace of it, and a dataset without map loads none', async () => {
    const marker = join(tmp.dir, 'loaded.txt');
    const file = module('marked.mjs', `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(marker)}, 'x');\nexport default ({ xs }) => ({ xs });\n`);
    const mapped = await open({ map: { module: file } });
    for await (const b of mapped) if (b.size > 0) break;
    const state = JSON.stringify(mapped.state());
    await mapped.close();
    const loads = readFileSync(marker, 'utf8').length;
    expect(loads).toBeGreaterThan(0);
    expect(state).not.toMatch(/marked/);
    const indexes = readdirSync(tmp.dir).filter((n) => n.endsWith('.sdx'));
    expect(indexes).toContain('map.csv.bz2.sdx');
    for (const name of indexes) expect(readFileSync(join(tmp.dir, name)).includes('marked')).toBe(false);
    const plain = await open({});
    const got = await collect(plain);
    await plain.close();
    expect(got.xs[7]).toEqual([Math.fround(rows[7].a), rows[7].b]);
    // The module was not loaded again by anything.
    expect(readFileSync(marker, 'utf8').length).toBe(loads);
  });
});

describe('time features (the built-in derived features)', () => {
  it('hour of day and day of week (0 = Monday) of each record, in a time zone, after the features', async () => {
    const dataset = await open({ timeFeatures: ['hourOfDay', 'dayOfWeek', 'hourOfDaySin'], timeFeatureZone: 'America/New_York' });
    try {
      expect(dataset.featureNames).toEqual(['a', 'b', 'hourOfDay', 'dayOfWeek', 'hourOfDaySin']);
      const got = await collect(dataset);
      const parts = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', hour: 'numeric', hourCycle: 'h23', minute: 'numeric', weekday: 'short' });
      const days = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
      rows.forEach((r, i) => {
        const p = Object.fromEntries(parts.formatToParts(new Date(r.t)).map((x) => [x.type, x.value]));
        expect(got.xs[i][2]).toBe(Number(p.hour));
        expect(got.xs[i][3]).toBe(days.indexOf(p.weekday));
        expect(got.xs[i][4]).toBeCloseTo(Math.sin((2 * Math.PI * (Number(p.hour) + Number(p.minute) / 60)) / 24), 5);
      });
    } finally {
      await dataset.close();
    }
  });

  it('need a time index and known names', async () => {
    const noTime = writeFixture(tmp.dir, 'notime.csv', Buffer.from('a,b\n1,2\n'));
    await expect(csvDataset(noTime, { timeFeatures: ['hourOfDay'] })).rejects.toThrow(/options\.timeFeatures needs a time index/);
    await expect(open({ timeFeatures: ['hour'] as never })).rejects.toThrow(/options\.timeFeatures must be names among hourOfDay/);
    await expect(open({ timeFeatures: ['hourOfDay'], timeFeatureZone: 'Mars/Base' })).rejects.toThrow(/options\.timeFeatureZone must be an IANA time zone name/);
  });
});
