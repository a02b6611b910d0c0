/**
 * Keras `timeseries_dataset_from_array` target alignment (issue 11 §2): `targetAlignment: 'start'` aligns
 * targets[i] with the window starting at record i. The truth is the brute-force construction Keras
 * documents, over a column holding each record's own number.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSharedPool, openIndexed, TimeRangeDataset, type IndexedFile } from '../src/index.js';
import { tempDir, writeFixture, xz } from './support/fixtures.js';

const tmp = tempDir('seekdata-ergo-keras-');
const ROWS = 500;
let file: IndexedFile;

beforeAll(async () => {
  const lines = ['t,n,v'];
  for (let i = 0; i < ROWS; i++) lines.push(`${1_700_000_000 + i * 60},${i},${(i * 0.5) % 7}`);
  file = await openIndexed(writeFixture(tmp.dir, 'series.csv.xz', xz(Buffer.from(lines.join('\n') + '\n'))), { records: 'csv', timeColumn: 't' });
});

afterAll(async () => {
  await file.close();
  await closeSharedPool();
  tmp.cleanup();
});

/** Each window's steps' `n` values and its target's `n`. */
async function windows(options: Record<string, unknown>): Promise<Array<{ steps: number[]; target: number }>> {
  const dataset = new TimeRangeDataset(file, { from: '2020-01-01', to: '2030-01-01', features: ['n'], labels: 'n', labelType: 'float32', sequenceLength: 10, batchSize: 64, ...options });
  const out: Array<{ steps: number[]; target: number }> = [];
  for await (const b of dataset) {
    const L = b.xsShape[1];
    for (let k = 0; k < b.size; k++) out.push({ steps: Array.from(b.xs.subarray(k * L, (k + 1) * L)), target: b.ys?.[k] ?? -1 });
  }
  return out;
}

describe('targetAlignment', () => {
  it("'start': the target of the window starting at i is record i + targetOffset (Keras: targets = y[offset:])", async () => {
    for (const [offset, stride] of [[0, 1], [3, 1], [12, 4]]) {
      const got = await windows({ targetAlignment: 'start', targetOffset: offset, sequenceStride: stride });
      // Keras: window i starts at i * stride, spans sequenceLength records; there is one while its target exists.
      const expected: Array<{ steps: number[]; target: number }> = [];
      for (let start = 0; start + 10 <= ROWS && start + offset < ROWS; start += stride) expected.push({ steps: Array.from({ length: 10 }, (_, j) => start + j), target: start + offset });
      expect(got).toEqual(expected);
    }
  });

  it("'end' (the default) counts from the window's last record, as before", async () => {
    const byDefault = await windows({ targetOffset: 1 });
    expect(await windows({ targetOffset: 1, targetAlignment: 'end' })).toEqual(byDefault);
    expect(byDefault[0]).toEqual({ steps: Array.from({ length: 10 }, (_, j) => j), target: 10 });
    expect(byDefault).toHaveLength(ROWS - 10);
    // Keras' usual forecast, targets = y[sequence_length:], is the default's next-record target.
    expect(await windows({ targetAlignment: 'start', targetOffset: 10 })).toEqual(byDefault);
  });

  it("'start' needs targetOffset; other values are refused", async () => {
    await expect(windows({ targetAlignment: 'start' })).rejects.toThrow(/options\.targetOffset must be set with targetAlignment: 'start'/);
    await expect(windows({ targetAlignment: 'middle', targetOffset: 1 })).rejects.toThrow(/options\.targetAlignment must be one of/);
  });
});
