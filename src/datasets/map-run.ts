/**
 * Running a user `map` in the worker that parsed the rows (map-spec.ts has the options): the module is
 * imported once per thread and its function kept; it gets the parsed rows (one at a time, or a job's rows
 * as columns) and its output becomes the rows the dataset batches. Errors in the user's code, and output
 * of the wrong shape, are `MAP_ERROR`s naming the file, the record (a batched call: its first and last)
 * and the module. With a time limit, each call (and the module's load) is marked in the job's clock, and
 * the calling thread stops a call past the limit (map-clock.ts).
 */
import { SeekdataError } from '../errors.js';
import { CallClock } from './map-clock.js';
import { mapFailure, type MapSpec } from './map-spec.js';
import type { ParsedRows, ParseSpec } from './parse.js';

type MapFunction = (input: unknown) => unknown;

/** Per thread: the function of each module and export, loaded once. */
const loaded = new Map<string, Promise<MapFunction>>();

function message(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** A module that cannot give the function (runMap names the file and record in the MAP_ERROR). */
class LoadFailure extends Error {
  constructor(message: string, readonly reason?: unknown) {
    super(message);
  }
}

function loadMap(map: MapSpec): Promise<MapFunction> {
  const key = `${map.url}#${map.exportName}`;
  let fn = loaded.get(key);
  if (fn === undefined) {
    fn = (async (): Promise<MapFunction> => {
      // The job carries what the caller named, resolved in its thread; nothing else is ever imported.
      if (!map.url.startsWith('file:')) throw new LoadFailure('is not a file: module (only file: modules are loaded)');
      let exports: Record<string, unknown>;
      try {
        exports = (await import(map.url)) as Record<string, unknown>;
      } catch (cause) {
        throw new LoadFailure(`failed to load: ${message(cause)}`, cause);
      }
      const value = exports[map.exportName];
      if (typeof value !== 'function') {
        throw new LoadFailure(`has no function export "${map.exportName}" (its exports: ${Object.keys(exports).join(', ') || 'none'})`);
      }
      return value as MapFunction;
    })();
    loaded.set(key, fn);
  }
  return fn;
}

/** A value `await` would wait for: a promise, or any object or function with a `then` method. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

type Columns = Record<string, ArrayLike<number>>;

/** Output of the wrong shape: what is wrong, for the MAP_ERROR that names the record (`row`: the row of a batched call, when known). */
class BadOutput extends Error {
  constructor(message: string, readonly row?: number) {
    super(message);
  }
}

function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}

/** An output part (`xs` / `ys`) checked against the declared names (BadOutput says what is wrong). */
function checkPart(part: unknown, names: string[], what: 'xs' | 'ys', scalar: boolean, size: number): Columns | Record<string, number> {
  if (typeof part !== 'object' || part === null) throw new BadOutput(`returned no ${what} object`);
  const keys = Object.keys(part);
  for (const name of names) {
    const value = (part as Record<string, unknown>)[name];
    if (scalar ? typeof value !== 'number' : !isNumbers(value, size)) {
      const how = value === undefined ? 'missing' : scalar ? `as ${typeof value}, not a number` : `not as ${size} numbers`;
      throw new BadOutput(`returned ${what}.${name} ${how}`);
    }
    const bad = scalar ? (Number.isFinite(value) ? -1 : 0) : firstNonFinite(value as ArrayLike<number>);
    if (bad >= 0) {
      const v = scalar ? (value as number) : (value as ArrayLike<number>)[bad];
      throw new BadOutput(`returned ${what}.${name}${scalar ? '' : `[${bad}]`} ${String(v)}, not a finite number`, scalar ? 0 : bad);
    }
  }
  if (keys.length !== names.length) {
    const extra = keys.filter((k) => !names.includes(k));
    throw new BadOutput(`returned ${what} columns not declared in map.${what === 'xs' ? 'features' : 'labels'} (${extra.join(', ')}; declared: ${names.join(', ')})`);
  }
  return part as Columns;
}

function isNumbers(value: unknown, size: number): value is ArrayLike<number> {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return (value as unknown as ArrayLike<number>).length === size && !(value instanceof BigInt64Array || value instanceof BigUint64Array);
  return Array.isArray(value) && value.length === size && value.every((v) => typeof v === 'number');
}

/**
 * Runs the spec's map on rows parsed with its input fields (`inner`), giving rows of the spec's output
 * features and labels (one-hot labels expanded here). `times` are the times of the job's records (by
 * record number), when the file has a time index. `clock`: where each call is marked when the map has a
 * time limit (map-clock.ts; the calling thread keeps the time).
 */
export async function runMap(inner: ParsedRows, spec: ParseSpec, times: Map<number, number> | undefined, clock?: SharedArrayBuffer): Promise<ParsedRows> {
  const map = spec.map;
  if (map === undefined) return inner;
  const n = inner.rows;
  // No rows (all skipped): nothing to call, the module is not even loaded.
  if (n === 0) return { ...inner, features: new Float32Array(0), labels: spec.labelType === 'int32' && spec.oneHot === 0 ? new Int32Array(0) : new Float32Array(0) };
  const calls = clock === undefined ? undefined : new CallClock(clock);
  // The module's first load in this thread is timed too (its top level could hang): as of the job's first record.
  calls?.begin(inner.records[0], inner.records[0], 1, true);
  let fn: MapFunction;
  try {
    fn = await loadMap(map);
  } catch (why) {
    // Named as of the job's first record, as a load past the time limit is.
    if (why instanceof LoadFailure) throw mapFailure(spec.file, map, why.message, inner.records[0], inner.records[0], 1, why.reason);
    throw why;
  } finally {
    calls?.end();
  }
  const inF = map.input.features;
  const inL = map.input.labels;
  const outF = spec.features.map((f) => f.name);
  const outL = spec.labels.map((f) => f.name);
  const fail = (why: string, first: number, last = first, cause?: unknown): SeekdataError => mapFailure(spec.file, map, why, first, last, n, cause);
  const outX = new Float64Array(n * outF.length);
  const outY = new Float64Array(n * outL.length);
  if (map.batched) {
    const xs: Record<string, Float32Array> = {};
    inF.forEach((f, k) => {
      const column = new Float32Array(n);
      for (let r = 0; r < n; r++) column[r] = inner.features[r * inF.length + k];
      xs[f.name] = column;
    });
    const ys: Record<string, Float32Array | Int32Array> = {};
    inL.forEach((f, k) => {
      const column = map.input.labelType === 'int32' ? new Int32Array(n) : new Float32Array(n);
      for (let r = 0; r < n; r++) column[r] = inner.labels[r * inL.length + k];
      ys[f.name] = column;
    });
    const records = inner.records.slice(0, n);
    const first = records[0];
    const last = records[n - 1];
    let out: unknown;
    calls?.begin(first, last, n);
    try {
      out = await fn({ xs, ys, records, times: times === undefined ? undefined : Float64Array.from(records, (r) => times.get(r) ?? NaN), size: n });
    } catch (cause) {
      throw fail(`threw ${message(cause)}`, first, last, cause);
    } finally {
      calls?.end();
    }
    try {
      if (typeof out !== 'object' || out === null) throw new BadOutput('returned no { xs, ys } object');
      const o = out as { xs?: unknown; ys?: unknown };
      const x = checkPart(o.xs, outF, 'xs', false, n) as Columns;
      outF.forEach((name, k) => {
        const column = x[name];
        for (let r = 0; r < n; r++) outX[r * outF.length + k] = column[r];
      });
      if (o.ys === undefined && map.ysRequired) throw new BadOutput(`returned no ys (its labels ${outL.join(', ')} are not its input's)`);
      const y = (o.ys === undefined ? ys : checkPart(o.ys, outL, 'ys', false, n)) as Columns;
      outL.forEach((name, k) => {
        const column = y[name];
        for (let r = 0; r < n; r++) outY[r * outL.length + k] = column[r];
      });
    } catch (why) {
      if (!(why instanceof BadOutput)) throw why;
      if (why.row !== undefined) throw fail(why.message, records[why.row]);
      throw fail(why.message, first, last);
    }
  } else {
    for (let r = 0; r < n; r++) {
      const record = inner.records[r];
      const xs: Record<string, number> = {};
      inF.forEach((f, k) => (xs[f.name] = inner.features[r * inF.length + k]));
      const ys: Record<string, number> = {};
      inL.forEach((f, k) => (ys[f.name] = inner.labels[r * inL.length + k]));
      let out: unknown;
      calls?.begin(record, record, 1);
      try {
        out = fn({ xs, ys, record, time: times?.get(record) });
        // Awaited as a batched call's output is: a promise, or any thenable (timed until it settles).
        if (isThenable(out)) out = await out;
      } catch (cause) {
        throw fail(`threw ${message(cause)}`, record, record, cause);
      } finally {
        calls?.end();
      }
      try {
        if (typeof out !== 'object' || out === null) throw new BadOutput('returned no { xs, ys } object');
        const o = out as { xs?: unknown; ys?: unknown };
        const x = checkPart(o.xs, outF, 'xs', true, 1) as Record<string, number>;
        outF.forEach((name, k) => (outX[r * outF.length + k] = x[name]));
        if (o.ys === undefined && map.ysRequired) throw new BadOutput(`returned no ys (its labels ${outL.join(', ')} are not its input's)`);
        const y = (o.ys === undefined ? ys : checkPart(o.ys, outL, 'ys', true, 1)) as Record<string, number>;
        outL.forEach((name, k) => (outY[r * outL.length + k] = y[name]));
      } catch (why) {
        if (!(why instanceof BadOutput)) throw why;
        throw fail(why.message, record);
      }
    }
  }
  return assemble(inner, spec, outX, outY);
}

/**
 * Per output label, the integer range a map's value must be in: the class ids of the input's categorical
 * label passed through (or of a one-hot label), any int32 for an int32 label; undefined for float labels.
 */
function labelClasses(spec: ParseSpec): Array<[number, number] | undefined> {
  const map = spec.map;
  return spec.labels.map((l) => {
    const input = map?.ysRequired === true ? undefined : map?.input.labels.find((f) => f.name === l.name);
    if (input?.vocab !== undefined) return [0, input.vocab.length - 1];
    if (spec.oneHot > 0) return [0, spec.oneHot - 1];
    return spec.labelType === 'int32' ? [-(2 ** 31), 2 ** 31 - 1] : undefined;
  });
}

/** The output rows: features standardised as the spec says, labels as its type (one-hot expanded, checked). */
function assemble(inner: ParsedRows, spec: ParseSpec, outX: Float64Array, outY: Float64Array): ParsedRows {
  const n = inner.rows;
  const F = spec.features.length;
  const Lraw = spec.labels.length;
  const L = spec.oneHot > 0 ? spec.oneHot : Lraw;
  const features = new Float32Array(n * F);
  const labels = spec.labelType === 'int32' && spec.oneHot === 0 ? new Int32Array(n * L) : new Float32Array(n * L);
  const records = new Float64Array(n);
  const skippedExamples = [...inner.skippedExamples];
  let skipped = inner.skipped;
  let rows = 0;
  const classes = labelClasses(spec);
  for (let r = 0; r < n; r++) {
    const wrong = classes.findIndex((range, k) => {
      const v = outY[r * Lraw + k];
      return range !== undefined && (!Number.isInteger(v) || v < range[0] || v > range[1]);
    });
    if (wrong >= 0) {
      const record = inner.records[r];
      const [lo, hi] = classes[wrong] ?? [0, 0];
      const reason = `label ${spec.labels[wrong].name} ${outY[r * Lraw + wrong]} from the map is not ${lo === 0 ? `a class id in 0..${hi}` : 'an int32'}`;
      if (spec.malformed === 'error') throw new SeekdataError('PARSE_ERROR', `${spec.file}: record ${record} ${reason}`, { file: spec.file, record });
      skipped++;
      if (skippedExamples.length < 5) skippedExamples.push({ record, reason });
      continue;
    }
    if (spec.oneHot > 0) {
      const cls = outY[r];
      if (!Number.isInteger(cls) || cls < 0 || cls >= spec.oneHot) {
        const record = inner.records[r];
        const reason = `label ${cls} is not a class in 0..${spec.oneHot - 1}`;
        if (spec.malformed === 'error') throw new SeekdataError('PARSE_ERROR', `${spec.file}: record ${record} ${reason}`, { file: spec.file, record });
        skipped++;
        if (skippedExamples.length < 5) skippedExamples.push({ record, reason });
        continue;
      }
      labels[rows * L + cls] = 1;
    } else {
      for (let k = 0; k < L; k++) labels[rows * L + k] = outY[r * Lraw + k];
    }
    for (let k = 0; k < F; k++) features[rows * F + k] = outX[r * F + k];
    records[rows++] = inner.records[r];
  }
  return {
    features: rows === n ? features : features.slice(0, rows * F),
    labels: rows === n ? labels : labels.slice(0, rows * L),
    records: rows === n ? records : records.slice(0, rows),
    rows,
    skipped,
    skippedExamples,
  };
}
