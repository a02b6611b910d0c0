/**
 * The records of an export, read batch by batch. A run of consecutive records (a time range of a sorted
 * file) is read as one sequential stream of its bytes — decoded ahead in the worker pool and not kept in
 * the reader's cache, since each chunk is needed once — and cut into records by the record index. Other
 * selections (an unsorted file's time order, chosen records) are read per batch with `getMany` (each
 * needed chunk decoded once per batch, through the cache), the next batch read while this one converts.
 */
import { invalidOption, SeekdataError } from '../errors.js';
import type { Indexed } from '../index/indexed.js';
import type { IndexedFile } from '../index/indexed-file.js';
import { endsLine, startsLine } from '../index/record-index.js';
import { TimeIndex } from '../index/time-index.js';

export interface RecordSource {
  count: number;
  /** Record numbers at positions [from, to) of the export. */
  numbers(from: number, to: number): ArrayLike<number>;
  /** Visits the epoch-ms time of each exported record while `visit` returns true (the time index only). */
  times(visit: (t: number) => boolean): void;
  /** When the export is records [first, first + count) in order. */
  run: number | undefined;
}

export interface RecordBatchInput {
  numbers: number[];
  contents: Uint8Array[];
}

export function numbersSource(file: Indexed, numbers: ArrayLike<number>): RecordSource {
  let contiguous = numbers.length > 0 && Number.isSafeInteger(numbers[0]) && numbers[0] >= 0;
  for (let k = 1; k < numbers.length && contiguous; k++) contiguous = numbers[k] === numbers[k - 1] + 1;
  return {
    count: numbers.length,
    numbers: (from, to) => Array.from({ length: to - from }, (_, k) => numbers[from + k]),
    times: (visit) => {
      const time = file.time;
      if (time === undefined) return;
      for (let k = 0; k < numbers.length; k++) {
        const r = numbers[k];
        if (!Number.isSafeInteger(r) || r < 0 || r >= file.records.count) continue;
        if (!visit(time.timeOf(r))) return;
      }
    },
    run: contiguous && numbers[numbers.length - 1] < file.records.count ? numbers[0] : undefined,
  };
}

export function rangeSource(file: Indexed, from: number | Date, to: number | Date, limit: number | undefined): RecordSource {
  const time = file.time;
  if (time === undefined) throw new SeekdataError('INVALID_OPTION', `${file.name}: no timestamp index (open it with options.timeColumn or options.time)`, { file: file.name });
  if (Number.isNaN(+from)) throw invalidOption('from', 'a time (epoch ms or Date)', from);
  if (Number.isNaN(+to)) throw invalidOption('to', 'a time (epoch ms or Date)', to);
  // A collection's time order is merged from its files' (a list of the range's records); a file's is searched in place.
  if (!(time instanceof TimeIndex)) return numbersSource(file, time.range(+from, +to, limit));
  const bounds = time.bounds(+from, +to);
  const count = Math.min(bounds.to - bounds.from, limit ?? Infinity);
  const order = time.order;
  return {
    count,
    numbers: (a, b) => time.recordsAt(bounds.from + a, bounds.from + b),
    // Positions in time order: the records of the range without making their list.
    times: (visit) => {
      for (let p = bounds.from; p < bounds.from + count; p++) if (!visit(time.times[order === undefined ? p : order[p]])) return;
    },
    // Sorted files: position = record number.
    run: order === undefined && count > 0 ? bounds.from : undefined,
  };
}

export interface BatchLimits {
  rows: number;
  bytes: number;
}

/** The source's records in batches of at most `limits` (a batch ends before the record that would pass `bytes`). */
export function readBatches(file: Indexed, source: RecordSource, limits: BatchLimits): AsyncGenerator<RecordBatchInput> {
  return source.run === undefined ? pickedBatches(file, source, limits) : runBatches(file, source.run, source.run + source.count, limits);
}

async function* pickedBatches(file: Indexed, source: RecordSource, limits: BatchLimits): AsyncGenerator<RecordBatchInput> {
  const records = file.records;
  const fetch = async (position: number): Promise<RecordBatchInput & { end: number }> => {
    const candidates = source.numbers(position, Math.min(source.count, position + limits.rows));
    let take = 0;
    let bytes = 0;
    while (take < candidates.length) {
      const { start, end } = records.span(candidates[take]);
      if (take > 0 && bytes + (end - start) > limits.bytes) break;
      bytes += end - start;
      take++;
    }
    const numbers = Array.from({ length: take }, (_, k) => candidates[k]);
    return { numbers, contents: await records.getMany(numbers), end: position + take };
  };
  let next = source.count > 0 ? fetch(0) : undefined;
  try {
    while (next !== undefined) {
      const { numbers, contents, end } = await next;
      // Read ahead: the next batch's chunks decode (in the pool) while this one is converted.
      next = end < source.count ? fetch(end) : undefined;
      yield { numbers, contents };
    }
  } finally {
    // A consumer that stopped early: the read-ahead's outcome is of no use.
    next?.catch(() => undefined);
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Records [first, end) from sequential streams of their bytes: one per file they lie in. */
function runBatches(data: Indexed, first: number, end: number, limits: BatchLimits): AsyncGenerator<RecordBatchInput> {
  if (first >= end) return filesRunBatches(data, first, end, limits);
  const home = data.locate(first);
  // Within one file (always, for a single file): that file's stream itself, numbers unchanged.
  if (home.first === 0 && end <= home.count) return fileRunBatches(home.file, first, end, limits);
  return filesRunBatches(data, first, end, limits);
}

async function* filesRunBatches(data: Indexed, first: number, end: number, limits: BatchLimits): AsyncGenerator<RecordBatchInput> {
  let at = first;
  while (at < end) {
    const home = data.locate(at);
    const stop = Math.min(end, home.first + home.count);
    for await (const batch of fileRunBatches(home.file, at - home.first, stop - home.first, limits)) {
      if (home.first !== 0) for (let k = 0; k < batch.numbers.length; k++) batch.numbers[k] += home.first;
      yield batch;
    }
    at = stop;
  }
}

/** Records [first, end) of one file from one sequential stream of their bytes. */
async function* fileRunBatches(file: IndexedFile, first: number, end: number, limits: BatchLimits): AsyncGenerator<RecordBatchInput> {
  const records = file.records;
  const size = file.reader.size;
  const startOf = (r: number): number => (r < records.count ? records.start(r) : size);
  let recordStart = startOf(first);
  const to = startOf(end);
  // One byte before the first record (three at the byte-order mark) to check that it starts a line, as
  // every record start of an index loaded from disk is checked against the data.
  const lead = recordStart === 3 ? 3 : recordStart > 0 ? 1 : 0;
  let buffer: Uint8Array = new Uint8Array(0);
  let bufferStart = recordStart - lead;
  // Pieces after `buffer` not joined to it yet: joined once the record being cut is complete, so a record
  // spanning many pieces is copied once, not once per piece.
  let waiting: Uint8Array[] = [];
  let waitingBytes = 0;
  let r = first;
  let batch: RecordBatchInput = { numbers: [], contents: [] };
  let bytes = 0;
  for await (const piece of file.reader.stream(bufferStart, to)) {
    waiting.push(piece);
    waitingBytes += piece.length;
    if (r < end && startOf(r + 1) - bufferStart > buffer.length + waitingBytes) continue;
    buffer = buffer.length === 0 && waiting.length === 1 ? waiting[0] : concat([buffer, ...waiting]);
    waiting = [];
    waitingBytes = 0;
    const ends = records.ends(buffer);
    while (r < end) {
      const next = startOf(r + 1);
      if (next - bufferStart > buffer.length) break;
      const at = recordStart - bufferStart;
      // The buffer holds the byte before the record (or starts the file); the record must also end a line, or
      // the file (the record after the range's last is not looked at), and hold one record (no offset left out).
      const starts = startsLine(buffer, at, bufferStart === 0);
      const ended = starts && endsLine(buffer, at, next - bufferStart, size - bufferStart);
      const extra = ended ? ends.extra(at, next - bufferStart) : -1;
      if (!ended || extra >= 0) {
        const where = file.report.indexPath ?? 'record index';
        const what = !starts
          ? `does not start at a line start (offset ${recordStart})`
          : !ended
            ? `does not end at a line end (offset ${next})`
            : `holds more than one record: its line ends at offset ${bufferStart + extra} of its span ending at ${next} (an offset left out)`;
        throw new SeekdataError('CORRUPT_INDEX', `${where}: record index does not match ${file.name}: record ${r} ${what} (a damaged or crafted index: rebuild it)`, {
          file: file.report.indexPath ?? file.name,
          record: r,
        });
      }
      if (batch.numbers.length > 0 && (batch.numbers.length >= limits.rows || bytes + (next - recordStart) > limits.bytes)) {
        yield batch;
        batch = { numbers: [], contents: [] };
        bytes = 0;
      }
      // A view of the stream's bytes (not cached by the reader; kept alive only by this batch).
      batch.contents.push(records.content(buffer.subarray(at, next - bufferStart)));
      batch.numbers.push(r);
      bytes += next - recordStart;
      recordStart = next;
      r++;
    }
    // Keep the unfinished record and the byte before it.
    const keep = Math.max(0, recordStart - 1 - bufferStart);
    buffer = buffer.subarray(keep);
    bufferStart += keep;
  }
  if (r < end) throw new SeekdataError('TRUNCATED', `${file.name}: the data ended before record ${r}`, { file: file.name, record: r });
  if (batch.numbers.length > 0) yield batch;
}
