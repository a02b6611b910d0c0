/**
 * Rounds: how a uniform random order is served at sequential decode speed instead of one chunk decode per
 * record. The draws of a pass are cut into rounds of at most B (what the memory budget holds); a round's
 * records are listed (one permutation evaluation per draw), grouped by the chunk they start in, and every
 * chunk holding any of them is decoded once, in file order, a few chunks at a time through the worker pool,
 * with only the round's records parsed (passed to the parse step as their spans, so no other row is ever
 * built). The round's rows land in slots of one store (`RoundRows`), from which the caller emits them in
 * draw order. Cost per pass: ceil(draws / B) passes over the chunks, each decoding the chunks it needs.
 */
import { SeekdataError } from '../errors.js';
import type { Indexed } from '../index/indexed.js';
import type { ParsedRows, ParseSpec } from './parse.js';
import { labelWidthOf, loadChunkRows } from './rows.js';

/**
 * Bytes a round holds per row beyond its feature and label values (4 bytes each): the record number
 * (8), the valid flag (1) and the row's place in the round's reading order (4).
 */
export const ROUND_ROW_OVERHEAD = 13;

/** Default memory budget of a round: 256 MiB of parsed rows. */
export const DEFAULT_SHUFFLE_MEMORY_BYTES = 256 * 2 ** 20;

/** Bytes of one parsed row in a round: 4 per feature and label value, plus the bookkeeping. */
export function roundRowBytes(spec: ParseSpec): number {
  return 4 * (spec.features.length + labelWidthOf(spec)) + ROUND_ROW_OVERHEAD;
}

/**
 * The parsed rows of one round, one slot per record (a slot's record is set before loading; records may
 * repeat). Shaped as ParsedRows so batches are built from it directly; `rows` is the number of slots.
 */
export class RoundRows implements ParsedRows {
  readonly features: Float32Array;
  readonly labels: Float32Array | Int32Array;
  /** Record of each slot. */
  readonly records: Float64Array;
  /** 1 where the slot's record parsed, 0 where the missing / malformed policies skipped it. */
  readonly valid: Uint8Array;
  rows = 0;
  readonly skipped = 0;
  readonly skippedExamples: Array<{ record: number; reason: string }> = [];
  /** Why records of this round were skipped, as far as the parse jobs said (a few per chunk). */
  readonly reasons = new Map<number, string>();
  /** Parsed rows held now (valid slots), and the records handed to the parser (all rounds). */
  held = 0;
  parsed = 0;
  private readonly featureCount: number;
  private readonly labelWidth: number;

  constructor(
    readonly capacity: number,
    spec: ParseSpec,
  ) {
    this.featureCount = spec.features.length;
    this.labelWidth = labelWidthOf(spec);
    this.features = new Float32Array(capacity * this.featureCount);
    this.labels = spec.labelType === 'int32' && spec.oneHot === 0 ? new Int32Array(capacity * this.labelWidth) : new Float32Array(capacity * this.labelWidth);
    this.records = new Float64Array(capacity);
    this.valid = new Uint8Array(capacity);
  }

  /** Starts a round of `count` slots: their records are to be set, their rows are not loaded. */
  reset(count: number): void {
    if (count > this.capacity) throw new Error(`internal: a round of ${count} slots in a store of ${this.capacity}`);
    this.rows = count;
    this.valid.fill(0, 0, count);
    this.reasons.clear();
    this.held = 0;
  }

  /** Copies row `row` of `from` into slot `slot`. */
  put(slot: number, from: ParsedRows, row: number): void {
    // Plain loops: rows are short, and subarray views per row would be garbage on a hot path.
    const F = this.featureCount;
    const L = this.labelWidth;
    for (let k = 0; k < F; k++) this.features[slot * F + k] = from.features[row * F + k];
    for (let k = 0; k < L; k++) this.labels[slot * L + k] = from.labels[row * L + k];
    if (this.valid[slot] === 0) this.held++;
    this.valid[slot] = 1;
  }
}

/** The slots of a round grouped by the chunk their record starts in, chunks ascending. */
export interface ChunkGroups {
  /** Slots, group after group. */
  slots: Uint32Array;
  /** Chunk of group g, and its slots: slots[start[g], start[g + 1]). */
  chunks: number[];
  start: number[];
}

/** Groups slots [0, count) of `records` by chunk: a counting sort, two binary searches per slot. */
export function groupByChunk(file: Indexed, records: Float64Array, count: number): ChunkGroups {
  const index = file.records;
  const chunkCount = Math.max(0, index.firstRecord.length - 1);
  const counts = new Uint32Array(chunkCount + 1);
  for (let s = 0; s < count; s++) counts[index.chunkOf(records[s]) + 1]++;
  const chunks: number[] = [];
  const start: number[] = [];
  for (let c = 0; c < chunkCount; c++) {
    if (counts[c + 1] > 0) {
      chunks.push(c);
      start.push(counts[c]);
    }
    counts[c + 1] += counts[c];
  }
  start.push(count);
  const slots = new Uint32Array(count);
  for (let s = 0; s < count; s++) slots[counts[index.chunkOf(records[s])]++] = s;
  return { slots, chunks, start };
}

/** Runs `run(0..count-1)`, at most `concurrency` at once, started in order; stops at the first failure. */
export async function inOrder(count: number, concurrency: number, run: (g: number) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async (): Promise<void> => {
    while (next < count && !failed) {
      if (signal?.aborted === true) throw new SeekdataError('ABORTED', 'round aborted', { cause: signal.reason });
      const g = next++;
      try {
        await run(g);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, lane));
}

/**
 * Which slots of a round each chunk serves: chunks in file order, and for the g-th, when its turn comes,
 * its slots and their distinct records ascending (set in `store.records` by the time it returns).
 */
export interface RoundPlan {
  chunks: ArrayLike<number>;
  slotsOf(g: number): { slots: Uint32Array; only: Float64Array };
}

/**
 * The plan of a round whose slots' records are set: grouped by chunk up front (a counting sort), each
 * chunk's records marked to list them ascending and distinct.
 */
export function plannedRound(file: Indexed, store: RoundRows): RoundPlan {
  const groups = groupByChunk(file, store.records, store.rows);
  return {
    chunks: groups.chunks,
    slotsOf(g) {
      const { first, end } = file.records.recordsOf(groups.chunks[g]);
      const slots = groups.slots.subarray(groups.start[g], groups.start[g + 1]);
      const marks = new Uint8Array(end - first);
      for (let k = 0; k < slots.length; k++) marks[store.records[slots[k]] - first] = 1;
      const only = new Float64Array(slots.length);
      let n = 0;
      for (let k = 0; k < marks.length; k++) if (marks[k] === 1) only[n++] = first + k;
      return { slots, only: only.subarray(0, n) };
    },
  };
}

/**
 * Loads the rows of the round's records: every chunk of the plan holding any of them is decoded and parsed
 * once (`concurrency` chunks at a time, in file order), only those records parsed.
 */
export async function loadRound(file: Indexed, spec: ParseSpec, store: RoundRows, plan: RoundPlan, concurrency: number, signal?: AbortSignal): Promise<void> {
  if (store.rows === 0) return;
  await inOrder(
    plan.chunks.length,
    concurrency,
    async (g) => {
      const { slots, only } = plan.slotsOf(g);
      if (only.length === 0) return;
      const chunk = plan.chunks[g];
      const { first, end } = file.records.recordsOf(chunk);
      const loaded = await loadChunkRows(file, chunk, spec, signal, { first, end, only });
      const rows = loaded.rows;
      store.parsed += rows.rows + rows.skipped;
      for (const e of rows.skippedExamples) store.reasons.set(e.record, e.reason);
      const rowOf = loaded.rowOf;
      const records = store.records;
      for (let k = 0; k < slots.length; k++) {
        const s = slots[k];
        const row = rowOf[records[s] - first];
        if (row >= 0) store.put(s, rows, row);
      }
    },
    signal,
  );
}

/** An exact epoch's order: draw i's record, and the draws of a record. */
export interface DrawOrder {
  readonly length: number;
  at(i: number): number;
  drawsOf(record: number, out: Float64Array): number;
}

/**
 * The draws of an exact epoch served in rounds of `roundRows`. A round that draws at least half the file's
 * records finds its records chunk by chunk as their turn comes (the inverse permutation of each record of
 * the chunk: nothing to compute before the first chunk is decoded); a smaller round lists its records first
 * (one evaluation per draw) and decodes only the chunks holding them.
 */
export class ExactRounds {
  readonly store: RoundRows;
  /** Positions whose rows the store holds: [from, to). */
  private from = 0;
  private to = 0;
  /** Rounds loaded (passes made). */
  rounds = 0;
  /** The most parsed rows held at once. */
  peakRows = 0;

  constructor(
    private readonly file: Indexed,
    private readonly spec: ParseSpec,
    private readonly order: DrawOrder,
    readonly roundRows: number,
    private readonly concurrency: number,
  ) {
    this.store = new RoundRows(Math.min(roundRows, order.length), spec);
  }

  get length(): number {
    return this.order.length;
  }

  /** Whether the store holds the row of draw `position`. */
  holds(position: number): boolean {
    return position >= this.from && position < this.to;
  }

  /** The store's slot of draw `position` (held). */
  slot(position: number): number {
    return position - this.from;
  }

  /** A plan that finds the round's records [from, end) chunk by chunk, by the inverse permutation. */
  private scannedRound(from: number, end: number): RoundPlan {
    const index = this.file.records;
    const chunks = Math.max(0, index.firstRecord.length - 1);
    const draws = new Float64Array(2);
    return {
      chunks: Array.from({ length: chunks }, (_, c) => c),
      slotsOf: (c) => {
        const { first, end: last } = index.recordsOf(c);
        // A record is drawn at most twice (a padding repeat).
        const slots = new Uint32Array(2 * (last - first));
        const only = new Float64Array(last - first);
        let s = 0;
        let n = 0;
        for (let record = first; record < last; record++) {
          const count = this.order.drawsOf(record, draws);
          const before = s;
          for (let k = 0; k < count; k++) {
            if (draws[k] < from || draws[k] >= end) continue;
            const slot = draws[k] - from;
            this.store.records[slot] = record;
            slots[s++] = slot;
          }
          if (s > before) only[n++] = record;
        }
        return { slots: slots.subarray(0, s), only: only.subarray(0, n) };
      },
    };
  }

  /**
   * Loads the round holding draw `position`, from that draw on (a resumed epoch skips the round's earlier
   * draws without parsing them) to the round's end.
   */
  async load(position: number, signal?: AbortSignal): Promise<void> {
    const end = Math.min(this.length, (Math.floor(position / this.roundRows) + 1) * this.roundRows);
    this.from = position;
    this.to = position;
    this.store.reset(end - position);
    let plan: RoundPlan;
    if (2 * (end - position) >= this.file.records.count) {
      plan = this.scannedRound(position, end);
    } else {
      for (let k = 0; k < end - position; k++) this.store.records[k] = this.order.at(position + k);
      plan = plannedRound(this.file, this.store);
    }
    await loadRound(this.file, this.spec, this.store, plan, this.concurrency, signal);
    this.to = end;
    this.rounds++;
    this.peakRows = Math.max(this.peakRows, this.store.held);
  }
}
