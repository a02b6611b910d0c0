/**
 * What to parse out of each record: feature and label fields, categorical vocabularies, the missing and
 * malformed policies and standardisation, compiled against a file's index (its columns and statistics)
 * into the plain ParseSpec the workers run.
 */
import { SeekdataError, invalidOption } from '../errors.js';
import type { Indexed } from '../index/indexed.js';
import type { ColumnStats } from '../index/records/stats.js';
import { checkBoolean, checkFunction, checkKnownKeys, checkOneOf } from '../options.js';
import { MAP_OPTION_KEYS } from '../option-keys.js';
import { applyFieldConfig, fieldConfig, type ColumnDtype } from './field-config.js';
import { inlineRunner } from '../workers/pool.js';
import { checkNames, checkTimeout, outputField, resolveMapModule, type MapOptions, type MapSpec } from './map-spec.js';
import type { CompiledField, ParseSpec } from './parse.js';
import { emitWarning, SkipTally, type WarningHandler } from './skips.js';
import { describeRecord } from './record-place.js';
import { checkTimeFeatures, checkZone, type TimeFeature } from './time-features.js';

export type FieldRef = string | number;

export interface FeatureOptions {
  /**
   * Feature fields: CSV column names or 0-based positions, or JSONL dotted paths. Default: every column
   * the index found numeric, except the labels and the time column.
   */
  features?: FieldRef[];
  /** Label field(s). Default: none (batches carry features only). */
  labels?: FieldRef | FieldRef[];
  /**
   * Fields mapped to integer ids: a vocabulary per field, or `true` for the categories the index
   * collected (sorted values; up to 1,000). Non-numeric fields named in `features` or `labels` are
   * categorical automatically when the index has their categories. Unknown feature values map to the
   * vocabulary's length; an unknown label makes the record malformed.
   */
  categorical?: Record<string, string[] | true>;
  /** Label dtype: `'int32'` (class ids; default for categorical and integer labels) or `'float32'` (default otherwise; always with `oneHot`). */
  labelType?: 'float32' | 'int32';
  /** One-hot float32 labels: `true` (classes = the label's categories, or max + 1 of an integer label) or a class count. Default false. */
  oneHot?: boolean | number;
  /** Missing feature values: `'mean'` (the column mean from the index; default), a number, `'skip'` the record, or `'error'`. */
  missing?: 'mean' | number | 'skip' | 'error';
  /** Standardise numeric features to (x - mean) / std with the index statistics. Default false. */
  standardize?: boolean;
  /** Malformed records (too few fields, invalid JSON, text in a numeric field, no or unknown label): `'skip'` (counted) or `'error'` (PARSE_ERROR naming the record). Default `'skip'`. */
  onMalformed?: 'skip' | 'error';
  /**
   * Where warnings go: called once at the end of a pass (an epoch, a wrap of a stream, an iteration of
   * a time range) that skipped more than 0.1% of the records it read (by `missing: 'skip'` or
   * `onMalformed: 'skip'`), with the count and the first skipped record and why. Default: a Node
   * process warning (`process.emitWarning`, type `SeekdataWarning`), printed on stderr.
   */
  onWarning?: (message: string) => void;
  /**
   * CSV: the names of the file's columns, in order, replacing its header's (or naming a headerless file's);
   * `features`, `labels` and the per-column options use them. Their count must be the file's. Default: the
   * header's names (a headerless file's columns are named `0`, `1`, ...).
   */
  columnNames?: string[];
  /**
   * Per column: `'float32'` (a number), `'int32'` (a number rounded down), `'bool'` (1 for `1` or `true`, any
   * case, else 0: tf.data.csv's reading) or `'string'` (a category, as `categorical: { column: true }`).
   * Default: a number, or a category for a text column.
   */
  dtypes?: Record<string, ColumnDtype>;
  /** Per column: the value of a missing entry (in the column's units, or one of its categories), whatever `missing` says; labels too. */
  defaults?: Record<string, number | string | boolean>;
  /** Columns whose missing entries are a PARSE_ERROR naming the record, whatever `missing` and `onMalformed` say (unless they have a default). */
  required?: string[];
  /**
   * Features derived from each record's time (the time index's value), appended after `features`:
   * `'hourOfDay'`, `'dayOfWeek'` (0 = Monday), `'month'`, ... and cyclical `'hourOfDaySin'` / `'…Cos'` (see
   * TimeFeature). Needs a time index. Default none.
   */
  timeFeatures?: TimeFeature[];
  /** IANA time zone the time features are read in. Default: the file's `timeZone`, else UTC. */
  timeFeatureZone?: string;
  /**
   * A user function, in a module, run on the parsed rows in the worker pool (tf.data's `map`, HF's
   * `map(batched=True)`): see MapOptions. Its output columns are the batches' features and labels.
   */
  map?: MapOptions;
}

export interface CompiledFeatures {
  spec: ParseSpec;
  featureNames: string[];
  labelNames: string[];
  /** Per-row label width: labels.length, or the one-hot class count. */
  labelWidth: number;
  /** Counts what each pass skips, and warns (options.onWarning). */
  skips: SkipTally;
}

function refName(ref: FieldRef, names: string[]): string {
  if (typeof ref === 'number') return names[ref] ?? String(ref);
  return ref;
}

/** A file with no records (say a CSV header alone): there are no values to find the feature columns in. */
export function noRecords(name: string): SeekdataError {
  return new SeekdataError('OUT_OF_RANGE', `${name} has no records: there are no values to find its feature columns in (name them in features / columnConfigs to get an empty epoch)`, { file: name });
}

export function compileFeatures(file: Indexed, options: FeatureOptions): CompiledFeatures {
  const kind = file.options.kind;
  if (kind === 'lines') throw new SeekdataError('INVALID_OPTION', `${file.name}: datasets need records with fields: open the file with records: 'csv' or 'jsonl'`, { file: file.name });
  const byName = new Map<string, ColumnStats>(file.stats.map((s) => [s.name, s]));
  const config = fieldConfig(file, options);
  // The names fields are given by (CSV: the columns' own or options.columnNames); statistics are the index's, by its own names.
  const names = config.names ?? file.columns;
  const stats = {
    get: (name: string): ColumnStats | undefined => (kind === 'csv' && config.names !== undefined ? byName.get(file.columns[names.indexOf(name)] ?? '') : byName.get(name)),
  };
  const labelRefs: FieldRef[] = options.labels === undefined ? [] : Array.isArray(options.labels) ? options.labels : [options.labels];
  const categorical = options.categorical ?? {};
  if (typeof categorical !== 'object' || categorical === null) throw invalidOption('categorical', 'an object of field → vocabulary or true', categorical);
  const timeColumn = file.options.timeColumn;
  // The time column by the names fields are given by (a stored name is the index's: its column's new name).
  const timePosition = timeColumn === undefined || kind !== 'csv' ? -1 : typeof timeColumn === 'number' ? timeColumn : file.columns.indexOf(timeColumn);
  const timeName = timeColumn === undefined ? undefined : (names[timePosition] ?? refName(timeColumn, file.columns));
  const excluded = new Set([...labelRefs.map((r) => refName(r, names)), ...(timeName === undefined ? [] : [timeName])]);
  let featureRefs = options.features;
  if (featureRefs === undefined) {
    if (file.stats.length === 0) throw invalidOption('features', 'given: the index has no statistics to find the numeric columns', undefined);
    if (file.records.count === 0) throw noRecords(file.name);
    const own = (s: ColumnStats): string => (kind === 'csv' && config.names !== undefined ? (names[file.columns.indexOf(s.name)] ?? s.name) : s.name);
    featureRefs = file.stats.map((s) => ({ s, name: own(s) })).filter(({ s, name }) => s.numeric && !excluded.has(name) && !(name in categorical)).map(({ name }) => name);
    featureRefs.push(...Object.keys(categorical).filter((name) => !excluded.has(name)));
  }
  if (!Array.isArray(featureRefs)) throw invalidOption('features', 'an array of field names or positions', featureRefs);
  const missing = options.missing ?? 'mean';
  if (!(typeof missing === 'number' && Number.isFinite(missing)) && !['mean', 'skip', 'error'].includes(missing as string)) {
    throw invalidOption('missing', "'mean', a number, 'skip' or 'error'", missing);
  }
  const standardize = checkBoolean('standardize', options.standardize ?? false);
  const malformed = checkOneOf('onMalformed', options.onMalformed ?? 'skip', ['skip', 'error'] as const);
  const onWarning = checkFunction<WarningHandler>('onWarning', options.onWarning ?? emitWarning);

  const compile = (ref: FieldRef, isLabel: boolean): CompiledField => {
    let column = -1;
    let path: string[] = [];
    const name = refName(ref, names);
    if (kind === 'csv') {
      column = typeof ref === 'number' ? ref : names.indexOf(ref);
      if (!Number.isSafeInteger(column) || column < 0 || (names.length > 0 && column >= names.length)) {
        throw invalidOption(isLabel ? 'labels' : 'features', `columns of ${file.name} (${names.join(', ')})`, ref);
      }
    } else {
      if (typeof ref !== 'string' || ref.length === 0) throw invalidOption(isLabel ? 'labels' : 'features', 'JSONL field paths', ref);
      path = ref.split('.');
    }
    const s = stats.get(name);
    let vocab: string[] | undefined;
    const given = categorical[name];
    const dtype = config.dtypes[name];
    if (Array.isArray(given)) vocab = given.map(String);
    else if (given === true || dtype === 'string' || (dtype === undefined && s !== undefined && !s.numeric && s.nonNumeric > 0)) {
      if (s?.categories === null || s?.categories === undefined) {
        throw invalidOption(`categorical.${name}`, 'a vocabulary: the index has no categories for it (numeric, or more than 1,000 distinct values)', given ?? '(automatic)');
      }
      vocab = s.categories.map((c) => c.value);
    }
    const mean = s?.mean ?? 0;
    const std = s?.std ?? 1;
    const numeric = vocab === undefined && dtype !== 'bool';
    return applyFieldConfig(
      {
        column,
        path,
        name,
        vocab,
        fill: typeof missing === 'number' ? missing : mean,
        shift: standardize && numeric && !isLabel ? mean : 0,
        scale: standardize && numeric && !isLabel && std > 0 ? 1 / std : 1,
      },
      config,
      isLabel,
    );
  };

  const timeFeatures = options.timeFeatures === undefined ? [] : checkTimeFeatures(options.timeFeatures);
  if (timeFeatures.length > 0 && file.time === undefined) {
    throw new SeekdataError('INVALID_OPTION', `options.timeFeatures needs a time index: open ${file.name} with timeColumn (or time)`, { file: file.name, option: 'timeFeatures' });
  }
  const timeZone = checkZone('timeFeatureZone', options.timeFeatureZone) ?? file.options.timeZone;
  const parsedFeatures = [...featureRefs.map((r) => compile(r, false)), ...timeFeatures.map((t): CompiledField => ({ ...outputField(t), time: t, fill: typeof missing === 'number' ? missing : 0 }))];
  const parsedLabels = labelRefs.map((r) => compile(r, true));
  const used = new Set([...parsedFeatures, ...parsedLabels].map((f) => f.name));
  for (const [option, keys] of [['dtypes', Object.keys(config.dtypes)], ['defaults', Object.keys(config.defaults)], ['required', [...config.required]]] as const) {
    for (const key of keys) if (!used.has(key)) throw invalidOption(option, `about features or labels of this dataset (${[...used].join(', ')})`, key);
  }
  const labelWantsInt = (l: CompiledField): boolean => {
    const dtype = config.dtypes[l.name];
    if (dtype !== undefined) return dtype === 'int32' || dtype === 'string';
    return l.vocab !== undefined || stats.get(l.name)?.integer === true;
  };
  // Class ids (int32) when the first label is categorical or every label is integer.
  const firstCategorical = parsedLabels.length > 0 && parsedLabels[0].vocab !== undefined && labelWantsInt(parsedLabels[0]);
  const intDefault = firstCategorical || (parsedLabels.length > 0 && parsedLabels.every(labelWantsInt));
  const inputLabelType = checkOneOf('labelType', options.labelType ?? (intDefault ? 'int32' : 'float32'), ['float32', 'int32'] as const);
  const map = compileMap(options.map, parsedFeatures, parsedLabels, inputLabelType);
  if (map?.timeoutMs !== undefined && file.reader.runner === inlineRunner) {
    // A call past its limit is stopped by terminating the thread running it: never the calling thread.
    throw invalidOption('map.timeoutMs', `used with worker threads: ${file.name} is read with parallelism 1 (no worker threads), where a map cannot be stopped`, map.timeoutMs);
  }
  const features = map === undefined ? parsedFeatures : (options.map?.features ?? parsedFeatures.map((f) => f.name)).map(outputField);
  const labels = map === undefined || !map.ysRequired ? parsedLabels.map((l) => (map === undefined ? l : outputField(l.name))) : (options.map?.labels ?? []).map(outputField);
  let labelType = map?.ysRequired === true ? checkOneOf('labelType', options.labelType ?? 'float32', ['float32', 'int32'] as const) : inputLabelType;
  const labelIsCategorical = map?.ysRequired !== true && parsedLabels.length > 0 && parsedLabels[0].vocab !== undefined;
  let oneHot = 0;
  if (options.oneHot !== undefined && options.oneHot !== false) {
    if (labels.length !== 1) throw invalidOption('oneHot', 'used with exactly one label', options.oneHot);
    if (typeof options.oneHot === 'number') {
      if (!Number.isSafeInteger(options.oneHot) || options.oneHot < 2) throw invalidOption('oneHot', 'true or a class count >= 2', options.oneHot);
      oneHot = options.oneHot;
    } else if (map?.ysRequired === true) throw invalidOption('oneHot', 'a class count: the labels are the map\'s own', true);
    else if (labelIsCategorical) oneHot = parsedLabels[0].vocab?.length ?? 0;
    else {
      const s = stats.get(labels[0].name);
      if (s?.max === null || s?.max === undefined || !Number.isInteger(s.max) || (s.min ?? -1) < 0) {
        throw invalidOption('oneHot', `a class count: ${labels[0].name} is not a non-negative integer column in the index`, true);
      }
      oneHot = s.max + 1;
    }
    // One-hot rows are float32 (0 and 1 per class), whatever the class ids' type.
    if (options.labelType === 'int32') throw invalidOption('labelType', "'float32' (or unset) with oneHot", options.labelType);
    labelType = 'float32';
  }
  const spec: ParseSpec = {
    kind,
    delimiter: file.options.delimiter.charCodeAt(0),
    quoting: file.options.quoting,
    file: file.name,
    features,
    labels,
    labelType,
    oneHot,
    missing: missing === 'skip' ? 'skip' : missing === 'error' ? 'error' : 'fill',
    malformed,
    timeZone,
    map,
  };
  const left = file.skippedFiles;
  if (left.length > 0) {
    // The dataset's own warning too, not only the one at opening: its records are those of the files left.
    const names = left.slice(0, 3).map((f) => f.file).join(', ');
    onWarning(`${file.name}: ${left.length} file(s) of the collection left out (onBadFile: 'skip'), this dataset reads the ${file.records.count} records of the others: ${names}${left.length > 3 ? ', …' : ''}`);
  }
  return {
    spec,
    featureNames: features.map((f) => f.name),
    labelNames: labels.map((f) => f.name),
    labelWidth: oneHot > 0 ? oneHot : labels.length,
    skips: new SkipTally(file.name, onWarning, (record) => describeRecord(file, record)),
  };
}

/** The map option compiled: its module resolved, its input the parsed fields. */
function compileMap(options: MapOptions | undefined, features: CompiledField[], labels: CompiledField[], labelType: 'float32' | 'int32'): MapSpec | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) throw invalidOption('map', '{ module, batched?, export?, features?, labels?, timeoutMs? }', options);
  checkKnownKeys(options, MAP_OPTION_KEYS, 'map', {}, 'map.');
  const { url, module } = resolveMapModule(options.module);
  const exportName = options.export ?? 'default';
  if (typeof exportName !== 'string' || exportName.length === 0) throw invalidOption('map.export', 'an export name', exportName);
  checkNames('map.features', options.features);
  const outLabels = checkNames('map.labels', options.labels);
  const inLabels = labels.map((l) => l.name);
  return {
    url,
    module,
    exportName,
    batched: checkBoolean('map.batched', options.batched ?? false),
    input: { features, labels, labelType },
    ysRequired: outLabels !== undefined && outLabels.join('\0') !== inLabels.join('\0'),
    timeoutMs: checkTimeout(options.timeoutMs),
  };
}
