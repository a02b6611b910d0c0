/**
 * The exact shuffle served in rounds: the order is still the permutation (`order()`, and the Feistel
 * permutation itself), for several file sizes, round sizes, world sizes and shard policies; every record
 * once per epoch (plus the documented padding); rows land with their own records; resume mid-round equals
 * the uninterrupted run; a round holds at most its budget of rows and parses only the records it draws;
 * an epoch decodes each chunk at most once per pass; skipped records are counted as drawn.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSharedPool, FeistelPermutation, openIndexed, ShuffledBatchDataset, type Batch, type IndexedFile, type ShuffledBatchOptions } from '../src/index.js';
import { hashInts } from '../src/datasets/permutation.js';
import { SkipTally } from '../src/datasets/skips.js';
import { ExactOrder } from '../src/datasets/order.js';
import { tempDir, writeFixture, xz } from './support/fixtures.js';

const tmp = tempDir();
const files = new Map<number, IndexedFile>();
/** Record i of the fixtures: x = i, y = 2i + 1, label = i mod 3; a `bad` record is malformed (one field). */
function csv(n: number, bad: (i: number) => boolean = () => false): Buffer {
  const lines = ['x,y,label'];
  for (let i = 0; i < n; i++) lines.push(bad(i) ? `${i}` : `${i},${2 * i + 1},${i % 3}`);
  return Buffer.from(lines.join('\n') + '\n');
}
const SIZES = [1, 7, 1000, 5003];
// A row here: 2 features and 1 label, 4 bytes each, plus 13 bytes of bookkeeping.
const ROW_BYTES = 4 * 3 + 13;
const base: ShuffledBatchOptions = { features: ['x', 'y'], labels: 'label', categorical: { label: ['0', '1', '2'] }, batchSize: 64, shuffle: 'exact' };

beforeAll(async () => {
  for (const n of SIZES) {
    // Small xz blocks: many chunks, so a round's records are spread over many of them.
    files.set(n, await openIndexed(writeFixture(tmp.dir, `n${n}.csv.xz`, xz(csv(n), '--block-size=4KiB')), { records: 'csv', cacheBytes: 16_384 }));
  }
});
afterAll(async () => {
  for (const f of files.values()) await f.close();
  await closeSharedPool();
  tmp.cleanup();
});

function fileOf(n: number): IndexedFile {
  const file = files.get(n);
  if (file === undefined) throw new Error(`no fixture of ${n} records`);
  return file;
}

async function collect(ds: AsyncIterable<Batch>): Promise<{ records: number[]; batches: Batch[] }> {
  const records: number[] = [];
  const batches: Batch[] = [];
  for await (const b of ds) {
    batches.push(b);
    records.push(...b.records);
  }
  return { records, batches };
}

/** Each row's features are its record's own (x = record, y = 2 record + 1) and its label record mod 3. */
function expectOwnRows(batches: Batch[]): void {
  for (const b of batches) {
    for (let k = 0; k < b.size; k++) {
      const r = b.records[k];
      expect([b.xs[2 * k], b.xs[2 * k + 1], b.ys?.[k]]).toEqual([r, 2 * r + 1, r % 3]);
    }
  }
}

/** The exact order by its definition: draw i of rank r is element r + i W (wrapping past N) of the epoch's permutation. */
function truthOrder(n: number, seed: number, epoch: number, rank: number, worldSize: number, policy: 'pad' | 'drop'): number[] {
  const permutation = new FeistelPermutation(n, hashInts(seed, epoch, 0x5eed));
  const per = policy === 'pad' ? Math.ceil(n / worldSize) : Math.floor(n / worldSize);
  return Array.from({ length: per }, (_, i) => permutation.at((rank + i * worldSize) % n));
}

describe('FeistelPermutation.inverse', () => {
  it('is the exact inverse of at() for many sizes and seeds', () => {
    for (const n of [1, 2, 3, 4, 5, 17, 64, 100, 1000, 4097, 65_535, 65_537, 300_007]) {
      for (const seed of [0, 1, 12345, 2 ** 40 + 3]) {
        const p = new FeistelPermutation(n, seed);
        const seen = new Uint8Array(n);
        for (let i = 0; i < n; i++) {
          const y = p.at(i);
          seen[y]++;
          if (p.inverse(y) !== i) expect(`inverse(at(${i})) = ${p.inverse(y)} for n ${n} seed ${seed}`).toBe(`${i}`);
        }
        expect(seen.every((v) => v === 1)).toBe(true);
      }
    }
  });

  it('an exact order’s drawsOf(record) lists exactly the draws at() gives that record, for every rank and policy', () => {
    for (const n of [1, 5, 97, 1000]) {
      for (const worldSize of [1, 2, 3, 7].filter((w) => w <= n)) {
        for (const shardPolicy of ['pad', 'drop'] as const) {
          for (let rank = 0; rank < worldSize; rank++) {
            const order = new ExactOrder(n, { mode: 'exact', seed: 3, epoch: 1, rank, worldSize, windowChunks: 8, shardPolicy });
            const truth = new Map<number, number[]>();
            for (let i = 0; i < order.length; i++) truth.set(order.at(i), [...(truth.get(order.at(i)) ?? []), i]);
            const out = new Float64Array(2);
            for (let record = 0; record < n; record++) {
              const count = order.drawsOf(record, out);
              expect(Array.from(out.subarray(0, count)).sort((a, b) => a - b)).toEqual(truth.get(record) ?? []);
            }
          }
        }
      }
    }
  });

  it('inverts at() on a domain near 2^32 at sampled points', () => {
    const n = 2 ** 32 - 5;
    const p = new FeistelPermutation(n, 77);
    for (let k = 0; k < 2000; k++) {
      const i = Math.floor((k * 2_147_654_321) % n);
      expect(p.inverse(p.at(i))).toBe(i);
      expect(p.at(p.inverse(i))).toBe(i);
    }
  });
});

describe('exact shuffle in rounds', () => {
  it('draws the permutation order for several sizes, round sizes, world sizes and policies; every record once (plus padding)', async () => {
    for (const n of SIZES) {
      const file = fileOf(n);
      // Rounds of one row decode a chunk per draw: only on the small files. A round of at least half the
      // file's records finds them by the inverse permutation, a smaller one lists them first: both, mixed.
      const budgets = n <= 7 ? [1, 7, n, 10 * n] : [...(n <= 1000 ? [7] : []), Math.ceil(n / 8), Math.ceil(n / 2), n, 10 * n];
      for (const rows of budgets) {
        for (const worldSize of [1, 2, 3, 4].filter((w) => w <= n)) {
          for (const shardPolicy of ['pad', 'drop'] as const) {
            const all: number[] = [];
            for (let rank = 0; rank < worldSize; rank++) {
              const options: ShuffledBatchOptions = { ...base, seed: 5, epoch: 2, rank, worldSize, shardPolicy, shuffleMemoryBytes: rows * ROW_BYTES };
              const ds = new ShuffledBatchDataset(file, options);
              const what = `n ${n}, ${rows} rows per round, rank ${rank} of ${worldSize}, ${shardPolicy}`;
              const per = ds.recordsPerEpoch;
              expect(ds.roundRows, what).toBe(Math.max(1, Math.min(rows, per)));
              expect(ds.passesPerEpoch, what).toBe(Math.ceil(per / ds.roundRows));
              const got = await collect(ds);
              expect(got.records, what).toEqual(Array.from(ds.order(2)));
              expect(got.records, what).toEqual(truthOrder(n, 5, 2, rank, worldSize, shardPolicy));
              expect(ds.passesMade, what).toBe(ds.passesPerEpoch);
              expectOwnRows(got.batches);
              all.push(...got.records);
            }
            const distinct = [...new Set(all)].sort((a, b) => a - b);
            if (shardPolicy === 'pad') {
              expect(distinct).toEqual(Array.from({ length: n }, (_, i) => i));
              expect(all.length - n).toBe(Math.ceil(n / worldSize) * worldSize - n);
            } else {
              expect(distinct.length).toBe(all.length);
              expect(all.length).toBe(n - (n % worldSize));
            }
          }
        }
      }
    }
  });

  it('holds at most a round of rows, parses only the records it draws, and decodes each chunk at most once per pass', async () => {
    const file = fileOf(5003);
    const chunks = file.reader.layout.count;
    expect(chunks).toBeGreaterThan(10);
    for (const rows of [100, 626, 5003]) {
      const ds = new ShuffledBatchDataset(file, { ...base, seed: 1, shuffleMemoryBytes: rows * ROW_BYTES + ROW_BYTES - 1 });
      expect(ds.roundRows).toBe(rows);
      const before = file.reader.stats.decodes;
      const got = await collect(ds);
      const decodes = file.reader.stats.decodes - before;
      expect(got.records).toHaveLength(5003);
      expect(ds.passesMade).toBe(Math.ceil(5003 / rows));
      expect(ds.peakRoundRows).toBeLessThanOrEqual(rows);
      expect(ds.peakRoundRows).toBeGreaterThanOrEqual(Math.min(rows, 5003 - 1));
      // Every drawn record parsed once: no rows of other records are built.
      expect(ds.recordsParsed).toBe(5003);
      expect(decodes).toBeLessThanOrEqual(ds.passesMade * chunks);
      if (rows === 5003) expect(decodes).toBe(chunks);
    }
  });

  it('a state saved mid-round resumes to the uninterrupted run, skipping the round’s earlier draws unparsed', async () => {
    const file = fileOf(5003);
    for (const [worldSize, rank] of [
      [1, 0],
      [3, 2],
    ]) {
      const options: ShuffledBatchOptions = { ...base, seed: 11, epoch: 3, rank, worldSize, shuffleMemoryBytes: 700 * ROW_BYTES };
      const full = await collect(new ShuffledBatchDataset(file, options));
      const ds = new ShuffledBatchDataset(file, { ...options, prefetch: 0 });
      const head: Batch[] = [];
      for await (const b of ds) {
        head.push(b);
        if (head.length === 13) break;
      }
      const state = ds.state();
      // 13 batches of 64: inside the second round of 700.
      expect(state.position).toBe(13 * 64);
      // Another budget: the order does not depend on it.
      const resumed = new ShuffledBatchDataset(file, { ...options, state, shuffleMemoryBytes: 300 * ROW_BYTES });
      const rest = await collect(resumed);
      expect([...head.flatMap((b) => [...b.records]), ...rest.records]).toEqual(full.records);
      expect(rest.batches.map((b) => Array.from(b.xs))).toEqual(full.batches.slice(13).map((b) => Array.from(b.xs)));
      expect(resumed.recordsParsed).toBe(resumed.recordsPerEpoch - 13 * 64);
      expect(resumed.passesMade).toBe(Math.ceil(resumed.recordsPerEpoch / 300) - Math.floor((13 * 64) / 300));
    }
  });

  it('dropRemainder and prefetch depths keep the order', async () => {
    const file = fileOf(1000);
    const order = Array.from(new ShuffledBatchDataset(file, { ...base, seed: 4 }).order());
    for (const prefetch of [0, 1, 5]) {
      const ds = new ShuffledBatchDataset(file, { ...base, seed: 4, prefetch, dropRemainder: true, shuffleMemoryBytes: 90 * ROW_BYTES });
      const got = await collect(ds);
      expect(got.batches.every((b) => b.size === 64)).toBe(true);
      expect(got.records).toEqual(order.slice(0, Math.floor(1000 / 64) * 64));
      expect(got.batches).toHaveLength(ds.batchesPerEpoch);
    }
  });

  it('epochs differ, and a stop after the first batch does not load the rest of the epoch', async () => {
    const file = fileOf(5003);
    const ds = new ShuffledBatchDataset(file, { ...base, seed: 8, epochs: 2, shuffleMemoryBytes: 100 * ROW_BYTES });
    const got = await collect(ds);
    expect(got.records.slice(0, 5003)).not.toEqual(got.records.slice(5003));
    expect([...got.records.slice(5003)].sort((a, b) => a - b)).toEqual(Array.from({ length: 5003 }, (_, i) => i));
    const early = new ShuffledBatchDataset(file, { ...base, seed: 8, shuffleMemoryBytes: 64 * ROW_BYTES, prefetch: 2 });
    for await (const b of early) {
      expect(b.size).toBe(64);
      break;
    }
    // The first round and at most the rounds the prefetch had asked for (79 rounds in the epoch).
    expect(early.passesMade).toBeLessThanOrEqual(4);
  });
});

describe('skipped records in rounds', () => {
  let file: IndexedFile;
  const N = 3000;
  const bad = (i: number): boolean => i % 37 === 5;
  const valid = Array.from({ length: N }, (_, i) => i).filter((i) => !bad(i));
  beforeAll(async () => {
    file = await openIndexed(writeFixture(tmp.dir, 'bad.csv.xz', xz(csv(N, bad), '--block-size=4KiB')), { records: 'csv' });
  });
  afterAll(async () => {
    await file.close();
  });

  it('are counted as they are drawn, with their reasons, once per epoch; batches refill (one rank) or stay short (several)', async () => {
    const warnings: string[] = [];
    const ds = new ShuffledBatchDataset(file, { ...base, seed: 2, shuffleMemoryBytes: 400 * ROW_BYTES, onWarning: (m) => warnings.push(m) });
    const got = await collect(ds);
    expect(got.records).toEqual(Array.from(ds.order(0)).filter((r) => !bad(r)));
    expect([...got.records].sort((a, b) => a - b)).toEqual(valid);
    expect(got.batches.slice(0, -1).every((b) => b.size === 64)).toBe(true);
    expect(ds.skipped).toBe(N - valid.length);
    expect(ds.skippedExamples.length).toBeGreaterThan(0);
    for (const e of ds.skippedExamples) {
      expect(bad(e.record)).toBe(true);
      expect(e.reason).toMatch(/has 1 fields/);
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`epoch 0 skipped ${N - valid.length} of ${N} records`);

    const sharded = new ShuffledBatchDataset(file, { ...base, seed: 2, rank: 1, worldSize: 2, shuffleMemoryBytes: 400 * ROW_BYTES, onWarning: () => undefined });
    const shard = await collect(sharded);
    const drawn = Array.from(sharded.order(0));
    expect(shard.records).toEqual(drawn.filter((r) => !bad(r)));
    expect(shard.batches).toHaveLength(sharded.batchesPerEpoch);
    expect(sharded.skipped).toBe(drawn.filter(bad).length);
  });

  it('a consumer that stops early hears of the records skipped among those drawn, not the whole round', async () => {
    const warnings: string[] = [];
    const ds = new ShuffledBatchDataset(file, { ...base, seed: 2, prefetch: 0, onWarning: (m) => warnings.push(m) });
    let first: Batch | undefined;
    for await (const b of ds) {
      first = b;
      break;
    }
    const drawn = ds.state().position;
    const skipped = Array.from(ds.order(0)).slice(0, drawn).filter(bad).length;
    expect(first?.size).toBe(64);
    expect(drawn).toBe(64 + skipped);
    expect(ds.skipped).toBe(skipped);
  });
});

describe('the skip warning', () => {
  it('names the lowest skipped record reported, whatever order the parallel parse jobs finished in', () => {
    const warnings: string[] = [];
    const tally = new SkipTally('f.csv', (m) => warnings.push(m));
    tally.addCounts(1000, 10, { record: 881, reason: 'late chunk' });
    tally.addCounts(1000, 10, { record: 3, reason: 'first chunk' });
    tally.addCounts(1000, 10, { record: 2100, reason: 'third chunk' });
    tally.end('epoch 0');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('skipped 30 of 3000 records');
    expect(warnings[0]).toContain('the first: record 3 first chunk');
  });
});
