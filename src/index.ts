/** seekdata's public API: named exports only. */
export { SeekdataError, isSeekdataError, ERROR_CODES } from './errors.js';
export type { SeekdataErrorCode } from './errors.js';

export type { ByteSource } from './sources/source.js';
export { MemorySource } from './sources/source.js';
export { FileSource } from './sources/file-source.js';
export { HttpSource } from './sources/http-source.js';
export type { HttpSourceOptions } from './sources/http-source.js';
export { redactUrl } from './sources/redact.js';
export { readRanges } from './sources/source.js';
export type { ByteRange } from './sources/source.js';
export { S3Source, parseS3Url } from './sources/s3-source.js';
export type { S3SourceOptions } from './sources/s3-source.js';
export { listS3 } from './sources/s3-list.js';
export type { ListS3Options, S3Object } from './sources/s3-list.js';
export { closeS3Clients } from './sources/s3-client.js';
export type { S3Options } from './sources/s3-client.js';
export type { RemoteOptions } from './sources/remote.js';
export type { RetryOptions, RemoteStats } from './sources/retry.js';
export type { CoalesceOptions } from './sources/coalesce.js';
export { Limiter, configureRemoteRequests } from './sources/limiter.js';
export type { RemoteRequestSettings } from './sources/limiter.js';
export { globToRegExp, globMatcher, hasGlob, globPrefix, compareNames } from './sources/glob.js';

export { detectFormat } from './readers/detect.js';
export type { UnsupportedFormat, Detected } from './readers/detect.js';
export type { Format } from './readers/formats.js';
export { openReader } from './index/open-reader.js';
export { READER_DEFAULTS } from './index/reader-options.js';
export type { ReaderOptions } from './index/reader-options.js';
export type { Progress } from './readers/discover.js';
export type { Input } from './readers/input.js';
export { SeekableReader } from './readers/reader.js';
export type { ReaderInfo, ReaderStats, IndexStatus } from './readers/reader.js';
export type { ScannedChunk } from './readers/format.js';
export type { UnitTable } from './readers/units.js';

export { WorkerPool, configureSharedPool, closeSharedPool } from './workers/pool.js';
export type { WorkerPoolOptions, PoolStats } from './workers/pool.js';

export { cacheDir } from './index/location.js';

export { recompress } from './index/recompress.js';
export type { RecompressOptions, RecompressResult } from './index/recompress.js';
export type { WriteFormat } from './readers/write/writers.js';

export { openIndexed } from './index/open-indexed.js';
export type { IndexedOptions } from './index/open-indexed.js';
export { IndexedFile } from './index/indexed-file.js';
export { openCollection } from './index/open-collection.js';
export type { CollectionOptions } from './index/open-collection.js';
export { IndexedCollection } from './index/indexed-collection.js';
export type { CollectionReport, CollectionInfo, SkippedFile } from './index/indexed-collection.js';
export { listCollection } from './index/collection-list.js';
export type { CollectionSources } from './index/collection-list.js';
export type { Indexed, RecordHome } from './index/indexed.js';
export { environmentShard } from './datasets/plan.js';
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
export type { PlanIdentity } from './datasets/plan.js';
export type { ShardPolicy } from './datasets/shard.js';
export { sampleBatches } from './datasets/sample.js';
export type { SampleOptions, SampleBatch } from './datasets/sample.js';
export type { FeatureOptions, FieldRef } from './datasets/features.js';
export { csvDataset, jsonlDataset, FileDataset } from './datasets/file-dataset.js';
export type { CsvDatasetConfig, JsonlDatasetConfig, ColumnConfig } from './datasets/file-dataset.js';
export type { ColumnDtype } from './datasets/field-config.js';
export { toTfDataset, loadTf } from './datasets/tfjs.js';
export { batchColumns } from './datasets/named.js';
export { splitRecords, recordRange } from './datasets/split.js';
export type { SplitOptions, Split } from './datasets/split.js';
export { RecordSubset } from './datasets/subset.js';
export { FilteredDataset } from './datasets/filter.js';
export { WeightedSampleDataset } from './datasets/weighted.js';
export type { WeightedOptions } from './datasets/weighted.js';
export type { FilterSource } from './datasets/filter.js';
export type { RowValues } from './datasets/named.js';
export type { Layout } from './datasets/named.js';
export type { LoadTfOptions, TfApi, TfBatch, TfDatasetOptions } from './datasets/tfjs.js';
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
