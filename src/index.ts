/** seekdata's public API: named exports only. */
export { SeekdataError, isSeekdataError, ERROR_CODES } from './errors.js';
export type { SeekdataErrorCode } from './errors.js';

export type { ByteSource } from './sources/source.js';
export { MemorySource } from './sources/source.js';
export { FileSource } from './sources/file-source.js';
export { HttpSource } from './sources/http-source.js';
export type { HttpSourceOptions } from './sources/http-source.js';
export { redactUrl } from './sources/redact.js';

export { detectFormat } from './readers/detect.js';
export type { Format, UnsupportedFormat, Detected } from './readers/detect.js';
export { openReader, READER_DEFAULTS } from './readers/open.js';
export type { ReaderOptions, Progress, Input } from './readers/open.js';
export { SeekableReader } from './readers/reader.js';
export type { ReaderInfo, ReaderStats, IndexStatus } from './readers/reader.js';
export type { ScannedChunk } from './readers/scan.js';
export type { UnitTable } from './readers/units.js';

export { WorkerPool, configureSharedPool, closeSharedPool } from './workers/pool.js';
export type { WorkerPoolOptions } from './workers/pool.js';

export { cacheDir } from './index/location.js';

export { openIndexed } from './index/open-indexed.js';
export type { IndexedOptions } from './index/open-indexed.js';
export { IndexedFile } from './index/indexed-file.js';
export type { IndexReport, IndexedInfo } from './index/indexed-file.js';
export { RecordIndex } from './index/record-index.js';
export { TimeIndex } from './index/time-index.js';
export type { TimeSummary } from './index/time-index.js';
export type { RecordOptions } from './index/records/options.js';
export type { RecordKind } from './index/records/analyze.js';
export type { ColumnStats } from './index/records/stats.js';
export type { TimeFormat, ResolvedTimeFormat } from './index/records/time.js';
export { storedRecordOptions } from './index/open-indexed.js';

export { ShuffledBatchDataset } from './datasets/shuffled.js';
export type { ShuffledBatchOptions } from './datasets/shuffled.js';
export { TimeRangeDataset } from './datasets/time-range.js';
export type { TimeRangeOptions } from './datasets/time-range.js';
export { SequentialStream } from './datasets/sequential.js';
export type { SequentialOptions } from './datasets/sequential.js';
export type { Batch, DatasetState } from './datasets/batch.js';
export type { FeatureOptions, FieldRef } from './datasets/features.js';
export { toTfDataset, loadTf } from './datasets/tfjs.js';
export type { TfApi, TfBatch, TfDatasetOptions } from './datasets/tfjs.js';
export {
  recordsToArrow,
  timeRangeToArrow,
  recordsToArrowBatches,
  timeRangeToArrowBatches,
  exportRecordsToArrow,
  exportTimeRangeToArrow,
  batchToArrow,
  writeArrowFile,
} from './datasets/arrow.js';
export type { ArrowOptions, ArrowRangeOptions, ArrowWriteOptions, ArrowBatches, ArrowExportResult, ArrowProgress, ArrowTimeUnit, ArrowIpcFormat } from './datasets/arrow.js';
export { FeistelPermutation } from './datasets/permutation.js';
export { default as workerHandler } from './workers/worker.js';
