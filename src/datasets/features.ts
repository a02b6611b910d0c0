/**
 * What to parse out of each record: feature and label fields, categorical vocabularies, the missing and
 * malformed policies and standardisation, compiled against a file's index (its columns and statistics)
 * into the plain ParseSpec the workers run.
 */
import { SeekdataError, invalidOption } from '../errors.js';
import type { Indexed } from '../index/indexed.js';
import type { ColumnStats } from '../index/records/stats.js';
import { checkBoolean, checkFunction, checkOneOf } from '../options.js';
import type { CompiledField, ParseSpec } from './parse.js';
import { emitWarning, SkipTally, type WarningHandler } from './skips.js';

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

function refName(ref: FieldRef, file: Indexed): string {
  if (typeof ref === 'number') return file.columns[ref] ?? String(ref);
  return ref;
}

export function compileFeatures(file: Indexed, options: FeatureOptions): CompiledFeatures {
  const kind = file.options.kind;
  if (kind === 'lines') throw new SeekdataError('INVALID_OPTION', `${file.name}: datasets need records with fields: open the file with records: 'csv' or 'jsonl'`, { file: file.name });
  const stats = new Map<string, ColumnStats>(file.stats.map((s) => [s.name, s]));
  const labelRefs: FieldRef[] = options.labels === undefined ? [] : Array.isArray(options.labels) ? options.labels : [options.labels];
  const categorical = options.categorical ?? {};
  if (typeof categorical !== 'object' || categorical === null) throw invalidOption('categorical', 'an object of field → vocabulary or true', categorical);
  const timeColumn = file.options.timeColumn;
  const excluded = new Set([...labelRefs.map((r) => refName(r, file)), ...(timeColumn === undefined ? [] : [refName(timeColumn, file)])]);
  let featureRefs = options.features;
  if (featureRefs === undefined) {
    if (file.stats.length === 0) throw invalidOption('features', 'given: the index has no statistics to find the numeric columns', undefined);
    featureRefs = file.stats.filter((s) => s.numeric && !excluded.has(s.name) && !(s.name in categorical)).map((s) => s.name);
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
    const name = refName(ref, file);
    if (kind === 'csv') {
      column = typeof ref === 'number' ? ref : file.columns.indexOf(ref);
      if (!Number.isSafeInteger(column) || column < 0 || (file.columns.length > 0 && column >= file.columns.length)) {
        throw invalidOption(isLabel ? 'labels' : 'features', `columns of ${file.name} (${file.columns.join(', ')})`, ref);
      }
    } else {
      if (typeof ref !== 'string' || ref.length === 0) throw invalidOption(isLabel ? 'labels' : 'features', 'JSONL field paths', ref);
      path = ref.split('.');
    }
    const s = stats.get(name);
    let vocab: string[] | undefined;
    const given = categorical[name];
    if (Array.isArray(given)) vocab = given.map(String);
    else if (given === true || (s !== undefined && !s.numeric)) {
      if (s?.categories === null || s?.categories === undefined) {
        throw invalidOption(`categorical.${name}`, 'a vocabulary: the index has no categories for it (numeric, or more than 1,000 distinct values)', given ?? '(automatic)');
      }
      vocab = s.categories.map((c) => c.value);
    }
    const mean = s?.mean ?? 0;
    const std = s?.std ?? 1;
    const numeric = vocab === undefined;
    return {
      column,
      path,
      name,
      vocab,
      fill: typeof missing === 'number' ? missing : mean,
      shift: standardize && numeric && !isLabel ? mean : 0,
      scale: standardize && numeric && !isLabel && std > 0 ? 1 / std : 1,
    };
  };

  const features = featureRefs.map((r) => compile(r, false));
  const labels = labelRefs.map((r) => compile(r, true));
  const labelIsCategorical = labels.length > 0 && labels[0].vocab !== undefined;
  const labelIsInteger = labels.length > 0 && labels.every((l) => l.vocab !== undefined || stats.get(l.name)?.integer === true);
  let labelType = checkOneOf('labelType', options.labelType ?? (labelIsCategorical || labelIsInteger ? 'int32' : 'float32'), ['float32', 'int32'] as const);
  let oneHot = 0;
  if (options.oneHot !== undefined && options.oneHot !== false) {
    if (labels.length !== 1) throw invalidOption('oneHot', 'used with exactly one label', options.oneHot);
    if (typeof options.oneHot === 'number') {
      if (!Number.isSafeInteger(options.oneHot) || options.oneHot < 2) throw invalidOption('oneHot', 'true or a class count >= 2', options.oneHot);
      oneHot = options.oneHot;
    } else if (labelIsCategorical) oneHot = labels[0].vocab?.length ?? 0;
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
    skips: new SkipTally(file.name, onWarning),
  };
}
