/**
 * A hostile review of `map.timeoutMs`: races between a call's end and the watcher's stop, a stop while
 * other readers, datasets and an index build share the pool (their rows and bytes checked against the
 * text written), abandoning or closing while a timed call spins, thenables, module loads that fail. The
 * truth: the rows and lines the fixtures were written from.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeSharedPool, csvDataset, openIndexed, SeekdataError, type Batch } from '../src/index.js';
import { tempDir, writeFixture, xz } from './support/fixtures.js';

const tmp = tempDir('seekdata-map-hostile-');
const ROWS = 3000;
const BOUND = 90_000;
const columns = { columnConfigs: { a: {}, b: {}, y: { isLabel: true } }, configuredColumnsOnly: true };
let csvPath = '';
let otherPath = '';
let otherLines: string[] = [];
const modules: Record<string, string> = {};
const truth: Array<{ a: number; b: number; y: number }> = [];
const sleep = 'const pause = new Int32Array(new SharedArrayBuffer(4)); const sleep = (ms) => Atomics.wait(pause, 0, 0, ms);';

function module(name: string, code: string): string {
  const file = join(tmp.dir, name);
  writeFileSync(file, code);
  modules[name] = file;
  return file;
}

/** Every batch's rows by record (a: its first feature), or the error that ended the epoch; fails on a hang. */
async function drain(dataset: AsyncIterable<Batch>): Promise<{ rows: Map<number, number>; error: unknown }> {
  const rows = new Map<number, number>();
  let error: unknown;
  const work = (async () => {
    try {
      for await (const b of dataset) {
        for (let k = 0; k < b.size; k++) {
          expect(rows.has(b.records[k]), `record ${b.records[k]} twice`).toBe(false);
          rows.set(b.records[k], b.xs[k * (b.xs.length / b.size)]);
        }
      }
    } catch (e) {
      error = e;
    }
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = await Promise.race([work.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(resolve, BOUND, true)))]);
  clearTimeout(timer);
  expect(hung, 'the epoch hung').toBe(false);
  return { rows, error };
}

function within<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    work.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${BOUND} ms`)), BOUND))),
  ]);
}

beforeAll(() => {
  // A padding column (not read): ~45 bytes a line, so 8 KiB blocks hold ~180 records and a dataset runs ~17 jobs.
  const csv = ['a,b,y,pad'];
  for (let i = 0; i < ROWS; i++) {
    const row = { a: i % 97, b: (i * 7) % 13, y: i % 3 };
    truth.push(row);
    csv.push(`${row.a},${row.b},${row.y},${'p'.repeat(36)}`);
  }
  csvPath = writeFixture(tmp.dir, 'rows.csv.xz', xz(Buffer.from(csv.join('\n') + '\n'), '--block-size=8KiB', '-T1'));
  otherLines = [];
  for (let i = 0; i < 20000; i++) otherLines.push(`line ${i} ${'x'.repeat(i % 50)}`);
  otherPath = writeFixture(tmp.dir, 'other.txt.xz', xz(Buffer.from(otherLines.join('\n') + '\n'), '--block-size=16KiB', '-T1'));
  // Each batched call sleeps about the limit (46-54 ms around a 50 ms limit): the call's end and the watcher's stop cross.
  module('edge.mjs', `${sleep}\nexport default ({ xs, records }) => { sleep(46 + (records[0] % 9)); return { xs }; };\n`);
  // Spins for ever on every record from 500 on.
  module('spin.mjs', `export default ({ xs, record }) => { if (record >= 1500) for (;;) {} return { xs }; };\n`);
  // Spins for ever from record 300 on (the second chunk): the first batches come, later jobs spin.
  // It leaves a mark when it starts spinning (so a test knows a call spins).
  module('spin-early.mjs', `import { existsSync, rmSync, writeFileSync } from 'node:fs';\nexport default ({ xs, record }) => { if (record >= 300) { writeFileSync(${JSON.stringify(join(tmp.dir, 'spinning'))}, ''); for (;;) {} } return { xs }; };\n`);
  module('spin-batched.mjs', `export default ({ xs, records }) => { if (records[0] >= 1500) for (;;) {} return { xs }; };\n`);
  module('thenable.mjs', `export default ({ xs }) => ({ then(resolve) { resolve({ xs }); } });\n`);
  module('never-thenable.mjs', `export default ({ xs }) => ({ then() {} });\n`);
  module('import-fails.mjs', `throw new Error('cannot start');\nexport default ({ xs }) => ({ xs });\n`);
  module('slow-call.mjs', `${sleep}\nexport default ({ xs }) => { sleep(30); return { xs }; };\n`);
  module('slow-import.mjs', `${sleep}\nsleep(150);\nexport default ({ xs }) => ({ xs });\n`);
});

afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

describe('races between a call ending and the watcher stopping it', () => {
  it('calls of about the limit: each epoch gives all the rows, right, or a MAP_ERROR; never both, never a hang', async () => {
    const outcomes: string[] = [];
    for (let epoch = 0; epoch < 6; epoch++) {
      const dataset = await csvDataset(csvPath, { ...columns, shuffle: 'chunked', seed: epoch, batchSize: 100, map: { module: modules['edge.mjs'], batched: true, timeoutMs: 50 } });
      try {
        const { rows, error } = await drain(dataset);
        if (error === undefined) {
          expect(rows.size).toBe(ROWS);
          truth.forEach((r, i) => expect(rows.get(i)).toBe(r.a));
          outcomes.push('rows');
        } else {
          expect(error).toBeInstanceOf(SeekdataError);
          expect((error as SeekdataError).code).toBe('MAP_ERROR');
          // The module's first load in a new thread is timed too (README, map.timeoutMs): on a loaded machine
          // it alone can pass 50 ms, after a thread was terminated.
          expect((error as SeekdataError).message).toMatch(/did not return within 50 ms on records \d+ to \d+|did not load within 50 ms on record \d+/);
          // Rows delivered before the error are right.
          for (const [record, a] of rows) expect(a).toBe(truth[record].a);
          outcomes.push('error');
        }
      } finally {
        await dataset.close();
      }
    }
    expect(outcomes.length).toBe(6);
    console.log(`calls of about the limit: ${outcomes.join(', ')}`);
  });
});

describe('a stop while others share the pool', () => {
  it('an untimed dataset, a reader and an index build beside a timed map that trips: theirs all right', async () => {
    const timed = await csvDataset(csvPath, { ...columns, shuffle: false, batchSize: 50, map: { module: modules['spin.mjs'], timeoutMs: 200 } });
    const plain = await csvDataset(csvPath, { ...columns, shuffle: 'chunked', seed: 5, batchSize: 64 });
    try {
      const indexed = (async () => {
        const file = await openIndexed(otherPath, { records: 'lines' });
        try {
          const n = file.info().records ?? file.records.count;
          const got: string[] = [];
          const dec = new TextDecoder();
          for (let r = 0; r < n; r += 997) got.push(dec.decode(await file.records.get(r)));
          return { n, got };
        } finally {
          await file.close();
        }
      })();
      const [t, p, ix] = await within(Promise.all([drain(timed), drain(plain), indexed]), 'the three');
      expect((t.error as SeekdataError).code).toBe('MAP_ERROR');
      expect(p.error).toBeUndefined();
      expect(p.rows.size).toBe(ROWS);
      truth.forEach((r, i) => expect(p.rows.get(i)).toBe(r.a));
      expect(ix.n).toBe(otherLines.length);
      ix.got.forEach((line, k) => expect(line.replace(/\n$/, '')).toBe(otherLines[k * 997]));
    } finally {
      await timed.close();
      await plain.close();
    }
  });

  it('two timed datasets that both trip at once: two MAP_ERRORs', async () => {
    const one = await csvDataset(csvPath, { ...columns, shuffle: false, batchSize: 50, map: { module: modules['spin.mjs'], timeoutMs: 150 } });
    const two = await csvDataset(csvPath, { ...columns, shuffle: 'chunked', seed: 2, batchSize: 50, map: { module: modules['spin-batched.mjs'], batched: true, timeoutMs: 400 } });
    try {
      const [a, b] = await Promise.all([drain(one), drain(two)]);
      expect((a.error as SeekdataError).message).toContain('did not return within 150 ms');
      expect((b.error as SeekdataError).message).toContain('did not return within 400 ms');
    } finally {
      await one.close();
      await two.close();
    }
  });
});

describe('abandoning while a timed call spins', () => {
  const mark = (): string => join(tmp.dir, 'spinning');
  /** Waits until a call of spin-early.mjs spins (it leaves its mark first). */
  const spinning = async (): Promise<void> => {
    for (let k = 0; k < 600 && !existsSync(mark()); k++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(existsSync(mark()), 'a call spins').toBe(true);
  };
  beforeEach(() => rmSync(mark(), { force: true }));

  it('breaking out of for await, then closing: no hang, no unhandled rejection, the pool works after', async () => {
    const dataset = await csvDataset(csvPath, { ...columns, shuffle: false, batchSize: 50, map: { module: modules['spin-early.mjs'], timeoutMs: 1500 } });
    let batches = 0;
    for await (const b of dataset) {
      batches += b.size > 0 ? 1 : 0;
      // Left while a later job spins.
      await spinning();
      break;
    }
    expect(batches).toBe(1);
    await within(dataset.close(), 'close');
    // Jobs spinning when the dataset was left are stopped by the watcher (their rejections are nobody's): wait past the limit.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const plain = await csvDataset(csvPath, { ...columns, shuffle: false, batchSize: 500 });
    const { rows, error } = await drain(plain);
    expect(error).toBeUndefined();
    expect(rows.size).toBe(ROWS);
    await plain.close();
  });

  it('closeSharedPool() mid-epoch while a timed call spins: the epoch ends with an error, close returns', async () => {
    const dataset = await csvDataset(csvPath, { ...columns, shuffle: false, batchSize: 50, map: { module: modules['spin-early.mjs'], timeoutMs: 1500 } });
    const it = dataset[Symbol.asyncIterator]();
    expect((await it.next()).done).toBe(false);
    await spinning();
    const epoch = drain({ [Symbol.asyncIterator]: () => it });
    await within(closeSharedPool(), 'closeSharedPool');
    const { error } = await epoch;
    expect(error).toBeInstanceOf(SeekdataError);
    expect(['MAP_ERROR', 'CLOSED']).toContain((error as SeekdataError).code);
    await dataset.close();
  });
});

describe('closing with a long limit while a call spins', () => {
  it('closeSharedPool() does not wait for the limit: a call in a timed map is stopped at once (CLOSED)', async () => {
    rmSync(join(tmp.dir, 'spinning'), { force: true });
    const dataset = await csvDataset(csvPath, { ...columns, shuffle: false, batchSize: 50, map: { module: modules['spin-early.mjs'], timeoutMs: 1e9 } });
    const it = dataset[Symbol.asyncIterator]();
    expect((await it.next()).done).toBe(false);
    for (let k = 0; k < 600 && !existsSync(join(tmp.dir, 'spinning')); k++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(existsSync(join(tmp.dir, 'spinning')), 'a call spins').toBe(true);
    const epoch = drain({ [Symbol.asyncIterator]: () => it });
    // Far below the limit (11 days), far above the time a close takes on a loaded machine.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const closed = await Promise.race([closeSharedPool().then(() => 'closed'), new Promise<string>((resolve) => (timer = setTimeout(resolve, 30_000, 'still waiting')))]);
    clearTimeout(timer);
    expect(closed).toBe('closed');
    const { error } = await epoch;
    expect(error).toBeInstanceOf(SeekdataError);
    // The limit is far away: only the close can have stopped it.
    expect((error as SeekdataError).code).toBe('CLOSED');
    expect((error as SeekdataError).message).toMatch(new RegExp(`^${csvPath}: map ${modules['spin-early.mjs']} was stopped on record \\d+: the worker pool closed while it ran$`));
    await dataset.close();
  });
});

describe('thenables and module loads', () => {
  it('a row map returning a thenable that resolves: its value is used, as a batched map awaits it', async () => {
    for (const batched of [false, true]) {
      const dataset = await csvDataset(csvPath, { ...columns, shuffle: false, batchSize: 500, map: { module: modules['thenable.mjs'], batched, timeoutMs: 5000 } });
      try {
        const { rows, error } = await drain(dataset);
        expect(error, `batched: ${batched}`).toBeUndefined();
        expect(rows.size).toBe(ROWS);
        truth.forEach((r, i) => expect(rows.get(i)).toBe(r.a));
      } finally {
        await dataset.close();
      }
    }
  });

  it('a row map returning a thenable that never settles is timed, as a never-settling promise is', async () => {
    const dataset = await csvDataset(csvPath, { ...columns, shuffle: false, batchSize: 500, map: { module: modules['never-thenable.mjs'], timeoutMs: 200 } });
    try {
      const { error } = await drain(dataset);
      expect((error as SeekdataError).code).toBe('MAP_ERROR');
      expect((error as SeekdataError).message).toMatch(new RegExp(`^${csvPath}: map ${modules['never-thenable.mjs']} did not return within 200 ms on record \\d+$`));
    } finally {
      await dataset.close();
    }
  });

  it('a module whose import throws: MAP_ERROR naming the file, the record and the module', async () => {
    const dataset = await csvDataset(csvPath, { ...columns, shuffle: false, batchSize: 500, map: { module: modules['import-fails.mjs'], timeoutMs: 2000 } });
    try {
      const { error } = await drain(dataset);
      expect(error).toBeInstanceOf(SeekdataError);
      expect((error as SeekdataError).code).toBe('MAP_ERROR');
      expect((error as SeekdataError).message).toContain(modules['import-fails.mjs']);
      expect((error as SeekdataError).message).toContain('cannot start');
      expect((error as SeekdataError).message).toContain(csvPath);
      expect((error as SeekdataError).message).toMatch(/on record \d+/);
    } finally {
      await dataset.close();
    }
  });

  it('a module that takes long to import, under the limit: all rows', async () => {
    const dataset = await csvDataset(csvPath, { ...columns, shuffle: false, batchSize: 500, map: { module: modules['slow-import.mjs'], timeoutMs: 1500 } });
    try {
      const { rows, error } = await drain(dataset);
      expect(error).toBeUndefined();
      expect(rows.size).toBe(ROWS);
    } finally {
      await dataset.close();
    }
  });

  it('limits: 1 ms and 1e9 ms are kept as given (1 ms stops a slow map and names 1 ms; 1e9 ms never stops a quick one)', async () => {
    // 1 ms is kept, not raised to some minimum: a map that sleeps 30 ms a call is stopped, and the stop names 1 ms.
    const slow = await csvDataset(csvPath, { ...columns, shuffle: false, batchSize: 500, map: { module: modules['slow-call.mjs'], batched: true, timeoutMs: 1 } });
    try {
      const { rows, error } = await drain(slow);
      expect(error).toBeInstanceOf(SeekdataError);
      expect((error as SeekdataError).code).toBe('MAP_ERROR');
      expect((error as SeekdataError).message).toMatch(/within 1 ms/);
      for (const [record, a] of rows) expect(a).toBe(truth[record].a);
    } finally {
      await slow.close();
    }
    // A quick map under 1 ms: all rows, or (on a loaded machine, where loading the module alone can take longer) a
    // stop that names 1 ms. Never wrong rows, never another error.
    const quick = await csvDataset(csvPath, { ...columns, shuffle: false, batchSize: 500, map: { module: modules['thenable.mjs'], batched: true, timeoutMs: 1 } });
    try {
      const { rows, error } = await drain(quick);
      if (error === undefined) expect(rows.size).toBe(ROWS);
      else expect((error as SeekdataError).message).toMatch(/within 1 ms/);
      for (const [record, a] of rows) expect(a).toBe(truth[record].a);
    } finally {
      await quick.close();
    }
    // 1e9 ms (about 11.6 days) is kept and never stops a quick map.
    const long = await csvDataset(csvPath, { ...columns, shuffle: false, batchSize: 500, map: { module: modules['thenable.mjs'], batched: true, timeoutMs: 1e9 } });
    try {
      const { rows, error } = await drain(long);
      expect(error).toBeUndefined();
      expect(rows.size).toBe(ROWS);
      truth.forEach((r, i) => expect(rows.get(i)).toBe(r.a));
    } finally {
      await long.close();
    }
  });
});
