/**
 * Per-column settings of the feature options, tf.data.csv's `columnConfigs` in seekdata's terms: a column's
 * dtype (`'int32'` rounded down, `'bool'` as tf.data.csv reads it, `'string'` a category), its default for
 * missing values, whether it is required, and the CSV column names that replace the header's. Checked here
 * and applied to each compiled field.
 */
import { SeekdataError, invalidOption } from '../errors.js';
import type { Indexed } from '../index/indexed.js';
import type { CompiledField } from './parse.js';

export type ColumnDtype = 'float32' | 'int32' | 'bool' | 'string';
export const COLUMN_DTYPES: readonly ColumnDtype[] = ['float32', 'int32', 'bool', 'string'];

export interface FieldConfig {
  /** Column names replacing the header's (CSV), or undefined. */
  names: string[] | undefined;
  dtypes: Record<string, ColumnDtype>;
  defaults: Record<string, number | string | boolean>;
  required: Set<string>;
}

function checkRecord<T>(option: string, value: unknown, check: (key: string, v: unknown) => T): Record<string, T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidOption(option, 'an object of column name → value', value);
  const out: Record<string, T> = {};
  for (const [key, v] of Object.entries(value)) out[key] = check(key, v);
  return out;
}

/** Checks the per-column options against the file (names of existing columns). */
export function fieldConfig(
  file: Indexed,
  options: { columnNames?: unknown; dtypes?: unknown; defaults?: unknown; required?: unknown },
): FieldConfig {
  let names: string[] | undefined;
  if (options.columnNames !== undefined) {
    const given = options.columnNames;
    if (file.options.kind !== 'csv') throw invalidOption('columnNames', 'unset for JSONL files (fields are named by their paths)', given);
    if (!Array.isArray(given) || !given.every((n) => typeof n === 'string' && n.length > 0)) throw invalidOption('columnNames', 'a list of column names', given);
    const duplicates = given.filter((n, i) => given.indexOf(n) !== i);
    if (duplicates.length > 0) throw invalidOption('columnNames', 'distinct names', `duplicates ${duplicates.join(', ')}`);
    if (file.columns.length > 0 && given.length !== file.columns.length) {
      throw new SeekdataError(
        'INVALID_OPTION',
        `options.columnNames names ${given.length} columns, but ${file.name} has ${file.columns.length} (${file.options.header ? 'its header' : 'its first record'}: ${file.columns.join(', ')})`,
        { file: file.name, option: 'columnNames' },
      );
    }
    names = given as string[];
  }
  const dtypes = checkRecord('dtypes', options.dtypes, (key, v) => {
    if (!(COLUMN_DTYPES as readonly unknown[]).includes(v)) throw invalidOption(`dtypes.${key}`, `one of ${COLUMN_DTYPES.join(', ')}`, v);
    return v as ColumnDtype;
  });
  const defaults = checkRecord('defaults', options.defaults, (key, v) => {
    if (!(typeof v === 'number' && Number.isFinite(v)) && typeof v !== 'string' && typeof v !== 'boolean') throw invalidOption(`defaults.${key}`, 'a number, a string or a boolean', v);
    return v;
  });
  const required = options.required ?? [];
  if (!Array.isArray(required) || !required.every((n) => typeof n === 'string')) throw invalidOption('required', 'a list of column names', required);
  return { names, dtypes, defaults, required: new Set(required as string[]) };
}

/** tf.data.csv's boolean: 1 for `1` or `true` (any case), else 0. */
function asBoolean(value: string): number {
  return value === '1' || value.toLowerCase() === 'true' ? 1 : 0;
}

/**
 * Applies a column's dtype cast, default and requirement to its compiled field. A default is in the
 * column's own units (before standardisation); a categorical column's default is one of its categories
 * (a feature's unknown default maps, like any unknown value, to the vocabulary's length).
 */
export function applyFieldConfig(field: CompiledField, config: FieldConfig, isLabel: boolean): CompiledField {
  const dtype = config.dtypes[field.name];
  const out: CompiledField = { ...field };
  if (dtype === 'int32' || dtype === 'bool') out.cast = dtype;
  if (Object.hasOwn(config.defaults, field.name)) {
    const given = config.defaults[field.name];
    let fill: number;
    if (field.vocab !== undefined) {
      const id = field.vocab.indexOf(String(given));
      if (id < 0 && isLabel) throw invalidOption(`defaults.${field.name}`, `one of the label's categories (${field.vocab.slice(0, 10).join(', ')}${field.vocab.length > 10 ? ', …' : ''})`, given);
      fill = id < 0 ? field.vocab.length : id;
    } else if (dtype === 'bool') {
      fill = asBoolean(String(given));
    } else {
      fill = typeof given === 'boolean' ? Number(given) : Number(given);
      if (typeof given === 'string' && (given.trim() === '' || !Number.isFinite(fill))) throw invalidOption(`defaults.${field.name}`, 'a number (the column is numeric)', given);
      if (dtype === 'int32') fill = Math.floor(fill);
    }
    out.fill = fill;
    out.onMissing = 'fill';
  } else if (config.required.has(field.name)) {
    out.onMissing = 'error';
  }
  return out;
}
