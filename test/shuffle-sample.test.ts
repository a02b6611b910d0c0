/**
 * `sampleBatches` and `seekdata sample --shuffle exact` serve the exact order in rounds of record bytes:
 * the same record numbers as the order, each with its exact bytes (the lines of the file), in as many
 * passes as the budget needs, reported on stderr.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSharedPool, openIndexed, sampleBatches, ShuffledBatchDataset, WorkerPool, type IndexedFile } from '../src/index.js';
import { cli } from './support/cli.js';
import { tempDir, writeFixture, xz } from './support/fixtures.js';

const N = 100_000;
const lines = ['x,y,label', ...Array.from({ length: N }, (_, i) => `${i},${(i * 7919) % 100_003},${i % 3}`)];
const content = Buffer.from(lines.join('\n') + '\n');
const tmp = tempDir();
const path = writeFixture(tmp.dir, 'sample.csv.xz', xz(content, '--block-size=64KiB'));
const pool = new WorkerPool({ size: 2 });
let file: IndexedFile;

beforeAll(async () => {
  file = await openIndexed(path, { records: 'csv', pool, cacheBytes: 65_536 });
});
afterAll(async () => {
  await file.close();
  await pool.close();
  await closeSharedPool();
  tmp.cleanup();
});

describe('exact sample in rounds', () => {
  it('sampleBatches gives the order’s records with their exact bytes, in passes of at most the budget', async () => {
    // About 1.5 MB of records (and 16 bytes each of bookkeeping) in rounds of 300 kB.
    const order = Array.from(new ShuffledBatchDataset(file, { features: ['x'], shuffle: 'exact', seed: 6, rank: 1, worldSize: 2 }).order());
    const numbers: number[] = [];
    let passes = 0;
    for await (const batch of sampleBatches(file, { shuffle: 'exact', seed: 6, rank: 1, worldSize: 2, batchSize: 500, shuffleMemoryBytes: 300_000 })) {
      numbers.push(...batch.numbers);
      batch.numbers.forEach((r, k) => {
        const text = Buffer.from(batch.records[k]).toString();
        if (text !== lines[r + 1]) expect(`record ${r}: ${text}`).toBe(`record ${r}: ${lines[r + 1]}`);
      });
      expect(batch.passes).toBeGreaterThanOrEqual(passes);
      passes = batch.passes;
    }
    expect(numbers).toEqual(order);
    const bytes = order.reduce((sum, r) => sum + lines[r + 1].length + 1 + 16, 0);
    expect(passes).toBeGreaterThanOrEqual(Math.ceil(bytes / 300_000));
    expect(passes).toBeLessThanOrEqual(Math.ceil(bytes / 300_000) + 2);
  });

  it('`seekdata sample --shuffle exact` prints the order’s records and the passes it made on stderr', async () => {
    const indices = await cli('sample', path, '--records', 'csv', '-b', '1000', '--shuffle', 'exact', '--seed', '2', '--indices', '-p', '2');
    expect(indices.code, indices.stderr).toBe(0);
    const numbers = indices.stdout.toString().trim().split(/\s+/).map(Number);
    const run = await cli('sample', path, '--records', 'csv', '-b', '1000', '--shuffle', 'exact', '--seed', '2', '--shuffle-memory-mb', '1', '--json', '-p', '2');
    expect(run.code, run.stderr).toBe(0);
    const printed = run.stdout
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { records: number[]; text: string[] });
    expect(printed.flatMap((b) => b.records)).toEqual(numbers);
    expect(printed.flatMap((b) => b.text)).toEqual(numbers.map((r) => lines[r + 1]));
    // About 3.0 MB of records and bookkeeping in rounds of 1 MiB.
    expect(run.stderr).toMatch(/exact shuffle: 100 batches read in 3 passes over the file \(rounds of at most 1 MiB of records/);
    const quiet = await cli('sample', path, '--records', 'csv', '-b', '1000', '--shuffle', 'exact', '--batches', '1', '-q', '-p', '2');
    expect(quiet.stderr).toBe('');
    const bad = await cli('sample', path, '--records', 'csv', '--shuffle', 'exact', '--shuffle-memory-mb', '0');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--shuffle-memory-mb must be at least 1/);
  });
});
