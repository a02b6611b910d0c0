/**
 * sampleBatches: the record numbers a ShuffledBatchDataset with the same options draws, batch by batch,
 * with the records' bytes exactly as they are in the file (without their line terminators). It shares the
 * dataset's plan (plan.ts): the `sample` command prints it. In chunked and file order each chunk is
 * decoded once per epoch and its records are held by the window itself (window.ts), not by the reader's
 * cache, so a small cache costs nothing; the exact order is served in rounds (rounds.ts): a round holds
 * the bytes of as many of the next draws' records as `shuffleMemoryBytes` allows, read chunk by chunk in
 * file order, each chunk decoded once per round.
 */
import { SeekdataError } from '../errors.js';
import type { Indexed } from '../index/indexed.js';
import { endsLine, startsLine } from '../index/record-index.js';
import { checkBoolean, checkPositiveInt } from '../options.js';
import { concatBytes } from '../util.js';
import { ExactOrder } from './order.js';
import { epochDraws, resolvePlan, type PlanOptions } from './plan.js';
import { DEFAULT_SHUFFLE_MEMORY_BYTES, groupByChunk, inOrder } from './rounds.js';
import { misplaced } from './rows.js';
import type { OrderParams } from './shard.js';
import { findRecord, SlotWindow, type SlotOps } from './window.js';

export interface SampleOptions extends PlanOptions {
  /** Records per batch. Default 32. */
  batchSize?: number;
  /** Read the records' bytes (false: record numbers only, nothing is decoded). Default true. */
  records?: boolean;
  /**
   * `shuffle: 'exact'`: bytes of records (their spans in the file, plus 16 bytes each) a round may hold.
   * Default 256 MiB. Each round decodes the chunks holding its records once.
   */
  shuffleMemoryBytes?: number;
}

export interface SampleBatch {
  /** Batch number in the epoch. */
  batch: number;
  /** Record numbers, in the order drawn. */
  numbers: number[];
  /** The records' bytes, without line terminators (empty when `records: false`). */
  records: Uint8Array[];
  /** Passes over the file made so far this epoch: rounds read in exact order, 1 otherwise (0: nothing read). */
  passes: number;
}

/** Records of a slot as the window holds them: contents back to back, in record order. */
interface RecordBytes {
  records: Float64Array;
  /** Content k is bytes[offsets[k], offsets[k + 1]). */
  offsets: Float64Array;
  bytes: Uint8Array;
}

const recordBytesOps: SlotOps<RecordBytes> = {
  held: (data) => data.records.length,
  bytes: (data) => data.bytes.byteLength + data.records.byteLength + data.offsets.byteLength,
  compact(data, keep) {
    const kept: number[] = [];
    let size = 0;
    for (let k = 0; k < data.records.length; k++) {
      if (!keep(data.records[k])) continue;
      kept.push(k);
      size += data.offsets[k + 1] - data.offsets[k];
    }
    return pack(kept.length, size, (i) => data.records[kept[i]], (i) => data.bytes.subarray(data.offsets[kept[i]], data.offsets[kept[i] + 1]));
  },
};

function pack(n: number, size: number, record: (i: number) => number, content: (i: number) => Uint8Array): RecordBytes {
  const out: RecordBytes = { records: new Float64Array(n), offsets: new Float64Array(n + 1), bytes: new Uint8Array(size) };
  let at = 0;
  for (let i = 0; i < n; i++) {
    const c = content(i);
    out.records[i] = record(i);
    out.offsets[i] = at;
    out.bytes.set(c, at);
    at += c.length;
  }
  out.offsets[n] = at;
  return out;
}

/** Records [first, end) of a chunk: the chunk decoded once (the cache is not filled), its records copied out. */
async function loadSegment(file: Indexed, chunk: number, first: number, end: number): Promise<RecordBytes> {
  // A loaded index's tail is checked against the data once before use (else the last record is read whole).
  await file.records.verifyTail(chunk);
  const { bytes } = await file.reader.decodeWith(chunk, {});
  const { records, spans, tail, long, startsFile, fileEnd } = file.records.chunkSpans(chunk);
  // Spans are relative to the chunk's bytes followed by its tail.
  const all = tail.length === 0 ? bytes : concatBytes([bytes, tail]);
  const contents = new Array<Uint8Array | undefined>(end - first);
  const ends = file.records.ends(all);
  let size = 0;
  for (let k = 0; k < records.length; k++) {
    if (records[k] < first || records[k] >= end) continue;
    const a = spans[2 * k];
    const e = spans[2 * k + 1];
    // A span from a loaded index must start and end a line and hold one record (rows.ts `misplaced` reports it).
    if (!startsLine(all, a, startsFile) || !endsLine(all, a, e, fileEnd) || ends.extra(a, e) >= 0) await misplaced(file, records[k]);
    const content = file.records.content(all.subarray(a, e));
    contents[records[k] - first] = content;
    size += content.length;
  }
  // A record longer than the stored tail is read through the reader.
  for (const r of long) {
    if (r < first || r >= end) continue;
    const content = await file.records.get(r);
    contents[r - first] = content;
    size += content.length;
  }
  return pack(end - first, size, (i) => first + i, (i) => {
    const content = contents[i];
    if (content === undefined) throw new SeekdataError('CORRUPT_INDEX', `${file.name}: record ${first + i} has no span in chunk ${chunk} (internal)`, { file: file.name });
    return content;
  });
}

/** Bytes a sample round holds per record beyond its span: its record number and place (8 each). */
const SAMPLE_ROUND_OVERHEAD = 16;

/**
 * An exact epoch's batches with their records' bytes, in rounds: a round takes the next draws while the
 * spans of their records (from the index, before reading) fit `memoryBytes` (at least one draw), reads them
 * chunk by chunk in file order and gives them back in draw order.
 */
async function* exactSampleBatches(file: Indexed, params: OrderParams, batchSize: number, memoryBytes: number, concurrency: number): AsyncGenerator<SampleBatch> {
  const order = new ExactOrder(file.records.count, params);
  let records = new Float64Array(0);
  let offsets = new Float64Array(1);
  let lengths = new Uint32Array(0);
  let bytes = new Uint8Array(0);
  let from = 0;
  let to = 0;
  let passes = 0;
  const load = async (position: number): Promise<void> => {
    const wanted: number[] = [];
    const at: number[] = [0];
    let size = 0;
    for (let p = position; p < order.length; p++) {
      const record = order.at(p);
      const span = file.records.span(record);
      const next = size + span.end - span.start;
      if (wanted.length > 0 && next + SAMPLE_ROUND_OVERHEAD * (wanted.length + 1) > memoryBytes) break;
      wanted.push(record);
      at.push(next);
      size = next;
    }
    records = Float64Array.from(wanted);
    offsets = Float64Array.from(at);
    lengths = new Uint32Array(wanted.length);
    bytes = new Uint8Array(size);
    const groups = groupByChunk(file, records, records.length);
    await inOrder(groups.chunks.length, concurrency, async (g) => {
      const slots = groups.slots.subarray(groups.start[g], groups.start[g + 1]);
      let first = Infinity;
      let end = 0;
      for (const s of slots) {
        first = Math.min(first, records[s]);
        end = Math.max(end, records[s] + 1);
      }
      const data = await loadSegment(file, groups.chunks[g], first, end);
      for (const s of slots) {
        const k = records[s] - first;
        const content = data.bytes.subarray(data.offsets[k], data.offsets[k + 1]);
        bytes.set(content, offsets[s]);
        lengths[s] = content.length;
      }
    });
    from = position;
    to = position + wanted.length;
    passes++;
  };
  let position = 0;
  for (let batch = 0; position < order.length; batch++) {
    const numbers: number[] = [];
    const contents: Uint8Array[] = [];
    for (let k = 0; k < batchSize && position < order.length; k++, position++) {
      if (position >= to) await load(position);
      const slot = position - from;
      numbers.push(records[slot]);
      // A copy: the round's bytes are replaced by the next round's.
      contents.push(bytes.slice(offsets[slot], offsets[slot] + lengths[slot]));
    }
    yield { batch, numbers, records: contents, passes };
  }
}

/** The epoch's batches for `options` (validated as a dataset validates them: INVALID_OPTION naming the field). */
export async function* sampleBatches(file: Indexed, options: SampleOptions = {}): AsyncGenerator<SampleBatch> {
  const batchSize = checkPositiveInt('batchSize', options.batchSize ?? 32);
  const withRecords = checkBoolean('records', options.records ?? true);
  const memoryBytes = checkPositiveInt('shuffleMemoryBytes', options.shuffleMemoryBytes ?? DEFAULT_SHUFFLE_MEMORY_BYTES);
  const params = resolvePlan(file, options);
  const lookahead = file.readAhead;
  // Sampling looks up record spans synchronously: a collection opened from its manifest opens its files.
  await file.prepare();
  if (withRecords && params.mode === 'exact') {
    yield* exactSampleBatches(file, params, batchSize, memoryBytes, lookahead);
    return;
  }
  const loads: Array<Promise<void> | undefined> = [];
  const failures = new Map<number, unknown>();
  const startLoad = (slot: number): void => {
    if (!withRecords || slot >= draws.segments.length || loads[slot] !== undefined || window.remaining(slot) === 0) return;
    const { chunk, first, end } = draws.segments[slot];
    loads[slot] = loadSegment(file, chunk, first, end).then(
      (data) => window.put(slot, data),
      (error: unknown) => {
        failures.set(slot, error);
      },
    );
  };
  const draws = epochDraws(file, params, (slot) => {
    for (let s = slot; s < slot + lookahead; s++) startLoad(s);
  });
  const window = new SlotWindow(draws.segments, recordBytesOps);
  const contentOf = async (slot: number, record: number): Promise<Uint8Array> => {
    if (window.get(slot) === undefined) {
      startLoad(slot);
      await loads[slot];
      const failure = failures.get(slot);
      if (failure !== undefined) throw failure;
    }
    const data = window.get(slot);
    const k = data === undefined ? -1 : findRecord(data.records, record);
    if (data === undefined || k < 0) throw new SeekdataError('WORKER_ERROR', `${file.name}: record ${record} missing from its chunk's window (internal)`, { file: file.name });
    // A copy: the window may compact (replace) the slot's bytes after this draw.
    return data.bytes.slice(data.offsets[k], data.offsets[k + 1]);
  };
  for (let batch = 0; ; batch++) {
    const numbers: number[] = [];
    const records: Uint8Array[] = [];
    for (let k = 0; k < batchSize; k++) {
      const draw = draws.next();
      if (draw === undefined) break;
      numbers.push(draw.record);
      if (withRecords && draw.slot >= 0) {
        records.push(await contentOf(draw.slot, draw.record));
        window.draw(draw.slot, draw.record);
      }
    }
    if (numbers.length === 0) return;
    yield { batch, numbers, records, passes: withRecords ? 1 : 0 };
  }
}
