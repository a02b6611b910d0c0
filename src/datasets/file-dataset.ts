/**
 * One call from a file to training batches, as tf.data.csv users expect it: `csvDataset(source, config)`
 * (and `jsonlDataset` for JSONL) takes tf.data.csv's `CSVConfig` names (hasHeader, columnNames,
 * columnConfigs, configuredColumnsOnly, delimiter) next to seekdata's own (batchSize, shuffle, seed,
 * standardize, timeColumn, cacheBytes, rank / worldSize, ...), builds or loads the index and returns a
 * ShuffledBatchDataset that owns its file (`close()`) and hands tfjs its batches (`toTf(tf)`). Here the
 * CSVConfig names are translated to openIndexed's record options and the datasets' feature options.
 */
import { SeekdataError, invalidOption } from '../errors.js';
import { namesCollection, type CollectionSources } from '../index/collection-list.js';
import { openCollection } from '../index/open-collection.js';
import { openIndexed } from '../index/open-indexed.js';
import type { Indexed } from '../index/indexed.js';
import type { Input } from '../readers/input.js';
import type { TimeFormat } from '../index/records/time.js';
import type { Quoting } from '../index/records/csv.js';
import { checkBoolean, checkKnownKeys, checkNonNegativeInt } from '../options.js';
import { CSV_DATASET_OPTION_KEYS, JSONL_DATASET_OPTION_KEYS, WEIGHTED_OPTION_KEYS } from '../option-keys.js';
import type { ColumnDtype } from './field-config.js';
import { noRecords } from './features.js';
import { ShuffledBatchDataset, type ShuffledBatchOptions } from './shuffled.js';
import { splitRecords, type SplitOptions } from './split.js';
import { FilteredDataset } from './filter.js';
import type { RowValues } from './named.js';
import { WeightedSampleDataset, type WeightedOptions } from './weighted.js';
import { RecordSubset } from './subset.js';
import { toTfDataset, type TfApi, type TfDatasetOptions } from './tfjs.js';

/** tf.data.csv's `ColumnConfig`: how one column is read. */
export interface ColumnConfig {
  /** The column is a label (ys) instead of a feature (xs). Default false. */
  isLabel?: boolean;
  /** A record missing this column is a PARSE_ERROR naming it (unless `default` is set). Default false. */
  required?: boolean;
  /**
   * `'float32'` (a number), `'int32'` (a number rounded down), `'bool'` (1 for `1` or `true`, any case,
   * else 0) or `'string'` (a category: its id in the index's categories of the column). Default: a number,
   * or a category id for a text column.
   */
  dtype?: ColumnDtype;
  /** The value of a missing entry (in the column's units, or one of its categories). Default: the column's mean (see `missing`). */
  default?: number | string | boolean;
}

/** The dataset options csvDataset / jsonlDataset pass on (features and labels come from the column configs). */
type PassedOptions = Omit<ShuffledBatchOptions, 'features' | 'labels' | 'columnNames' | 'dtypes' | 'defaults' | 'required' | 'subset'>;

/** Options of jsonlDataset: tf.data.csv's column configs (by field path) and seekdata's dataset options. */
export interface JsonlDatasetConfig extends PassedOptions {
  /** Per column (CSV name, or JSONL dotted field path): how it is read, and whether it is a label. Default none. */
  columnConfigs?: Record<string, ColumnConfig>;
  /**
   * Only the columns of `columnConfigs` are read. Default false: every column is a feature (the labels
   * and the time column excepted), a text column by its category ids.
   */
  configuredColumnsOnly?: boolean;
  /** The column holding each record's time (builds the time index; left out of the features unless configured). */
  timeColumn?: string | number;
  /** Format of the time column. Default `'auto'`. */
  timeFormat?: TimeFormat;
  /** IANA zone of ISO times without an offset. Default UTC. */
  timeZone?: string;
  /** Bytes of decoded chunks the reader caches. Default 256 MiB. */
  cacheBytes?: number;
  /** Where the index is kept (see openIndexed's `index`): a path, a directory, or `false` for none. */
  index?: string | false;
  /** Collections: a file that cannot be opened is an error (`'error'`, default) or left out with a warning (`'skip'`). */
  onBadFile?: 'error' | 'skip';
  /** Collections: files opened (and indexed) at once. Default 4. */
  openConcurrency?: number;
}

/** Options of csvDataset: tf.data.csv's `CSVConfig` names and seekdata's dataset options. */
export interface CsvDatasetConfig extends JsonlDatasetConfig {
  /** The first line holds the column names. Default true. */
  hasHeader?: boolean;
  /** The columns' names, in order: they replace the header's, or name a headerless file's. Default: the header's (`0`, `1`, ... without one). */
  columnNames?: string[];
  /** The field delimiter, one character. Default `','`. */
  delimiter?: string;
  /** How `"` is read: `'rfc4180'` (default) or `'none'`. */
  quoting?: Quoting;
}

/**
 * A ShuffledBatchDataset that owns its file: `toTf(tf)` for `model.fitDataset`, `close()` when done, and
 * record subsets of it (`split`, `take`, `skip`): datasets over the same file with the same options that
 * draw only those records (shuffles, shards, states and batchesPerEpoch are the subset's).
 */
export class FileDataset extends ShuffledBatchDataset {
  constructor(
    file: Indexed,
    /** The options it was made with (its subsets are made with them). */
    private readonly datasetOptions: ShuffledBatchOptions = {},
  ) {
    super(file, datasetOptions);
  }

  /** The dataset as a tf.data.Dataset of `{ xs, ys }` (toTfDataset). */
  toTf<Tf extends TfApi>(tf: Tf, options?: TfDatasetOptions): ReturnType<Tf['data']['generator']> {
    return toTfDataset(this, tf, options);
  }

  /** The records this dataset draws from. */
  private records(): RecordSubset {
    return this.subset ?? RecordSubset.all(this.file.records.count);
  }

  /** A dataset of the same file and options over `subset` (from its first epoch; `overrides` replace options). */
  private over(subset: RecordSubset, overrides: ShuffledBatchOptions = {}): FileDataset {
    const options: ShuffledBatchOptions = { ...this.datasetOptions, ...overrides, subset };
    delete options.state;
    return new FileDataset(this.file, options);
  }

  /**
   * Train and validation datasets over disjoint records that together hold all of this one's:
   * `{ validation: fraction, seed }` (seeded, deterministic) or `{ at: time }` (records before `at`
   * train). The train side keeps this dataset's options; the validation side reads in file order once
   * per pass (`shuffle: false`, no `repeat`), as fitDataset's `validationData` wants it.
   */
  split(options: SplitOptions): { train: FileDataset; validation: FileDataset; unplaced: number } {
    const sides = splitRecords(this.file, options, this.records());
    return { train: this.over(sides.train), validation: this.over(sides.validation, { shuffle: false, repeat: false, epochs: 1 }), unplaced: sides.unplaced };
  }

  /** The first `n` of its records, in file order (tf.data's `take` right after reading the file). */
  take(n: number): FileDataset {
    return this.over(this.records().take(checkNonNegativeInt('n', n)));
  }

  /** Its records without the first `n`, in file order (tf.data's `skip` right after reading the file). */
  skip(n: number): FileDataset {
    return this.over(this.records().skip(checkNonNegativeInt('n', n)));
  }

  /**
   * The rows for which `keep({ xs, ys, record })` is true (values by column name; a one-hot label as its
   * class id), re-batched to `batchSize`; the predicate runs on this thread. Its batch count is unknown
   * ahead (no batchesPerEpoch), as with tf.data's `filter`.
   */
  filter(keep: (row: RowValues) => boolean): FilteredDataset {
    return new FilteredDataset(this, keep);
  }

  /**
   * Weighted sampling (PyTorch's WeightedRandomSampler; with replacement unless `replacement: false`) over the file, with this
   * dataset's feature options, batch size and seed, drawing only its records (a split's side: its own):
   * `weights` a numeric column or a function of a row. Computes the weights in one pass over the file.
   */
  weighted(options: Pick<WeightedOptions, 'weights' | 'numSamples'> & Partial<WeightedOptions>): Promise<WeightedSampleDataset> {
    const inherited: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(this.datasetOptions)) if (Object.hasOwn(WEIGHTED_OPTION_KEYS, key) && value !== undefined) inherited[key] = value;
    return WeightedSampleDataset.create(this.file, { ...(inherited as Partial<WeightedOptions>), ...options }, this.subset);
  }

  /** Closes the file (its reader and, when it has its own, its worker pool); shared with its subsets' datasets. */
  close(): Promise<void> {
    return this.file.close();
  }
}

const OWN_KEYS = ['columnConfigs', 'configuredColumnsOnly', 'timeColumn', 'timeFormat', 'timeZone', 'cacheBytes', 'index', 'onBadFile', 'openConcurrency', 'hasHeader', 'columnNames', 'delimiter', 'quoting'] as const;

/** A CSV file as a dataset of training batches, configured as tf.data.csv is. */
export async function csvDataset(source: Input | CollectionSources, config: CsvDatasetConfig = {}): Promise<FileDataset> {
  checkKnownKeys(config, CSV_DATASET_OPTION_KEYS, 'csvDataset');
  const names = config.columnNames;
  // A time column named by columnNames is, for the index, the position of that name.
  const timeColumn = typeof config.timeColumn === 'string' && Array.isArray(names) && names.includes(config.timeColumn) ? names.indexOf(config.timeColumn) : config.timeColumn;
  const open: Record<string, unknown> = { records: 'csv', header: checkBoolean('hasHeader', config.hasHeader ?? true) };
  for (const [key, value] of [['delimiter', config.delimiter], ['quoting', config.quoting], ['timeColumn', timeColumn], ['timeFormat', config.timeFormat], ['timeZone', config.timeZone], ['cacheBytes', config.cacheBytes], ['index', config.index], ['onBadFile', config.onBadFile], ['openConcurrency', config.openConcurrency]] as const) {
    if (value !== undefined) open[key] = value;
  }
  const file = await openAny(source, open);
  return datasetOf(file, config, names);
}

/** A JSONL file as a dataset of training batches (columns are dotted field paths). */
export async function jsonlDataset(source: Input | CollectionSources, config: JsonlDatasetConfig = {}): Promise<FileDataset> {
  checkKnownKeys(config, JSONL_DATASET_OPTION_KEYS, 'jsonlDataset');
  const open: Record<string, unknown> = { records: 'jsonl' };
  for (const [key, value] of [['timeColumn', config.timeColumn], ['timeFormat', config.timeFormat], ['timeZone', config.timeZone], ['cacheBytes', config.cacheBytes], ['index', config.index], ['onBadFile', config.onBadFile], ['openConcurrency', config.openConcurrency]] as const) {
    if (value !== undefined) open[key] = value;
  }
  const file = await openAny(source, open);
  return datasetOf(file, config, undefined);
}

/**
 * One file, or a collection (a list of sources, a glob, a directory, a manifest `@list.txt`, an `s3://bucket/prefix/`):
 * many files as one data set, numbered across files (see openCollection).
 */
async function openAny(source: Input | CollectionSources, open: Record<string, unknown>): Promise<Indexed> {
  const many = Array.isArray(source) || (typeof source === 'string' && (await namesCollection(source)));
  if (many) {
    // Not lazy (the default): every file is open when it returns, as the datasets' synchronous lookups need.
    return openCollection(source as CollectionSources, open);
  }
  for (const key of ['onBadFile', 'openConcurrency']) {
    if (open[key] !== undefined) throw invalidOption(key, 'given for a collection only (a list, glob, directory, manifest or s3:// prefix)', open[key]);
  }
  return openIndexed(source as Input, open);
}

/** The dataset over an opened file (closed again when the config is refused). */
function datasetOf(file: Indexed, config: CsvDatasetConfig, columnNames: string[] | undefined): FileDataset {
  try {
    const passed: Record<string, unknown> = { ...config };
    for (const key of OWN_KEYS) delete passed[key];
    const columns = featureColumns(file, config, columnNames);
    return new FileDataset(file, { ...(passed as PassedOptions), ...columns, ...(columnNames === undefined ? {} : { columnNames }) });
  } catch (error) {
    void file.close();
    throw error;
  }
}

/** Features, labels and per-column options from the column configs (tf.data.csv's rules). */
function featureColumns(file: Indexed, config: CsvDatasetConfig, columnNames: string[] | undefined): Pick<ShuffledBatchOptions, 'features' | 'labels' | 'dtypes' | 'defaults' | 'required'> {
  const configs = config.columnConfigs ?? {};
  if (typeof configs !== 'object' || configs === null || Array.isArray(configs)) throw invalidOption('columnConfigs', 'an object of column name → { isLabel, required, dtype, default }', configs);
  const only = checkBoolean('configuredColumnsOnly', config.configuredColumnsOnly ?? false);
  const csv = file.options.kind === 'csv';
  // The columns by the names the configs use: CSV columns (as columnNames names them), JSONL field paths.
  const names = csv ? (columnNames ?? file.columns) : file.stats.map((s) => s.name);
  const statOf = (name: string): (typeof file.stats)[number] | undefined => file.stats[csv ? names.indexOf(name) : file.stats.findIndex((s) => s.name === name)];
  const dtypes: Record<string, ColumnDtype> = {};
  const defaults: Record<string, number | string | boolean> = {};
  const required: string[] = [];
  const labels: string[] = [];
  const configured: string[] = [];
  for (const [name, c] of Object.entries(configs)) {
    if (csv && !names.includes(name)) throw invalidOption(`columnConfigs.${name}`, `about a column of ${file.name} (${names.join(', ')})`, name);
    if (typeof c !== 'object' || c === null) throw invalidOption(`columnConfigs.${name}`, '{ isLabel, required, dtype, default }', c);
    for (const key of Object.keys(c)) if (!['isLabel', 'required', 'dtype', 'default'].includes(key)) throw invalidOption(`columnConfigs.${name}.${key}`, 'one of isLabel, required, dtype, default', key);
    if (checkBoolean(`columnConfigs.${name}.isLabel`, c.isLabel ?? false)) labels.push(name);
    else configured.push(name);
    if (checkBoolean(`columnConfigs.${name}.required`, c.required ?? false)) required.push(name);
    if (c.dtype !== undefined) dtypes[name] = c.dtype;
    if (c.default !== undefined) defaults[name] = c.default;
  }
  const timeColumn = file.options.timeColumn;
  const timeName = typeof timeColumn === 'number' ? names[timeColumn] : timeColumn;
  let features = configured;
  if (!only) {
    // Every other column, in file order; the time column only when configured.
    if (file.records.count === 0) throw noRecords(file.name);
    features = names.filter((name) => configured.includes(name) || (!labels.includes(name) && name !== timeName));
    for (const name of features) {
      const s = statOf(name);
      if (configured.includes(name) || s === undefined || s.numeric || s.categories !== null) continue;
      throw new SeekdataError(
        'INVALID_OPTION',
        `${file.name}: column ${name} is text with no category ids (more than 1,000 distinct values): list the columns to use in columnConfigs with configuredColumnsOnly: true`,
        { file: file.name, option: 'configuredColumnsOnly' },
      );
    }
  }
  if (features.length === 0) throw invalidOption('columnConfigs', 'naming at least one feature column (isLabel unset)', Object.keys(configs).join(', ') || '(none)');
  return { features, labels, dtypes, defaults, required };
}
