/**
 * The shuffles of a time range's examples (its rows, or its windows with their targets). `shuffleBuffer`:
 * a shuffle buffer over the time order, as tf.data's. `shuffle: 'exact'`: a uniform random order, served
 * in rounds (rounds.ts). Each pass permutes the examples' places with a keyed Feistel permutation
 * (seeded by the seed and the pass); a round takes the next examples of the permutation, loads the rows
 * of the records they need (their steps and targets: each record once, however many windows share it),
 * chunk by chunk in file order, and emits the examples in permuted order. When the range's rows fit the
 * budget a pass is one round: every chunk of the range decoded once.
 */
import type { Indexed } from '../index/indexed.js';
import type { ParseSpec } from './parse.js';
import { FeistelPermutation, hashInts } from './permutation.js';
import { labelWidthOf } from './rows.js';
import { loadRound, plannedRound, roundRowBytes, RoundRows } from './rounds.js';

/** An example of a time range: features (a row, or a window's steps), labels or target, and its record. */
export interface Example {
  xs: Float32Array;
  ys: Float32Array | Int32Array | undefined;
  /** The record (for windows: the window's last record). */
  record: number;
}

/**
 * The examples of a range, by their positions in its time order: example e has `steps` steps at
 * first[e] + k * rate (k < steps) and a target at target[e] (-1: the labels of its last step). Without
 * `first`, example e is the row at position e.
 */
export interface ExampleList {
  count: number;
  steps: number;
  rate: number;
  first: Uint32Array | undefined;
  target: Int32Array | undefined;
  /** Whether examples are windows (a window with an unparsable step is counted as skipped). */
  windows: boolean;
  /** Width of an example's ys: its target's labels, or its target's features when there are no labels; 0: none. */
  yWidth: number;
}

/** What the round-served examples report as they go. */
export interface RoundReport {
  /** Records of the range read (each once per pass) and skipped by the policies, with an example of why. */
  records(read: number, skipped: number, example: { record: number; reason: string } | undefined): void;
  /** A window left out because one of its rows was skipped. */
  skippedWindow(): void;
  /** A round was loaded (a pass over the chunks it needs). */
  round(rows: number): void;
}

/** Records of the range's rows per example (its steps, and its target's row). */
function rowsPerExample(list: ExampleList): number {
  return list.steps + (list.target === undefined ? 0 : 1);
}

/** Examples per round for a memory budget: all of them when the range's rows fit, else as many as their rows fit. */
export function examplesPerRound(list: ExampleList, rangeRecords: number, spec: ParseSpec, memoryBytes: number): number {
  // A round holds its rows and, while it is planned, a 4-byte position per step of its examples.
  const rows = Math.floor(memoryBytes / (roundRowBytes(spec) + 4));
  if (rangeRecords <= rows) return Math.max(1, list.count);
  return Math.max(1, Math.floor(rows / rowsPerExample(list)));
}

/** Position of `value` in ascending `sorted[0, n)` (present). */
function search(sorted: Uint32Array, n: number, value: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface RoundExamplesOptions {
  file: Indexed;
  spec: ParseSpec;
  /** Record numbers of the range in time order. */
  numbers: Float64Array;
  list: ExampleList;
  seed: number;
  pass: number;
  perRound: number;
  concurrency: number;
  report: RoundReport;
  signal?: AbortSignal | undefined;
}

/** The examples of one pass in a uniform random order (a new one per pass), loaded round by round. */
export async function* roundExamples(o: RoundExamplesOptions): AsyncGenerator<Example> {
  const { list, numbers, perRound } = o;
  const F = o.spec.features.length;
  const permutation = new FeistelPermutation(list.count, hashInts(o.seed, o.pass, 0x5ee));
  const per = rowsPerExample(list);
  const store = new RoundRows(Math.min(numbers.length, perRound * per), o.spec);
  const LW = labelWidthOf(o.spec);
  const positions = new Uint32Array(Math.min(list.count, perRound) * per);
  // Records of the range already counted this pass (a record shared by windows of several rounds is read again).
  const counted = new Uint8Array(Math.ceil(numbers.length / 8));
  const exampleOf = (p: number): number => permutation.at(p);
  const stepAt = (e: number, k: number): number => (list.first === undefined ? e : list.first[e] + k * list.rate);
  for (let from = 0; from < list.count; from += perRound) {
    const to = Math.min(list.count, from + perRound);
    // The positions the round needs, ascending and distinct: its slots.
    let n = 0;
    for (let p = from; p < to; p++) {
      const e = exampleOf(p);
      for (let k = 0; k < list.steps; k++) positions[n++] = stepAt(e, k);
      if (list.target !== undefined && list.target[e] >= 0) positions[n++] = list.target[e];
    }
    const sorted = positions.subarray(0, n).sort();
    let distinct = 0;
    for (let i = 0; i < n; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[distinct++] = sorted[i];
    store.reset(distinct);
    for (let s = 0; s < distinct; s++) store.records[s] = numbers[sorted[s]];
    await loadRound(o.file, o.spec, store, plannedRound(o.file, store), o.concurrency, o.signal);
    o.report.round(store.held);
    let read = 0;
    let skipped = 0;
    let example: { record: number; reason: string } | undefined;
    for (let s = 0; s < distinct; s++) {
      const position = sorted[s];
      if ((counted[position >>> 3] & (1 << (position & 7))) !== 0) continue;
      counted[position >>> 3] |= 1 << (position & 7);
      read++;
      if (store.valid[s] === 1) continue;
      skipped++;
      const reason = store.reasons.get(store.records[s]);
      if (example === undefined && reason !== undefined) example = { record: store.records[s], reason };
    }
    o.report.records(read, skipped, example);
    const slotOf = (position: number): number => search(sorted, distinct, position);
    examples: for (let p = from; p < to; p++) {
      const e = exampleOf(p);
      // Views into the store are safe: the consumer copies an example before asking for the next one.
      let xs: Float32Array | undefined = list.steps === 1 ? undefined : new Float32Array(list.steps * F);
      let last = 0;
      for (let k = 0; k < list.steps; k++) {
        last = slotOf(stepAt(e, k));
        if (store.valid[last] === 0) {
          if (list.windows) o.report.skippedWindow();
          continue examples;
        }
        if (xs === undefined) xs = store.features.subarray(last * F, (last + 1) * F);
        else xs.set(store.features.subarray(last * F, (last + 1) * F), k * F);
      }
      if (xs === undefined) continue;
      const record = store.records[last];
      let ys: Float32Array | Int32Array | undefined;
      if (list.yWidth > 0) {
        // The target's labels; its features when forecasting without labels; without a target, the
        // labels of the last step.
        const t = list.target !== undefined && list.target[e] >= 0 ? slotOf(list.target[e]) : last;
        if (store.valid[t] === 0) {
          o.report.skippedWindow();
          continue;
        }
        ys = LW === 0 ? store.features.subarray(t * F, (t + 1) * F) : store.labels.subarray(t * LW, (t + 1) * LW);
      }
      yield { xs, ys, record };
    }
  }
}

/** A shuffle buffer: holds up to `size` examples and emits one at random as each new one arrives. */
export async function* shuffleExamples(source: AsyncGenerator<Example>, size: number, random: () => number): AsyncGenerator<Example> {
  const buffer: Example[] = [];
  const take = (): Example => {
    const j = Math.floor(random() * buffer.length);
    const out = buffer[j];
    buffer[j] = buffer[buffer.length - 1];
    buffer.pop();
    return out;
  };
  for await (const example of source) {
    buffer.push(example);
    if (buffer.length > size) yield take();
  }
  while (buffer.length > 0) yield take();
}
