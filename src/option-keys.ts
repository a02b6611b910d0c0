/**
 * The keys of every public options interface, one list per interface, for `checkKnownKeys`. Each list
 * `satisfies Record<keyof XOptions, true>`: a key added to (or removed from) an interface without its
 * list fails to compile, so the lists cannot drift from the interfaces.
 */
import type { FeatureOptions } from './datasets/features.js';
import type { ArrowOptions, ArrowRangeOptions, ArrowWriteOptions } from './datasets/arrow.js';
import type { SequentialOptions } from './datasets/sequential.js';
import type { ShuffledBatchOptions } from './datasets/shuffled.js';
import type { LoadTfOptions, TfDatasetOptions } from './datasets/tfjs.js';
import type { TimeRangeOptions } from './datasets/time-range.js';
import type { SplitOptions } from './datasets/split.js';
import type { CsvDatasetConfig, JsonlDatasetConfig } from './datasets/file-dataset.js';
import type { WeightedOptions } from './datasets/weighted.js';
import type { MapOptions } from './datasets/map-spec.js';
import type { IndexedOptions } from './index/open-indexed.js';
import type { CollectionOptions } from './index/open-collection.js';
import type { RecordOptions } from './index/records/options.js';
import type { ReaderOptions } from './index/reader-options.js';
import type { RecompressOptions } from './index/recompress.js';
import type { WorkerPoolOptions } from './workers/pool.js';

export const READER_OPTION_KEYS = {
  cacheBytes: true,
  parallelism: true,
  index: true,
  ifStale: true,
  rebuild: true,
  onProgress: true,
  signal: true,
  onWarning: true,
  allowDamage: true,
  recordChecks: true,
  headers: true,
  httpTimeoutMs: true,
  onScanChunk: true,
  bigUnitBytes: true,
  pieceBytes: true,
  gzipSpacingBytes: true,
  pool: true,
  verify: true,
  indexUpload: true,
  timeoutMs: true,
  retry: true,
  maxInFlight: true,
  limiter: true,
  coalesce: true,
  remoteCacheDir: true,
  remoteCacheBytes: true,
  region: true,
  endpoint: true,
  forcePathStyle: true,
  credentials: true,
  maxDecodedBytes: true,
  inlineDecodeBytes: true,
  prefixReads: true,
  syncReadBytes: true,
} as const satisfies Record<keyof ReaderOptions, true>;

export const RECORD_OPTION_KEYS = {
  records: true,
  header: true,
  delimiter: true,
  timeColumn: true,
  timeFormat: true,
  timeZone: true,
  time: true,
  strict: true,
  stats: true,
  quoting: true,
  maxRecordBytes: true,
} as const satisfies Record<keyof RecordOptions, true>;

/** openIndexed takes the reader and the record options in one object. */
export const INDEXED_OPTION_KEYS = { ...READER_OPTION_KEYS, ...RECORD_OPTION_KEYS } as const satisfies Record<keyof IndexedOptions, true>;

/** openCollection takes openIndexed's options (for every file) and its own. */
export const COLLECTION_OPTION_KEYS = { ...INDEXED_OPTION_KEYS, onBadFile: true, openConcurrency: true, readAhead: true, manifest: true, lazy: true } as const satisfies Record<keyof CollectionOptions, true>;

const FEATURE_OPTION_KEYS = {
  features: true,
  labels: true,
  categorical: true,
  labelType: true,
  oneHot: true,
  missing: true,
  standardize: true,
  onMalformed: true,
  onWarning: true,
  columnNames: true,
  dtypes: true,
  defaults: true,
  required: true,
  timeFeatures: true,
  timeFeatureZone: true,
  map: true,
} as const satisfies Record<keyof FeatureOptions, true>;

export const SHUFFLED_OPTION_KEYS = {
  ...FEATURE_OPTION_KEYS,
  batchSize: true,
  shuffle: true,
  shuffleMemoryBytes: true,
  seed: true,
  windowChunks: true,
  dropRemainder: true,
  epochs: true,
  repeat: true,
  epoch: true,
  rank: true,
  worldSize: true,
  state: true,
  prefetch: true,
  eventLoopTurnMs: true,
  shardPolicy: true,
  subset: true,
} as const satisfies Record<keyof ShuffledBatchOptions, true>;

export const TIME_RANGE_OPTION_KEYS = {
  ...FEATURE_OPTION_KEYS,
  from: true,
  to: true,
  batchSize: true,
  sequenceLength: true,
  sequenceStride: true,
  samplingRate: true,
  windowMs: true,
  strideMs: true,
  targetOffset: true,
  targetOffsetMs: true,
  targetAlignment: true,
  maxGapMs: true,
  prefetch: true,
  shuffleBuffer: true,
  shuffle: true,
  shuffleMemoryBytes: true,
  seed: true,
  continuous: true,
} as const satisfies Record<keyof TimeRangeOptions, true>;

/**
 * Keys TimeRangeDataset is given by users of ShuffledBatchDataset (or of openIndexed), each with why it
 * is not an option here and what to do instead: the error says so rather than listing every option.
 */
const NOT_SHARDED = 'a time range is not sharded: give each process its own [from, to) instead';
const IN_TIME_ORDER = "a time range comes in time order; shuffle it with shuffle: 'exact' (uniform, in rounds) or through a buffer with shuffleBuffer (and seed)";
export const TIME_RANGE_FOREIGN_KEYS = {
  windowChunks: IN_TIME_ORDER,
  rank: NOT_SHARDED,
  worldSize: NOT_SHARDED,
  shardPolicy: NOT_SHARDED,
  state: 'a time range has no state to resume from (state() belongs to ShuffledBatchDataset): open a TimeRangeDataset over the part not yet read',
  epoch: 'each pass over a TimeRangeDataset is one epoch, with its own shuffleBuffer order',
  epochs: 'each pass over a TimeRangeDataset (each fitDataset epoch) reads the range once; pass `epochs` to fitDataset',
  repeat: 'each pass over a TimeRangeDataset (each fitDataset epoch) reads the range once; pass `epochs` to fitDataset',
  dropRemainder: 'the last batch of a range holds its remaining rows (batch.size tells how many)',
  timeColumn: 'the time column is chosen when the file is opened: openIndexed(path, { records: "csv", timeColumn })',
  subset: 'a time range draws the records of [from, to): give each side of a split its own from and to',
  eventLoopTurnMs: "the event-loop turns between batches are ShuffledBatchDataset's (chunked and file order); a time range has no such option",
} as const satisfies Record<Exclude<keyof ShuffledBatchOptions, keyof TimeRangeOptions> | 'timeColumn', string>;

export const SEQUENTIAL_OPTION_KEYS = {
  ...FEATURE_OPTION_KEYS,
  batchSize: true,
  wrap: true,
  startRecord: true,
} as const satisfies Record<keyof SequentialOptions, true>;

export const TF_DATASET_OPTION_KEYS = { xsOnly: true, inputs: true, outputs: true, workerJobs: true, preloadNextEpoch: true, workerPriority: true } as const satisfies Record<keyof TfDatasetOptions, true>;

export const LOAD_TF_OPTION_KEYS = { onWarning: true } as const satisfies Record<keyof LoadTfOptions, true>;

export const ARROW_OPTION_KEYS = { columns: true, batchRows: true, batchBytes: true, timeUnit: true, onProgress: true } as const satisfies Record<keyof ArrowOptions, true>;

export const TIME_RANGE_ARROW_OPTION_KEYS = { ...ARROW_OPTION_KEYS, limit: true } as const satisfies Record<keyof ArrowRangeOptions, true>;

export const ARROW_EXPORT_OPTION_KEYS = { ...ARROW_OPTION_KEYS, format: true } as const satisfies Record<keyof (ArrowOptions & ArrowWriteOptions), true>;

export const TIME_RANGE_ARROW_EXPORT_OPTION_KEYS = { ...TIME_RANGE_ARROW_OPTION_KEYS, format: true } as const satisfies Record<keyof (ArrowRangeOptions & ArrowWriteOptions), true>;

export const ARROW_WRITE_OPTION_KEYS = { format: true } as const satisfies Record<keyof ArrowWriteOptions, true>;

export const WORKER_POOL_OPTION_KEYS = { size: true, filename: true, execArgv: true } as const satisfies Record<keyof WorkerPoolOptions, true>;

export const SPLIT_OPTION_KEYS = { validation: true, seed: true, at: true } as const satisfies Record<keyof SplitOptions, true>;

/** jsonlDataset: the dataset options it passes on (not the ones its column configs set) and its own. */
export const JSONL_DATASET_OPTION_KEYS = {
  index: true,
  onBadFile: true,
  openConcurrency: true,
  categorical: true,
  labelType: true,
  oneHot: true,
  missing: true,
  standardize: true,
  onMalformed: true,
  onWarning: true,
  timeFeatures: true,
  timeFeatureZone: true,
  map: true,
  batchSize: true,
  shuffle: true,
  shuffleMemoryBytes: true,
  seed: true,
  windowChunks: true,
  dropRemainder: true,
  epochs: true,
  repeat: true,
  epoch: true,
  rank: true,
  worldSize: true,
  state: true,
  prefetch: true,
  eventLoopTurnMs: true,
  shardPolicy: true,
  columnConfigs: true,
  configuredColumnsOnly: true,
  timeColumn: true,
  timeFormat: true,
  timeZone: true,
  cacheBytes: true,
} as const satisfies Record<keyof JsonlDatasetConfig, true>;

export const CSV_DATASET_OPTION_KEYS = { ...JSONL_DATASET_OPTION_KEYS, hasHeader: true, columnNames: true, delimiter: true, quoting: true } as const satisfies Record<keyof CsvDatasetConfig, true>;

export const MAP_OPTION_KEYS = { module: true, export: true, batched: true, features: true, labels: true, timeoutMs: true } as const satisfies Record<keyof MapOptions, true>;

export const WEIGHTED_OPTION_KEYS = { ...FEATURE_OPTION_KEYS, weights: true, numSamples: true, replacement: true, batchSize: true, seed: true, epoch: true, rank: true, worldSize: true } as const satisfies Record<keyof WeightedOptions, true>;

export const RECOMPRESS_OPTION_KEYS = {
  format: true,
  unitBytes: true,
  level: true,
  parallelism: true,
  pool: true,
  window: true,
  onProgress: true,
  onWarning: true,
  overwrite: true,
  signal: true,
  index: true,
  headers: true,
  httpTimeoutMs: true,
  maxDecodedBytes: true,
} as const satisfies Record<keyof RecompressOptions, true>;
