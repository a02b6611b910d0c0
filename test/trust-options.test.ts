/**
 * Unknown option keys are rejected (issue 8 item 17): a typo such as `batch_size` or `timecolumn` is an
 * INVALID_OPTION naming the key and the nearest known one, at every public entry point that takes options,
 * instead of being silently ignored while the default is used.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeSharedPool,
  configureSharedPool,
  isSeekdataError,
  listS3,
  openIndexed,
  openReader,
  recordsToArrow,
  S3Source,
  SequentialStream,
  ShuffledBatchDataset,
  TimeRangeDataset,
  timeRangeToArrow,
  toTfDataset,
  WorkerPool,
  type IndexedFile,
  type TfApi,
} from '../src/index.js';
import { editDistance } from '../src/options.js';
import { tempDir, writeFixture } from './support/fixtures.js';

const tmp = tempDir('seekdata-trust-options-');
const t0 = Date.UTC(2024, 0, 1);
const csv = ['time,a,b', ...Array.from({ length: 200 }, (_, i) => `${new Date(t0 + i * 1000).toISOString()},${i},${i % 5}`)].join('\n') + '\n';
const path = writeFixture(tmp.dir, 'opts.csv', Buffer.from(csv));
let file: IndexedFile;

beforeAll(async () => {
  file = await openIndexed(path, { records: 'csv', timeColumn: 'time', index: false, parallelism: 1 });
});
afterAll(async () => {
  await file.close();
  await closeSharedPool();
  tmp.cleanup();
});

/** The INVALID_OPTION message thrown (or rejected with) by `f`. */
async function invalid(f: () => unknown): Promise<string> {
  try {
    await f();
  } catch (error) {
    if (isSeekdataError(error, 'INVALID_OPTION')) return error.message;
    throw error;
  }
  throw new Error('no error');
}

// Unknown keys are what these calls test: the objects are built untyped, as from JavaScript or JSON.
const loose = (o: Record<string, unknown>): never => o as never;

describe('unknown option keys', () => {
  it('are rejected at every public entry point, with the nearest known key', async () => {
    const cases: Array<[() => unknown, string]> = [
      [() => openReader(path, loose({ index: false, cache_bytes: 1 << 20 })), 'options.cache_bytes is not an option of openReader; did you mean cacheBytes?'],
      [() => openIndexed(path, loose({ records: 'csv', timecolumn: 'time', index: false })), 'options.timecolumn is not an option of openIndexed; did you mean timeColumn?'],
      [() => new ShuffledBatchDataset(file, loose({ batch_size: 8 })), 'options.batch_size is not an option of ShuffledBatchDataset; did you mean batchSize?'],
      [() => new TimeRangeDataset(file, loose({ from: t0, to: t0 + 60_000, sequencelength: 4 })), 'options.sequencelength is not an option of TimeRangeDataset; did you mean sequenceLength?'],
      [() => new SequentialStream(file, loose({ startRecrod: 5 })), 'options.startRecrod is not an option of SequentialStream; did you mean startRecord?'],
      [() => toTfDataset(new SequentialStream(file), {} as TfApi, loose({ xs_only: true })), 'options.xs_only is not an option of toTfDataset; did you mean xsOnly?'],
      [() => recordsToArrow(file, [0], loose({ column: ['a'] })), 'options.column is not an option of recordsToArrow; did you mean columns?'],
      [() => timeRangeToArrow(file, t0, t0 + 5000, loose({ limits: 2 })), 'options.limits is not an option of timeRangeToArrow; did you mean limit?'],
      [() => new WorkerPool(loose({ sise: 1 })), 'options.sise is not an option of WorkerPool; did you mean size?'],
      [() => configureSharedPool(loose({ fileName: 'x.js' })), 'options.fileName is not an option of configureSharedPool; did you mean filename?'],
      [() => S3Source.open('s3://bucket/key.csv.bz2', loose({ regoin: 'eu-west-1' })), 'options.regoin is not an option of S3Source.open; did you mean region?'],
      [() => listS3('s3://bucket/*.gz', loose({ pagesize: 10 })), 'options.pagesize is not an option of listS3; did you mean pageSize?'],
      [() => listS3('s3://bucket/*.gz', loose({ retry: { maxAttempt: 2 } })), 'options.retry.maxAttempt is not an option of the retry options; did you mean maxAttempts?'],
      [() => openReader('https://127.0.0.1:9/x.csv.gz', loose({ retry: { base_delay_ms: 5 } })), 'options.retry.base_delay_ms is not an option of the retry options; did you mean baseDelayMs?'],
    ];
    for (const [f, message] of cases) expect(await invalid(f)).toBe(message);
  });

  it('without a near key, the message lists the known ones', async () => {
    const message = await invalid(() => openReader(path, loose({ batchSize: 8 })));
    expect(message).toMatch(/^options\.batchSize is not an option of openReader \(options of openReader: cacheBytes, parallelism, index, .*\bpool\b.*\)$/);
  });

  it('known keys still work, including timeRangeToArrow with limit and columns', async () => {
    const table = await timeRangeToArrow(file, t0, t0 + 10_000, { limit: 3, columns: ['a'] });
    expect(table.numRows).toBe(3);
    expect(table.getChild('a')?.toArray()).toEqual(Int32Array.from([0, 1, 2]));
  });

  it('edit distance counts insertions, deletions, substitutions and transpositions', () => {
    expect(editDistance('batchsize', 'batchsize')).toBe(0);
    expect(editDistance('startrecrod', 'startrecord')).toBe(1);
    expect(editDistance('sise', 'size')).toBe(1);
    expect(editDistance('column', 'columns')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });
});
