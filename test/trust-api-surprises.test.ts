/**
 * Small surprises removed (issue 11 §4): loadTf says why it fell back when @tensorflow/tfjs-node is
 * installed but broken; TimeRangeDataset takes ISO strings and Dates for from/to as the CLI does (one
 * strict parser) and refuses ShuffledBatchDataset's options with the reason; record numbers are one type,
 * Float64Array, from file.range() and in batch.records alike.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeSharedPool, loadTf, openIndexed, SeekdataError, ShuffledBatchDataset, TimeRangeDataset, type IndexedFile } from '../src/index.js';
import { cli } from './support/cli.js';
import { repoRoot, runTsx } from './support/process.js';
import { bzip2, prng, tempDir, writeFixture } from './support/fixtures.js';

const tmp = tempDir();
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

/** The rejection (or throw) of `run`, which must be a SeekdataError. */
async function failure(run: () => unknown): Promise<SeekdataError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof SeekdataError) return error;
    throw error;
  }
  throw new Error('expected a SeekdataError');
}

describe('loadTf', () => {
  /**
   * A project directory whose node_modules holds the packages given (`@tensorflow/tfjs` is a link to the
   * real one) and an importer module in it, so that `import(name)` resolves from there as seekdata's
   * resolves from a user's project.
   */
  function project(name: string, packages: { nativeThrows?: string; tfjs?: boolean }): string {
    const root = join(tmp.dir, name);
    mkdirSync(join(root, 'node_modules/@tensorflow'), { recursive: true });
    if (packages.nativeThrows !== undefined) {
      const dir = join(root, 'node_modules/@tensorflow/tfjs-node');
      mkdirSync(dir);
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs-node', main: 'index.js' }));
      writeFileSync(join(dir, 'index.js'), `throw new Error(${JSON.stringify(packages.nativeThrows)});\n`);
    }
    if (packages.tfjs === true) symlinkSync(join(repoRoot, 'node_modules/@tensorflow/tfjs'), join(root, 'node_modules/@tensorflow/tfjs'));
    const importer = join(root, 'importer.mjs');
    writeFileSync(importer, 'export default (name) => import(name);\n');
    return importer;
  }

  /**
   * loadTfWith over each project's importer, in a real node process (the test runner's own module
   * loader resolves bare names from the repository, not from the importer): what it returned or threw,
   * and its warnings.
   */
  async function loadIn(importers: string[]): Promise<Array<{ loaded: boolean; warnings: string[]; code?: string; message?: string }>> {
    const script = `
      import { loadTfWith } from ${JSON.stringify(join(repoRoot, 'src/datasets/tfjs.ts'))};
      const results = [];
      for (const importer of ${JSON.stringify(importers)}) {
        const warnings = [];
        const { default: importModule } = await import(importer);
        try {
          const tf = await loadTfWith(importModule, (m) => warnings.push(m));
          results.push({ loaded: typeof tf.tensor === 'function' && typeof tf.data.generator === 'function', warnings });
        } catch (error) {
          results.push({ loaded: false, warnings, code: error.code, message: error.message });
        }
      }
      process.stdout.write(JSON.stringify(results));
    `;
    const child = await runTsx(['--input-type=module', '-e', script]);
    expect(child.code, child.stderr).toBe(0);
    return JSON.parse(child.stdout.toString()) as Array<{ loaded: boolean; warnings: string[]; code?: string; message?: string }>;
  }

  it('says why it fell back when tfjs-node is installed but fails to load; nothing when it is not installed', async () => {
    const [broken, plain, none, brokenOnly] = await loadIn([
      project('broken', { nativeThrows: 'libtensorflow.so.2: cannot open shared object file', tfjs: true }),
      project('plain', { tfjs: true }),
      project('none', {}),
      project('broken-only', { nativeThrows: 'built for another Node' }),
    ]);
    expect(broken).toEqual({ loaded: true, warnings: ['@tensorflow/tfjs-node is installed but failed to load (libtensorflow.so.2: cannot open shared object file); using @tensorflow/tfjs (pure JS, slower) instead'] });
    expect(plain).toEqual({ loaded: true, warnings: [] });
    expect(none).toEqual({ loaded: false, warnings: [], code: 'NOT_FOUND', message: 'tfjs is not installed: npm install @tensorflow/tfjs-node (or @tensorflow/tfjs)' });
    expect(brokenOnly).toEqual({
      loaded: false,
      warnings: [],
      code: 'NOT_FOUND',
      message: '@tensorflow/tfjs-node is installed but failed to load (built for another Node), and @tensorflow/tfjs is not installed: npm install @tensorflow/tfjs',
    });
  });

  it('the public loadTf here (no tfjs-node): tfjs, no warning; unknown options refused', async () => {
    const warnings: string[] = [];
    const tf = await loadTf({ onWarning: (m) => warnings.push(m) });
    expect(typeof tf.tensor).toBe('function');
    expect(warnings).toEqual([]);
    const typo = await failure(() => loadTf({ onWarn: () => undefined } as never));
    expect(typo.code).toBe('INVALID_OPTION');
    expect(typo.message).toBe('options.onWarn is not an option of loadTf (options of loadTf: onWarning)');
  });
});

describe('TimeRangeDataset from / to, and the options it does not have', () => {
  // Unsorted times (a permutation is kept), one per minute from START, and a value per record.
  const START = Date.UTC(2024, 2, 3);
  const N = 3000;
  const random = prng(11);
  const order = Array.from({ length: N }, (_, i) => i).sort(() => random() - 0.5);
  const rows = order.map((m, i) => ({ time: START + m * 60_000, value: i }));
  const csv = `ts,value\n${rows.map((r) => `${new Date(r.time).toISOString()},${r.value}`).join('\n')}\n`;
  const path = writeFixture(tmp.dir, 'ticks.csv.bz2', bzip2(Buffer.from(csv), 1));
  /** Record numbers with time in [t0, t1), in time order: the truth, from the rows written. */
  const truth = (t0: number, t1: number): number[] =>
    rows
      .map((r, i) => ({ ...r, i }))
      .filter((r) => r.time >= t0 && r.time < t1)
      .sort((a, b) => a.time - b.time || a.i - b.i)
      .map((r) => r.i);
  let file: IndexedFile;
  const open = async (): Promise<IndexedFile> => (file ??= await openIndexed(path, { records: 'csv', timeColumn: 'ts' }));
  afterAll(async () => file?.close());

  it('ISO strings, epoch texts, Dates and numbers give the same range, the one the CLI gives', async () => {
    const f = await open();
    const t0 = START + 600 * 60_000;
    const t1 = START + 1400 * 60_000;
    const expected = truth(t0, t1);
    for (const [from, to] of [
      [t0, t1],
      [new Date(t0), new Date(t1)],
      ['2024-03-03T10:00:00Z', '2024-03-03T23:20'],
      ['2024-03-03T11:00+01:00', '2024-03-04T00:20:00+01:00'],
      [String(t0 / 1000), String(t1 / 1000)], // epoch seconds, by magnitude
      [String(t0), new Date(t1).toISOString()],
    ] as const) {
      const dataset = new TimeRangeDataset(f, { from, to, features: ['value'], batchSize: 64 });
      expect([dataset.from, dataset.to], `${String(from)} .. ${String(to)}`).toEqual([t0, t1]);
      expect(Array.from(dataset.numbers)).toEqual(expected);
    }
    const viaCli = await cli('range', path, '--from', '2024-03-03T10:00:00Z', '--to', '2024-03-03T23:20', '--json');
    expect(viaCli.stdout.toString().trim().split('\n').map((l) => (JSON.parse(l) as { record: number }).record)).toEqual(expected);
  });

  it('impossible or malformed times are INVALID_OPTION naming from or to, as the CLI refuses them', async () => {
    const f = await open();
    for (const [name, from, to] of [
      ['from', '2024-02-30', '2024-03-04'],
      ['to', '2024-03-03', '2024-03-03T25:00'],
      ['to', '2024-03-03', '2024-03-03T24:30'],
      ['from', 'yesterday', '2024-03-04'],
      ['from', new Date(NaN), '2024-03-04'],
      ['to', 0, Infinity],
      ['from', null, 1],
    ] as const) {
      const error = await failure(() => new TimeRangeDataset(f, { from: from as never, to: to as never, features: ['value'] }));
      expect(error.code).toBe('INVALID_OPTION');
      expect(error.option).toBe(name);
      expect(error.message).toMatch(new RegExp(`^options\\.${name} must be epoch ms, a Date, or an ISO-8601 date or time`));
    }
    expect((await cli('range', path, '--from', '2024-02-30', '--to', '2024-03-04')).code).toBe(2);
  });

  it('options of ShuffledBatchDataset are refused with the reason, not ignored', async () => {
    const f = await open();
    const base = { from: START, to: START + 3_600_000, features: ['value'] };
    for (const [key, value, reason] of [
      ['rank', 1, 'a time range is not sharded: give each process its own [from, to) instead'],
      ['worldSize', 4, 'a time range is not sharded'],
      ['shardPolicy', 'drop', 'a time range is not sharded'],
      ['state', { seed: 0, epoch: 0, position: 32 }, 'a time range has no state to resume from'],
      ['windowChunks', 8, 'shuffleBuffer'],
      ['epochs', 3, 'pass `epochs` to fitDataset'],
      ['dropRemainder', true, 'batch.size'],
      ['timeColumn', 'ts', 'openIndexed(path'],
    ] as const) {
      const error = await failure(() => new TimeRangeDataset(f, { ...base, [key]: value } as never));
      expect(error.code).toBe('INVALID_OPTION');
      expect(error.option).toBe(key);
      expect(error.message.startsWith(`options.${key} is not an option of TimeRangeDataset: `)).toBe(true);
      expect(error.message).toContain(reason);
    }
    // A typo still gets the nearest option.
    expect((await failure(() => new TimeRangeDataset(f, { ...base, batch_size: 8 } as never))).message).toBe('options.batch_size is not an option of TimeRangeDataset; did you mean batchSize?');
  });

  it('record numbers: Float64Array from file.range() and in every batch.records, the same numbers', async () => {
    const f = await open();
    const t0 = START + 100 * 60_000;
    const t1 = START + 2900 * 60_000;
    const range = f.range(t0, t1);
    expect(range).toBeInstanceOf(Float64Array);
    expect(Array.from(range)).toEqual(truth(t0, t1));
    expect(f.range(t0, t1, 10)).toEqual(range.slice(0, 10));
    const dataset = new TimeRangeDataset(f, { from: t0, to: t1, features: ['value'], batchSize: 100 });
    expect(dataset.numbers).toBeInstanceOf(Float64Array);
    const fromBatches: number[] = [];
    for await (const batch of dataset) {
      expect(batch.records).toBeInstanceOf(Float64Array);
      fromBatches.push(...batch.records);
      // The value column is the record number: xs and records agree.
      expect(Array.from(batch.xs)).toEqual(Array.from(batch.records));
    }
    expect(fromBatches).toEqual(Array.from(range));
    const shuffled = new ShuffledBatchDataset(f, { features: ['value'], batchSize: 500, shuffle: 'exact', seed: 1 });
    for await (const batch of shuffled) {
      expect(batch.records).toBeInstanceOf(Float64Array);
      break;
    }
  });
});
