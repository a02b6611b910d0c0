/**
 * The batch loop of chunked and file-order epochs over the row window (row-window.ts, chunk-batch.ts):
 * rows are kept place by place beside the order's window and moved as its records move. Checked against
 * independent truths: the order's own draw sequence (a pure function of the plan) and row values that
 * encode their record number, whatever the moment each chunk's rows arrive (before the chunk enters the
 * window, or after, when draws have moved its records around), with skipped records, shards and subsets;
 * and, through the public API, every row of real epochs against a direct parse of its line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSharedPool, openIndexed, ShuffledBatchDataset, WorkerPool, type DatasetState } from '../src/index.js';
import { ChunkedOrder, type OrderParams } from '../src/datasets/order.js';
import { RowWindow } from '../src/datasets/row-window.js';
import { fillBatch } from '../src/datasets/chunk-batch.js';
import { BatchBuilder } from '../src/datasets/batch.js';
import { RecordSubset } from '../src/datasets/subset.js';
import type { ChunkRows } from '../src/datasets/rows.js';
import { prng, tempDir, writeFixture, xz } from './support/fixtures.js';
import { datasetFixture } from './support/dataset-fixture.js';

const F = 3;
const L = 2;

/** A record index of `chunks` chunks of 40..250 records. */
function recordIndex(chunks: number, seed: number): { firstRecord: Float64Array } {
  const rand = prng(seed);
  const firstRecord = new Float64Array(chunks + 1);
  for (let c = 0; c < chunks; c++) firstRecord[c + 1] = firstRecord[c] + 40 + Math.floor(rand() * 211);
  return { firstRecord };
}

const skippedRecord = (record: number): boolean => record % 13 === 5;
const feature = (record: number, k: number): number => record * 4 + k;
const label = (record: number, k: number): number => (record % 7) * 10 + k;

/** The parsed rows of a segment, as a load would give them: skipped records left out. */
function rowsOf(order: ChunkedOrder, slot: number, subset: RecordSubset | undefined): ChunkRows {
  const { first, end } = order.segments[slot];
  const records: number[] = [];
  for (let p = first; p < end; p++) {
    const r = subset === undefined ? p : subset.at(p);
    if (!skippedRecord(r)) records.push(r);
  }
  const rowsFirst = subset === undefined ? first : subset.at(first);
  const rowsEnd = subset === undefined ? end : subset.at(end - 1) + 1;
  const rowOf = new Int32Array(rowsEnd - rowsFirst).fill(-1);
  const features = new Float32Array(records.length * F);
  const labels = new Int32Array(records.length * L);
  records.forEach((r, row) => {
    rowOf[r - rowsFirst] = row;
    for (let k = 0; k < F; k++) features[row * F + k] = feature(r, k);
    for (let k = 0; k < L; k++) labels[row * L + k] = label(r, k);
  });
  return { rows: { features, labels, records: Float64Array.from(records), rows: records.length, skipped: 0, skippedExamples: [] }, first: rowsFirst, rowOf };
}

/**
 * One epoch through fillBatch, the rows of each slot put when `arrive` says: 'early' (as soon as a chunk
 * near the window may be asked for, before it enters), 'late' (only when a draw waits for it), or random.
 */
function epoch(params: OrderParams, index: { firstRecord: Float64Array }, arrive: 'early' | 'late' | 'random', subset?: RecordSubset): { records: number[]; wrong: number; peak: number; maxWindow: number } {
  const rand = prng(params.seed + 99);
  const put = new Set<number>();
  const holder: { window?: RowWindow } = {};
  const order: ChunkedOrder = new ChunkedOrder(
    index,
    params,
    (slot) => {
      // Rows of the slots about to enter arrive now (early), or maybe (random), before they enter.
      for (let s = slot; s < Math.min(order.segments.length, slot + 3); s++) {
        if (put.has(s) || arrive === 'late' || (arrive === 'random' && rand() < 0.5)) continue;
        put.add(s);
        holder.window?.put(s, rowsOf(order, s, subset));
      }
      holder.window?.entered(slot);
    },
    subset,
  );
  const window = new RowWindow(order, F, L, true);
  holder.window = window;
  const records: number[] = [];
  let wrong = 0;
  const cursor = { position: 0 };
  for (;;) {
    const builder = new BatchBuilder(17, F, L, 'int32');
    for (;;) {
      const waiting = fillBatch(builder, order, window, order.length, cursor);
      if (waiting < 0) break;
      expect(put.has(waiting)).toBe(false);
      put.add(waiting);
      window.put(waiting, rowsOf(order, waiting, subset));
    }
    if (builder.size === 0) break;
    const batch = builder.build();
    for (let i = 0; i < batch.size; i++) {
      const r = batch.records[i];
      records.push(r);
      for (let k = 0; k < F; k++) if (batch.xs[i * F + k] !== feature(r, k)) wrong++;
      for (let k = 0; k < L; k++) if (batch.ys?.[i * L + k] !== label(r, k)) wrong++;
    }
  }
  return { records, wrong, peak: window.peakBytes, maxWindow: order.maxWindow };
}

/** The records an epoch draws (the order alone, no rows), skipped ones left out. */
function truth(params: OrderParams, index: { firstRecord: Float64Array }, subset?: RecordSubset): number[] {
  const order = new ChunkedOrder(index, params, undefined, subset);
  const out: number[] = [];
  for (let d = order.next(); d !== undefined; d = order.next()) if (!skippedRecord(d.record)) out.push(d.record);
  return out;
}

describe('ChunkedOrder: pick and commit', () => {
  it('pick names the next draw without taking it; pick + commit draw the same sequence as draw()', () => {
    const index = recordIndex(30, 1);
    const params: OrderParams = { mode: 'chunked', seed: 3, epoch: 1, rank: 0, worldSize: 1, windowChunks: 4 };
    const a = new ChunkedOrder(index, params);
    const b = new ChunkedOrder(index, params);
    const places = new Set<number>();
    let n = 0;
    for (;;) {
      const slot = a.pick();
      const record = a.record;
      // Picking again: the same draw, no random number consumed.
      expect(a.pick()).toBe(slot);
      expect(a.record).toBe(record);
      expect(b.draw()).toBe(slot);
      if (slot < 0) break;
      expect(b.record).toBe(record);
      expect(a.recordAt(a.place)).toBe(record);
      const before = a.windowSize;
      const left = a.remaining(slot);
      const moved = a.commit();
      expect(a.windowSize).toBe(before - 1);
      expect(a.remaining(slot)).toBe(left - 1);
      // The last place moved into the drawn one (or the draw was the last place).
      if (moved >= 0) expect(moved).toBe(before - 1);
      else expect(a.place).toBe(before - 1);
      places.add(a.windowSize);
      n++;
    }
    expect(n).toBe(index.firstRecord[30]);
    expect(Math.max(...places) + 1).toBeLessThanOrEqual(a.maxWindow);
    for (let s = 0; s < a.segments.length; s++) expect(a.remaining(s)).toBe(0);
  });

  it('placesOf finds every place of a slot after draws moved them', () => {
    const index = recordIndex(12, 2);
    const order = new ChunkedOrder(index, { mode: 'chunked', seed: 5, epoch: 0, rank: 0, worldSize: 1, windowChunks: 3 });
    for (let i = 0; i < 150; i++) order.draw();
    for (let s = 0; s < order.loaded; s++) {
      const seen: number[] = [];
      order.placesOf(s, (place, record) => {
        expect(order.recordAt(place)).toBe(record);
        seen.push(record);
      });
      expect(seen.length).toBe(order.remaining(s));
      const { first, end } = order.segments[s];
      for (const r of seen) expect(r >= first && r < end).toBe(true);
    }
  });
});

describe('the row window: batches equal the order, row for row', () => {
  const index = recordIndex(40, 7);
  const total = index.firstRecord[40];
  const cases: Array<{ name: string; params: OrderParams; subset?: RecordSubset }> = [
    { name: 'chunked, K = 4', params: { mode: 'chunked', seed: 11, epoch: 0, rank: 0, worldSize: 1, windowChunks: 4 } },
    { name: 'chunked, K = 1', params: { mode: 'chunked', seed: 12, epoch: 2, rank: 0, worldSize: 1, windowChunks: 1 } },
    { name: 'file order', params: { mode: 'none', seed: 0, epoch: 0, rank: 0, worldSize: 1, windowChunks: 8 } },
    { name: 'chunked, rank 1 of 3 (padded shard)', params: { mode: 'chunked', seed: 13, epoch: 0, rank: 1, worldSize: 3, windowChunks: 4 } },
    {
      name: 'chunked over a subset',
      params: { mode: 'chunked', seed: 14, epoch: 0, rank: 0, worldSize: 1, windowChunks: 3 },
      subset: RecordSubset.of(
        total,
        Array.from({ length: total }, (_, r) => r).filter((r) => r % 3 !== 0),
        'two records in three',
      ),
    },
  ];
  for (const c of cases) {
    for (const arrive of ['early', 'late', 'random'] as const) {
      it(`${c.name}, rows arriving ${arrive}`, () => {
        const got = epoch(c.params, index, arrive, c.subset);
        const want = truth(c.params, index, c.subset);
        expect(want.length).toBeGreaterThan(1000);
        expect(got.wrong).toBe(0);
        expect(got.records).toEqual(want);
        // The window holds the records left in it, sized once: at most maxWindow places of F + L values,
        // plus rows waiting to enter (at most the 3 slots put ahead here, 3 × 250 records).
        expect(got.peak).toBeLessThanOrEqual(got.maxWindow * (4 * (F + L) + 1) + 3 * 250 * (4 * (F + L) + 8 + 4));
      });
    }
  }
});

describe('chunked epochs through the public API', () => {
  const tmp = tempDir();
  const { csv, rows: truthRows } = datasetFixture(30_000, 5);
  const pool = new WorkerPool({ size: 2 });
  let path = '';
  beforeAll(async () => {
    path = writeFixture(tmp.dir, 'rows.csv.xz', xz(csv, '--block-size=64KiB'));
    await (await openIndexed(path, { records: 'csv', pool })).close();
  });
  afterAll(async () => {
    await pool.close();
    await closeSharedPool();
    tmp.cleanup();
  });

  it('every row equals its line, malformed lines skipped, in chunked and file order, whole and resumed', async () => {
    const file = await openIndexed(path, { records: 'csv', pool });
    try {
      for (const shuffle of ['chunked', false] as const) {
        const options = { features: ['a', 'b'], labels: 'label', batchSize: 100, shuffle, seed: 21, windowChunks: 3, missing: 'skip' as const, onMalformed: 'skip' as const };
        const whole = new ShuffledBatchDataset(file, options);
        const records: number[] = [];
        let wrong = 0;
        let stateAt10: DatasetState | undefined;
        let batches = 0;
        for await (const b of whole) {
          for (let i = 0; i < b.size; i++) {
            const row = truthRows[b.records[i]];
            if (row.bad || row.a === null || Math.abs(b.xs[i * 2] - row.a) > 1e-3 || b.xs[i * 2 + 1] !== row.b || b.ys?.[i] !== row.label) wrong++;
            records.push(b.records[i]);
          }
          if (++batches === 10) stateAt10 = whole.state();
        }
        expect(wrong).toBe(0);
        const kept = truthRows.filter((r) => !r.bad && r.a !== null).map((r) => r.record);
        expect([...records].sort((x, y) => x - y)).toEqual(kept);
        // The order is the order's: the dataset's draws with the skipped records left out.
        const skippedSet = new Set(truthRows.filter((r) => r.bad || r.a === null).map((r) => r.record));
        expect(records).toEqual([...whole.order(0)].filter((r) => !skippedSet.has(r)));
        // Resumed after 10 batches (a new dataset, its window refilled by replaying the draws): the same rest.
        if (stateAt10 === undefined) throw new Error('fewer than 10 batches');
        const resumed = new ShuffledBatchDataset(file, { ...options, state: stateAt10 });
        const rest: number[] = [];
        for await (const b of resumed) for (let i = 0; i < b.size; i++) rest.push(b.records[i]);
        expect(rest).toEqual(records.slice(records.length - rest.length));
        expect(rest.length).toBeLessThan(records.length);
      }
    } finally {
      await file.close();
    }
  });

  it('the window holds about K chunks of rows plus the chunks read ahead, not twice that', async () => {
    const file = await openIndexed(path, { records: 'csv', pool });
    try {
      const K = 6;
      const ds = new ShuffledBatchDataset(file, { features: ['a', 'b'], labels: 'label', batchSize: 64, shuffle: 'chunked', seed: 8, windowChunks: K });
      for await (const b of ds) expect(b.size).toBeGreaterThan(0);
      let largest = 0;
      for (let c = 0; c < file.reader.layout.count; c++) largest = Math.max(largest, file.records.recordsOf(c).end - file.records.recordsOf(c).first);
      // Place: two float32 features and an int32 label, and a byte; a chunk read ahead also has its
      // record numbers and row map.
      const place = 2 * 4 + 4 + 1;
      const arriving = largest * (2 * 4 + 4 + 8 + 4);
      const bound = (K + 1) * largest * place + file.readAhead * arriving;
      expect(ds.peakWindowBytes).toBeGreaterThan(0);
      expect(ds.peakWindowBytes).toBeLessThanOrEqual(bound);
    } finally {
      await file.close();
    }
  });
});

describe('event-loop turns between batches (eventLoopTurnMs)', () => {
  const tmp = tempDir();
  const { csv } = datasetFixture(20_000, 9);
  const pool = new WorkerPool({ size: 2 });
  let path = '';
  beforeAll(async () => {
    path = writeFixture(tmp.dir, 'turns.csv.xz', xz(csv, '--block-size=32KiB'));
    await (await openIndexed(path, { records: 'csv', pool })).close();
  });
  afterAll(async () => {
    await pool.close();
    tmp.cleanup();
  });

  /**
   * A consumer that computes synchronously between batches (as tfjs's fitDataset trains) and never yields
   * to the event loop itself: how often its batches had to wait for a chunk's rows. A load's file read and
   * its worker's result are each handled on an event-loop turn; without turns of its own the dataset gets
   * one only when it waits, so every chunk is waited for, however early it was asked for.
   */
  async function waitsUnderBusyConsumer(eventLoopTurnMs: number | undefined): Promise<{ waits: number; chunks: number }> {
    const file = await openIndexed(path, { records: 'csv', pool });
    try {
      const ds = new ShuffledBatchDataset(file, { features: ['b'], labels: 'label', batchSize: 50, shuffle: false, ...(eventLoopTurnMs === undefined ? {} : { eventLoopTurnMs }) });
      // Paced as toTfDataset paces it for training: one worker job at a time.
      ds.setTrainingPace({ jobs: 1, nextEpoch: false });
      for await (const b of ds) {
        expect(b.size).toBeGreaterThan(0);
        const until = performance.now() + 1;
        while (performance.now() < until) {
          // Busy: a training step on this thread.
        }
      }
      return { waits: ds.chunkWaits, chunks: file.reader.layout.count };
    } finally {
      await file.close();
    }
  }

  it('with turns, a consumer that never yields still has its chunks loaded ahead: waits only for the first ones', async () => {
    const turning = await waitsUnderBusyConsumer(0);
    expect(turning.chunks).toBeGreaterThan(20);
    expect(turning.waits).toBeLessThan(turning.chunks / 3);
    // Turns rare enough not to come (every 10 minutes), and the default (none of its own): the event loop
    // turns only in the waits, so nearly every chunk is waited for.
    for (const rare of [600_000, undefined]) expect((await waitsUnderBusyConsumer(rare)).waits).toBeGreaterThan(turning.chunks / 2);
  });

  it('eventLoopTurnMs is validated', async () => {
    const file = await openIndexed(path, { records: 'csv', pool });
    try {
      expect(() => new ShuffledBatchDataset(file, { features: ['b'], eventLoopTurnMs: -1 })).toThrow(/eventLoopTurnMs/);
      expect(() => new ShuffledBatchDataset(file, { features: ['b'], eventLoopTurnMs: 1.5 })).toThrow(/eventLoopTurnMs/);
    } finally {
      await file.close();
    }
  });
});
