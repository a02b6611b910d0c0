/**
 * The Arrow export as it was before it streamed (commit ead12cb, src/datasets/arrow.ts), kept only so
 * bench/arrow.ts can measure the new export next to it in the same run: every value of the range in JS
 * arrays, then `vectorFromArray` per column, then one `tableToIPC` buffer.
 */
import { Float64, Int32, Table, TimestampMillisecond, Utf8, vectorFromArray, type DataType, type Vector } from 'apache-arrow';
import { SeekdataError } from '../src/errors.js';
import type { IndexedFile } from '../src/index/indexed-file.js';
import { splitRecord } from '../src/index/records/csv.js';
import { isMissing, parseNumber } from '../src/index/records/numbers.js';

interface ArrowOptions {
  columns?: string[];
}

type Kind = 'time' | 'int' | 'float' | 'text';

function columnKinds(file: IndexedFile, names: string[]): Kind[] {
  const stats = new Map(file.stats.map((s) => [s.name, s]));
  const timeColumn = file.options.timeColumn;
  const timeName = typeof timeColumn === 'number' ? file.columns[timeColumn] : timeColumn;
  return names.map((name) => {
    if (name === timeName && file.time !== undefined) return 'time';
    const s = stats.get(name);
    if (s === undefined || !s.numeric) return 'text';
    const int32 = s.integer && (s.min ?? 0) >= -(2 ** 31) && (s.max ?? 0) < 2 ** 31;
    return int32 ? 'int' : 'float';
  });
}

const encoder = new TextEncoder();

/** Records (by number, in the order given) as an Arrow Table. */
export async function legacyRecordsToArrow(file: IndexedFile, numbers: ArrayLike<number>, options: ArrowOptions = {}): Promise<Table> {
  const kind = file.options.kind;
  if (kind === 'lines') throw new SeekdataError('INVALID_OPTION', `${file.name}: Arrow export needs records with fields (csv or jsonl)`, { file: file.name });
  const all = kind === 'csv' ? file.columns : file.stats.map((s) => s.name);
  const names = options.columns ?? all;
  for (const name of names) {
    if (!all.includes(name)) throw new SeekdataError('INVALID_OPTION', `${file.name}: no column ${JSON.stringify(name)} (columns: ${all.join(', ')})`, { file: file.name });
  }
  const kinds = columnKinds(file, names);
  const positions = names.map((n) => all.indexOf(n));
  const values: Array<Array<number | string | null>> = names.map(() => []);
  const delimiter = file.options.delimiter.charCodeAt(0);
  const decoder = new TextDecoder();
  const batch = 8192;
  for (let at = 0; at < numbers.length; at += batch) {
    const part = Array.from({ length: Math.min(batch, numbers.length - at) }, (_, k) => numbers[at + k]);
    const contents = await file.records.getMany(part);
    contents.forEach((bytes, k) => {
      const record = part[k];
      let fields: Array<unknown>;
      if (kind === 'csv') fields = splitRecord(bytes, delimiter, file.options.quoting);
      else {
        let parsed: unknown;
        try {
          parsed = JSON.parse(decoder.decode(bytes));
        } catch {
          parsed = undefined;
        }
        fields = names.map((name) => {
          let v: unknown = parsed;
          for (const key of name.split('.')) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
          return v;
        });
      }
      names.forEach((_, c) => {
        const raw = kind === 'csv' ? fields[positions[c]] : fields[c];
        values[c].push(convert(kinds[c], raw, record, file));
      });
    });
  }
  const types: Record<Kind, () => DataType> = { time: () => new TimestampMillisecond(), int: () => new Int32(), float: () => new Float64(), text: () => new Utf8() };
  const vectors: Record<string, Vector> = {};
  names.forEach((name, c) => {
    vectors[name] = vectorFromArray(values[c], types[kinds[c]]());
  });
  return new Table(vectors);
}

function convert(kind: Kind, raw: unknown, record: number, file: IndexedFile): number | string | null {
  if (kind === 'time') {
    const t = file.time?.timeOf(record) ?? NaN;
    return Number.isNaN(t) ? null : t;
  }
  if (raw === undefined || raw === null) return null;
  if (kind === 'text') return typeof raw === 'string' ? raw : JSON.stringify(raw);
  if (typeof raw === 'number') return raw;
  const text = String(raw);
  const bytes = encoder.encode(text);
  if (isMissing(bytes, 0, bytes.length)) return null;
  const v = parseNumber(bytes, 0, bytes.length);
  return Number.isNaN(v) ? null : v;
}

