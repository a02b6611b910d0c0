/**
 * Opening a data file with its record index: load everything from a fresh index file, or run the one
 * indexing pass that builds the chunk map, record offsets, timestamps and column statistics together
 * (decoding and analysing chunks in the worker pool), then save them as sections of the index file.
 */
import { SeekdataError } from '../errors.js';
import { fingerprint, type Fingerprint } from './fingerprint.js';
import { readIndexFile, type SectionValue } from './index-file.js';
import { unitSections, unitsFromSections } from './store.js';
import {
  indexPlaces,
  loadFresh,
  metaSection,
  openSource,
  resolveReaderOptions,
  runnerFor,
  saveIndex,
  sourceFormat,
  type Input,
  type ReaderOptions,
} from '../readers/open.js';
import { chunkLayout, ChunkDecoder } from '../readers/chunks.js';
import { SeekableReader } from '../readers/reader.js';
import { Bzip2Discovery, scanKnown, tableWithoutScan, type ScannedChunk } from '../readers/scan.js';
import type { UnitTable } from '../readers/units.js';
import type { ByteSource } from '../sources/source.js';
import type { AnalyzeSpec } from './records/analyze.js';
import { RecordBuilder, type BuiltRecords } from './records/builder.js';
import { describeLayout, firstChunkBytes, type FileLayout } from './records/first-chunk.js';
import { optionsDifference, resolveRecordOptions, type RecordOptions, type ResolvedRecordOptions } from './records/options.js';
import { finalizeStats, type ColumnStats } from './records/stats.js';
import type { ResolvedTimeFormat } from './records/time.js';
import { IndexedFile, type IndexReport } from './indexed-file.js';
import { RecordIndex } from './record-index.js';
import { TimeIndex } from './time-index.js';

export type IndexedOptions = ReaderOptions & RecordOptions;

const MAX_BAD_EXAMPLES = 10;

/** What the index file stores about the record layer (the `records` part of its metadata). */
interface StoredRecordsMeta {
  options: ResolvedRecordOptions;
  pieces: { bigUnitBytes: number; pieceBytes: number };
  columns: string[];
  stats: ColumnStats[];
  count: number;
  time: IndexReport['time'];
}

function isStoredRecordsMeta(value: unknown): value is StoredRecordsMeta {
  return typeof value === 'object' && value !== null && 'options' in value && 'count' in value && 'pieces' in value;
}

/** Opens a data file with its record index (and time index and statistics when asked for). */
export async function openIndexed(input: Input, options: IndexedOptions = {}): Promise<IndexedFile> {
  const started = performance.now();
  const resolved = resolveReaderOptions(options);
  const recordOptions = resolveRecordOptions(options);
  const source = await openSource(input, options.headers, options.httpTimeoutMs);
  try {
    const format = await sourceFormat(source);
    const places = indexPlaces(source, options.index);
    const runner = runnerFor(resolved.parallelism, options.pool);
    const readerInit = { source, runner, parallelism: resolved.parallelism, cacheBytes: resolved.cacheBytes, pieces: resolved.pieces, verify: resolved.verify, damage: undefined };
    let print: Fingerprint | undefined;
    let units: UnitTable | undefined;
    let rebuilding = false;
    if (places !== undefined) {
      print = await fingerprint(source);
      const loaded = await loadFresh(source, format, places, print, resolved, options.onWarning);
      rebuilding = loaded.rebuilding;
      const fresh = loaded.fresh;
      if (fresh !== undefined) {
        units = unitsFromSections(fresh.sections, format, fresh.path);
        const stored = fresh.meta.records;
        const why = !isStoredRecordsMeta(stored)
          ? undefined
          : optionsDifference(stored.options, recordOptions) ??
            (stored.pieces.bigUnitBytes !== resolved.pieces.bigUnitBytes || stored.pieces.pieceBytes !== resolved.pieces.pieceBytes ? 'bigUnitBytes/pieceBytes differ' : undefined);
        let file: IndexedFile | undefined;
        if (isStoredRecordsMeta(stored) && why === undefined) {
          const reader = new SeekableReader({ ...readerInit, units, indexPath: fresh.path, indexStatus: 'loaded', scannedOnOpen: false });
          try {
            file = fromSections(reader, fresh, stored, recordOptions, started);
          } catch (error) {
            if (!(error instanceof SeekdataError) || error.code !== 'CORRUPT_INDEX' || resolved.ifStale === 'error') throw error;
            options.onWarning?.(`${error.message}; rebuilding`);
            rebuilding = true;
          }
        }
        if (file !== undefined && isStoredRecordsMeta(stored)) {
          if (recordOptions.strict && (file.time?.summary.unparsable ?? 0) > 0) {
            const example = stored.time?.unparsableExamples[0];
            await file.close();
            throw new SeekdataError('PARSE_ERROR', `${source.name}: record ${example?.record ?? '?'}: unparsable timestamp ${JSON.stringify(example?.text ?? '')} (strict)`, {
              file: source.name,
              record: example?.record,
            });
          }
          return file;
        }
        if (why !== undefined) {
          const error = new SeekdataError('INDEX_MISMATCH', `${fresh.path}: index was built with other options (${why})`, { file: fresh.path });
          if (resolved.ifStale === 'error') throw error;
          options.onWarning?.(`${error.message}; rebuilding`);
          rebuilding = true;
        }
      }
    }
    units ??= await tableWithoutScan(source, format);
    const first = await firstChunkBytes(source, format, units, resolved.pieces);
    const wholeFile = units === undefined ? false : chunkLayout(units, resolved.pieces).count <= 1;
    const layout = describeLayout(source.name, first, wholeFile || first.length === 0, recordOptions);
    const spec = analyzeSpec(recordOptions, layout);
    const builder = new RecordBuilder({
      file: source.name,
      specFor: (offset) => (offset === 0 ? { ...spec, begin: layout.begin } : spec),
      columns: layout.columns,
      timeFn: options.time,
      strict: recordOptions.strict,
      maxBad: MAX_BAD_EXAMPLES,
    });
    const onChunk = (chunk: ScannedChunk): void => {
      builder.addChunk(chunk.offset, chunk.bytes, chunk.analysis);
      options.onProgress?.({ bytesDone: chunk.compressedDone, bytesTotal: source.size });
    };
    units = await runPass(source, units, { ...resolved, runner, signal: options.signal, onWarning: options.onWarning }, onChunk, spec, layout.begin);
    options.onProgress?.({ bytesDone: source.size, bytesTotal: source.size });
    const built = builder.finish();
    const time = built.times === undefined ? undefined : TimeIndex.build(built.times);
    const mask = layout.statMask;
    const stats = (built.stats === undefined ? [] : finalizeStats(built.stats, built.statNames ?? layout.columns, built.vocab)).filter((_, c) => mask === undefined || mask[c] === 1);
    const meta: StoredRecordsMeta = {
      options: recordOptions,
      pieces: resolved.pieces,
      columns: layout.columns,
      stats,
      count: built.count,
      time: timeReport(recordOptions, layout, time, built),
    };
    let indexPath: string | undefined;
    let indexBytes: number | undefined;
    if (places !== undefined && print !== undefined) {
      const saved = await saveIndex(places, [metaSection(source, format, print, meta), ...unitSections(units), ...recordSections(built, time)], options.onWarning);
      indexPath = saved?.path;
      indexBytes = saved?.bytes;
    }
    const status = indexPath === undefined ? 'none' : rebuilding ? 'rebuilt' : 'built';
    const reader = new SeekableReader({ ...readerInit, units, indexPath, indexStatus: status, scannedOnOpen: true });
    const records = new RecordIndex(reader, recordOptions.kind, built.firstRecord, built.offsets, { bytes: built.tails, offsets: built.tailOffsets, stored: built.tailStored });
    const report: IndexReport = { records: built.count, status, indexPath, indexBytes, seconds: (performance.now() - started) / 1000, time: meta.time };
    return new IndexedFile(reader, records, time, layout.columns, stats, recordOptions, report);
  } catch (error) {
    await source.close();
    throw error;
  }
}

function analyzeSpec(options: ResolvedRecordOptions, layout: FileLayout): AnalyzeSpec {
  return {
    kind: options.kind,
    delimiter: options.delimiter.charCodeAt(0),
    begin: 0,
    inQuote: false,
    statColumns: layout.statColumns,
    statMask: layout.statMask,
    statOnly: layout.statOnly,
    time: layout.timeField === undefined || layout.timeFormat === undefined ? undefined : { field: layout.timeField, format: layout.timeFormat, zone: options.timeZone },
    maxBad: MAX_BAD_EXAMPLES,
  };
}

/** The one pass: decode every chunk (discovering bzip2 blocks when there is no chunk map) and analyse it. */
async function runPass(
  source: ByteSource,
  units: UnitTable | undefined,
  options: ReturnType<typeof resolveReaderOptions> & { runner: ReturnType<typeof runnerFor>; signal?: AbortSignal | undefined; onWarning?: ((m: string) => void) | undefined },
  onChunk: (chunk: ScannedChunk) => void,
  spec: AnalyzeSpec,
  begin: number,
): Promise<UnitTable> {
  const analyzeFor = (offset: number): AnalyzeSpec => (offset === 0 ? { ...spec, begin } : spec);
  const lookahead = options.parallelism * 2;
  if (units === undefined) {
    const discovery = new Bzip2Discovery(source, { runner: options.runner, lookahead, signal: options.signal, onWarning: options.onWarning, analyzeFor });
    for await (const chunk of discovery.chunks()) onChunk(chunk);
    return discovery.table();
  }
  // 'lazy': the pass fails as a whole when a block fails its check, so it need not verify a big block
  // before passing through it; doing so records the CRC32s of its pieces, saved with the chunk map.
  const decoder = new ChunkDecoder(source, units, chunkLayout(units, options.pieces), options.runner, { verify: 'lazy' });
  try {
    for await (const chunk of scanKnown(decoder, { lookahead, signal: options.signal, analyzeFor })) onChunk(chunk);
  } finally {
    decoder.close();
  }
  return units;
}

function timeReport(options: ResolvedRecordOptions, layout: FileLayout, time: TimeIndex | undefined, built: BuiltRecords): IndexReport['time'] {
  if (time === undefined) return undefined;
  const format: ResolvedTimeFormat | 'function' = options.timeFunction !== undefined ? 'function' : (layout.timeFormat ?? 'iso');
  return {
    column: options.timeColumn,
    format,
    zone: options.timeZone,
    sorted: time.summary.sorted,
    first: time.summary.first,
    last: time.summary.last,
    unparsable: built.badCount,
    unparsableExamples: built.bad,
  };
}

function recordSections(built: BuiltRecords, time: TimeIndex | undefined): Array<[string, SectionValue]> {
  const out: Array<[string, SectionValue]> = [
    ['records.first', built.firstRecord],
    ['records.offsets', built.offsets],
    ['records.tails', built.tails],
    ['records.tailOffsets', built.tailOffsets],
    ['records.tailStored', built.tailStored],
  ];
  if (time !== undefined) {
    out.push(['time.values', time.times]);
    if (time.order !== undefined) out.push(['time.order', time.order]);
  }
  return out;
}

function fromSections(
  reader: SeekableReader,
  fresh: { path: string; bytes: number; sections: Map<string, SectionValue> },
  meta: StoredRecordsMeta,
  options: ResolvedRecordOptions,
  started: number,
): IndexedFile {
  const { path, sections } = fresh;
  const fail = (what: string): SeekdataError => new SeekdataError('CORRUPT_INDEX', `${path}: corrupt index file: ${what}`, { file: path });
  const first = sections.get('records.first');
  const offsets = sections.get('records.offsets');
  if (!(first instanceof Float64Array) || !(offsets instanceof Uint32Array)) throw fail('record sections missing');
  if (first.length !== reader.layout.count + 1 || offsets.length !== meta.count) throw fail('record sections do not match the chunk map');
  let time: TimeIndex | undefined;
  if (meta.time !== undefined) {
    const values = sections.get('time.values');
    const order = sections.get('time.order');
    if (!(values instanceof Float64Array) || values.length !== meta.count) throw fail('time section missing');
    if (order !== undefined && !(order instanceof Uint32Array)) throw fail('time order section damaged');
    if (order === undefined && (!meta.time.sorted || meta.time.unparsable > 0)) throw fail('time order section missing');
    time = TimeIndex.fromParts(values, order, meta.time.sorted);
  }
  const tails = sections.get('records.tails');
  const tailOffsets = sections.get('records.tailOffsets');
  const tailStored = sections.get('records.tailStored');
  if (!(tails instanceof Uint8Array) || !(tailOffsets instanceof Float64Array) || !(tailStored instanceof Uint8Array) || tailStored.length !== reader.layout.count) {
    throw fail('record tail sections missing');
  }
  const records = new RecordIndex(reader, options.kind, first, offsets, { bytes: tails, offsets: tailOffsets, stored: tailStored });
  const report: IndexReport = {
    records: meta.count,
    status: 'loaded',
    indexPath: path,
    indexBytes: fresh.bytes,
    seconds: (performance.now() - started) / 1000,
    time: meta.time,
  };
  return new IndexedFile(reader, records, time, meta.columns, meta.stats, options, report);
}

/**
 * The record options an existing index of `input` was built with, if it has a record layer (so the CLI
 * can reopen a file the way `seekdata index` indexed it without repeating the flags).
 */
export async function storedRecordOptions(input: Input, options: { index?: string | false; headers?: Record<string, string> } = {}): Promise<RecordOptions | undefined> {
  const source = await openSource(input, options.headers);
  try {
    const places = indexPlaces(source, options.index);
    if (places === undefined) return undefined;
    for (const path of places.read) {
      let stored;
      try {
        stored = await readIndexFile(path);
      } catch {
        continue;
      }
      const meta = stored?.sections.get('meta');
      const records = meta !== undefined && 'json' in meta ? (meta.json as { records?: unknown }).records : undefined;
      if (!isStoredRecordsMeta(records)) continue;
      const o = records.options;
      const out: RecordOptions = { records: o.kind, header: o.header, delimiter: o.delimiter, timeFormat: o.timeFormat, stats: o.stats };
      if (o.timeColumn !== undefined) out.timeColumn = o.timeColumn;
      if (o.timeZone !== undefined) out.timeZone = o.timeZone;
      return out;
    }
    return undefined;
  } finally {
    await source.close();
  }
}
