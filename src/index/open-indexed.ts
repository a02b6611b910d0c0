/**
 * Opening a data file with its record index: load everything from a fresh index file, or run the one
 * indexing pass that builds the chunk map, record offsets, timestamps and column statistics together
 * (decoding and analysing chunks in the worker pool), then save them as sections of the index file.
 */
import { SeekdataError } from '../errors.js';
import { checkBoolean, checkKnownKeys } from '../options.js';
import { INDEXED_OPTION_KEYS } from '../option-keys.js';
import { fingerprint, type Fingerprint } from './fingerprint.js';
import { findIndexes, type FoundIndexes } from './store.js';
import { unitSections } from './unit-sections.js';
import { readerSettings, resolveReaderOptions, runnerFor, sourceOptions, type ReaderOptions } from './reader-options.js';
import { checkIndexPlace, findPlacedIndexes, indexPlaces, metaSection, placeEarly, saveIndex } from './persist.js';
import { chunkLayout, ChunkDecoder, isBigUnit, type ChunkLayout } from '../readers/chunks.js';
import { scannedUnits, unitsWithoutScan } from '../readers/discover.js';
import { checkKnownSize, scanLimit } from '../readers/limit.js';
import type { ScannedChunk } from '../readers/format.js';
import { formatOf, type Format } from '../readers/formats.js';
import { openSource, type Input } from '../readers/input.js';
import { crcsFor } from '../readers/pieces.js';
import { SeekableReader } from '../readers/reader.js';
import { scanKnown, scanLookahead } from '../readers/scan.js';
import { sourceFormat } from '../readers/source-format.js';
import { setSubCrcs } from '../readers/sub-crcs.js';
import { largestUnit, type UnitTable } from '../readers/units.js';
import type { StepCall } from '../workers/registry.js';
import type { ByteSource } from '../sources/source.js';
import type { AnalyzeSpec, ChunkEdges } from './records/analyze.js';
import { analyzeStep } from './steps.js';
import { RecordBuilder } from './records/builder.js';
import type { BuiltRecords } from './records/built-records.js';
import { describeLayout, firstChunkBytes, type FileLayout, type FirstChunk } from './records/first-chunk.js';
import { checkGivenRecordOptions, describeRecordOptions, type InheritableRecordOptions } from './records/inherit.js';
import type { RecordOptions, ResolvedRecordOptions } from './records/options.js';
import { finalizeStats } from './records/stats.js';
import type { ResolvedTimeFormat } from './records/time.js';
import { IndexedFile, type IndexReport } from './indexed-file.js';
import { chooseRecordOptions, loadFromFresh, type ChosenOptions } from './load-indexed.js';
import { recordSections, storedStats, type StoredRecordsMeta } from './record-sections.js';
import { RecordIndex } from './record-index.js';
import { TimeIndex, type TimeSummary } from './time-index.js';

/**
 * Options of `openIndexed`: the reader's, and the record options. Record options left unset are taken
 * from the data set's stored index (fresh, stale or damaged, when its metadata is intact); given ones
 * override them (and rebuild the index when they differ); `timeColumn: null` / `timeZone: null` clear a
 * stored one. See records/inherit.ts.
 */
export type IndexedOptions = ReaderOptions & InheritableRecordOptions;

const MAX_BAD_EXAMPLES = 10;

/** Opens a data file with its record index (and time index and statistics when asked for). */
export async function openIndexed(input: Input, options: IndexedOptions = {}): Promise<IndexedFile> {
  const started = performance.now();
  checkKnownKeys(options, INDEXED_OPTION_KEYS, 'openIndexed');
  const resolved = resolveReaderOptions(options);
  checkGivenRecordOptions(options);
  const source = await openSource(input, sourceOptions(options));
  // The header read's decoder until the pass takes it over (FirstChunk.decoder): closed here when anything
  // fails before (an open stream holds its window in the WebAssembly heap).
  let first: FirstChunk | undefined;
  try {
    const format = await sourceFormat(source);
    const places = await indexPlaces(source, options.index, options.onWarning, sourceOptions(options));
    const upload = checkBoolean('indexUpload', options.indexUpload ?? false) ? places?.remote : undefined;
    let fetched = false;
    const runner = runnerFor(resolved.parallelism, options.pool);
    const readerInit = { ...readerSettings(source, runner, resolved), damage: undefined };
    let print: Fingerprint | undefined;
    let units: UnitTable | undefined;
    let rebuilding = resolved.rebuild;
    let chosen: ChosenOptions;
    if (places === undefined) {
      chosen = chooseRecordOptions(options, undefined, source.name);
    } else {
      print = await fingerprint(source);
      // No fresh index here: the one beside the object in its store (s3://…/<key>.sdx), when it has one.
      const placed = await findPlacedIndexes(places, print, format, source.name, options.onWarning, resolved.rebuild);
      const found = placed.found;
      fetched = placed.fetched;
      try {
        chosen = chooseRecordOptions(options, found, source.name);
        if (!resolved.rebuild) {
          const outcome = await loadFromFresh(found, source, format, chosen.options, resolved.pieces, readerInit, started);
          if (outcome.file !== undefined) {
            const file = await checkStrict(outcome.file, chosen.options, source.name);
            // Loaded from the local cache: put it beside the object when asked (it may not be there yet).
            const path = file.report.indexPath;
            if (upload !== undefined && path !== undefined && !fetched) await upload.upload(path, options.onWarning);
            return file;
          }
          units = outcome.units;
          // Nothing built that could not be kept: another data file's index at the `index` path is an error.
          await checkIndexPlace(places);
          rebuilding = whyRebuild(found, outcome.mismatch, chosen, resolved.ifStale, options.onWarning);
        } else {
          await checkIndexPlace(places);
        }
      } finally {
        await found.close();
      }
    }
    const recordOptions = chosen.options;
    if (chosen.storedTimeFunction !== undefined && options.time === undefined) {
      throw new SeekdataError(
        'INVALID_OPTION',
        `${source.name}: its index was built with options.time (a function, which an index cannot store) and must be rebuilt: pass options.time again, or timeColumn: null for no time index`,
        { file: source.name },
      );
    }
    units ??= await unitsWithoutScan(source, format, { unitBytes: resolved.gzipSpacingBytes, onWarning: options.onWarning });
    if (units !== undefined) checkKnownSize(units, source.name, resolved.maxDecodedBytes, `its ${formatOf(format).unitName} headers`);
    // An aborted signal stops the open before the header's decode (a big unit's first piece can take a second), and after it.
    const aborted = (): void => {
      if (options.signal?.aborted === true) throw new SeekdataError('ABORTED', `${source.name}: scan aborted`, { file: source.name, cause: options.signal.reason });
    };
    aborted();
    first = await firstChunkBytes(source, format, units, resolved.pieces, runner, besideFirst(units, resolved.parallelism));
    aborted();
    const wholeFile = units === undefined ? false : chunkLayout(units, resolved.pieces).count <= 1;
    const layout = describeLayout(source.name, first.bytes, wholeFile || first.bytes.length === 0, recordOptions);
    const subCrcBytes = formatOf(format).passSubCrcs;
    let spec = analyzeSpec(recordOptions, layout, subCrcBytes);
    const newBuilder = (): RecordBuilder =>
      new RecordBuilder({
        file: source.name,
        specFor: (offset) => (offset === 0 ? { ...spec, begin: layout.begin } : spec),
        columns: layout.columns,
        timeFn: options.time,
        strict: recordOptions.strict,
        maxBad: MAX_BAD_EXAMPLES,
        maxRecordBytes: recordOptions.maxRecordBytes,
      });
    let builder = newBuilder();
    const limit = scanLimit(source.name, resolved.maxDecodedBytes);
    // Sub-span CRC-32s of the chunks, by their offsets (formats with `passSubCrcs`).
    const subCrcs = new Map<number, Uint8Array>();
    const onChunk: OnChunk = async (chunk, whole) => {
      const analysis = chunk.step === undefined ? undefined : analyzeStep.result(chunk.step);
      if (analysis?.subCrcs !== undefined) subCrcs.set(chunk.offset, analysis.subCrcs);
      // A chunk whose bytes stayed in its worker comes as the edges the join reads, unless it needs them all.
      let bytes: Uint8Array | ChunkEdges = analysis?.edges === undefined || chunk.bytes.length > 0 ? chunk.bytes : analysis.edges;
      if (!(bytes instanceof Uint8Array) && 'head' in bytes && builder.needsWhole()) bytes = await whole();
      if (bytes instanceof Uint8Array && bytes.length === 0 && analysis !== undefined && analysis.last >= 0) throw new Error('internal: a chunk with records came without its bytes');
      const end = chunk.offset + (bytes instanceof Uint8Array ? bytes.length : 'whole' in bytes ? bytes.whole.length : bytes.length);
      limit(end, chunk.compressedDone);
      builder.addChunk(chunk.offset, bytes, analysis);
      options.onProgress?.({ bytesDone: chunk.compressedDone, bytesTotal: source.size, decodedBytes: end });
    };
    // Where the index goes is found while the pass runs, not after it.
    const place = places === undefined || print === undefined ? undefined : placeEarly(places);
    // Chunks stay in their workers (only their edges come back) unless a user time function reads every record here.
    const edges = options.time === undefined;
    const passOptions = { ...resolved, runner, signal: options.signal, onWarning: options.onWarning, edges };
    const scanned = units === undefined;
    units = await runPass(source, format, units, passOptions, onChunk, spec, layout.begin, first);
    const readerChunks = chunkLayout(units, resolved.pieces);
    let built: BuiltRecords | undefined;
    const otherChunks = scanned && !sameStarts(builder.starts, readerChunks);
    if (otherChunks && piecesKnown(units, readerChunks)) {
      // A scan that learnt the units while decoding (zstd frames that do not say their size, cut into 1 MiB
      // pieces as they are decoded) cut the file otherwise than the reader's chunks, which the record offsets
      // must be relative to. The reader's chunks are whole frames, or for a frame over bigUnitBytes pieces of
      // pieceBytes from its start: each starts where a piece of the pass does (the scan cuts a frame at each
      // pieceBytes too), and the records are re-based onto them (see finishOn). A frame read in pieces
      // needs the CRC32s of its pieces (the index keeps them, or every later session's first read in the frame
      // decodes all of it to verify it): the scan recorded them from the bytes it decoded (Discovery.pieceCrcs).
      // When they are not all known (a frame a worker decoded whole: one that says its size, under 64 MiB, over
      // a smaller bigUnitBytes) or the records cannot be re-based (a record offset past 32 bits, a long tail
      // whose end was not kept): a second pass, over the chunk map now known, which records the CRCs that are
      // missing and checks the others.
      built = builder.finishOn(readerChunks.start.subarray(0, readerChunks.count));
    }
    if (otherChunks && built === undefined) {
      spec = analyzeSpec(recordOptions, layout, subCrcBytes);
      builder = newBuilder();
      const again = await firstChunkBytes(source, format, units, resolved.pieces, runner, besideFirst(units, resolved.parallelism));
      units = await runPass(source, format, units, passOptions, onChunk, spec, layout.begin, again);
    }
    options.onProgress?.({ bytesDone: source.size, bytesTotal: source.size, decodedBytes: units.dStart[units.count] });
    if (subCrcBytes !== undefined) {
      // Those of every unit the pass decoded whole (and so verified): not the pieces of big units.
      const table = units;
      setSubCrcs(table, subCrcBytes, (u) => (isBigUnit(table, u, resolved.pieces.bigUnitBytes) ? undefined : subCrcs.get(table.dStart[u])));
    }
    built ??= builder.finish();
    const scan = built.timeScan;
    // Times that need an order are ordered now, for the file. Those that need none (sorted and all valid: the
    // usual time series) are indexed once joined: the join (offsets too) runs while the file is written.
    const ordered = scan !== undefined && TimeIndex.needsOrder(scan, built.count) ? TimeIndex.build(built.times ?? new Float64Array(0), scan) : undefined;
    const timeSummary = built.timeParts === undefined ? undefined : (ordered?.summary ?? TimeIndex.sortedSummary(built.timeParts));
    const mask = layout.statMask;
    const stats = (built.stats === undefined ? [] : finalizeStats(built.stats, built.statNames ?? layout.columns, built.vocab)).filter((_, c) => mask === undefined || mask[c] === 1);
    const meta: StoredRecordsMeta = {
      pieces: resolved.pieces,
      columns: layout.columns,
      stats,
      count: built.count,
      time: timeReport(recordOptions, layout, timeSummary, built),
    };
    let indexPath: string | undefined;
    let indexBytes: number | undefined;
    // The index file is written from the parts of the offsets and times while they are joined for the index
    // in memory: the join's slices let the file's writes and fsync go on between them.
    const joined = built.join();
    // Awaited below; a failure before that (an upload's) is the one reported.
    joined.catch(() => undefined);
    if (places !== undefined && print !== undefined) {
      const saved = await saveIndex(places, [metaSection(source, places.owner, format, print, recordOptions, { ...meta, stats: storedStats(meta.stats) }), ...unitSections(units), ...recordSections(built, ordered?.order)], options.onWarning, place);
      indexPath = saved?.path;
      indexBytes = saved?.bytes;
      if (upload !== undefined && indexPath !== undefined) await upload.upload(indexPath, options.onWarning);
    }
    await joined;
    const time = ordered ?? (built.times === undefined ? undefined : TimeIndex.build(built.times, scan));
    const status = indexPath === undefined ? 'none' : rebuilding ? 'rebuilt' : 'built';
    const reader = new SeekableReader({ ...readerInit, units, indexPath, indexStatus: status, scannedOnOpen: true });
    const records = new RecordIndex(reader, recordOptions.kind, recordOptions.quoting, built.firstRecord, built.offsets, { bytes: built.tails, offsets: built.tailOffsets, stored: built.tailStored }, {
      indexPath,
      verified: true,
    });
    const report: IndexReport = { records: built.count, status, indexPath, indexBytes, seconds: (performance.now() - started) / 1000, time: meta.time };
    return new IndexedFile(reader, records, time, layout.columns, stats, recordOptions, report);
  } catch (error) {
    first?.decoder?.close();
    await source.close();
    throw error;
  }
}

/**
 * How many chunks after the first a pass decodes meanwhile, so no worker idles while the header is read. A
 * file whose units a scan finds (bzip2) gets one per job slot of the pool (pool.ts concurrentTasksPerWorker):
 * its pass starts with a window read and a magic search before its first decode. A file with a chunk map gets
 * one per other worker: its pass posts decodes at once, which leave their bytes in the workers (these do not).
 */
function besideFirst(units: UnitTable | undefined, parallelism: number): number {
  if (parallelism <= 1) return 0;
  return units === undefined ? 2 * parallelism - 1 : parallelism - 1;
}

/** Whether every piece of the units read in pieces (over `layout.big` bytes) has its CRC32 in the chunk map. */
function piecesKnown(units: UnitTable, layout: ChunkLayout): boolean {
  const crcs = crcsFor(units, layout);
  for (let c = 0; c < layout.count; c++) if (isBigUnit(units, layout.unit[c], layout.big) && (crcs === undefined || crcs.crc[c] < 0)) return false;
  return true;
}

/** Whether the chunks a pass met start where the reader's chunks do. */
function sameStarts(starts: readonly number[], layout: { count: number; start: Float64Array }): boolean {
  return starts.length === layout.count && starts.every((at, c) => at === layout.start[c]);
}

/** The pass's consumer of each chunk; `whole` decodes it again when only its edges came and the join needs all of it. */
type OnChunk = (chunk: ScannedChunk, whole: () => Promise<Uint8Array>) => Promise<void>;

/** Indexing passes started in this process: each pass's number tells its chunks apart (AnalyzeSpec.pass). */
let passes = 0;

function analyzeSpec(options: ResolvedRecordOptions, layout: FileLayout, subCrcBytes: number | undefined): AnalyzeSpec {
  return {
    subCrcBytes,
    pass: ++passes,
    kind: options.kind,
    delimiter: options.delimiter.charCodeAt(0),
    begin: 0,
    inQuote: false,
    statColumns: layout.statColumns,
    statMask: layout.statMask,
    statOnly: layout.statOnly,
    time: layout.timeField === undefined || layout.timeFormat === undefined ? undefined : { field: layout.timeField, format: layout.timeFormat, zone: options.timeZone },
    maxBad: MAX_BAD_EXAMPLES,
    quoting: options.quoting,
    maxRecordBytes: options.maxRecordBytes,
  };
}

/** The one pass: decode every chunk (discovering the units by a scan when there is no chunk map) and analyse it. */
async function runPass(
  source: ByteSource,
  format: Format,
  units: UnitTable | undefined,
  options: ReturnType<typeof resolveReaderOptions> & { runner: ReturnType<typeof runnerFor>; signal?: AbortSignal | undefined; onWarning?: ((m: string) => void) | undefined; edges: boolean },
  onChunk: OnChunk,
  spec: AnalyzeSpec,
  begin: number,
  first: FirstChunk,
): Promise<UnitTable> {
  const stepFor = (offset: number): StepCall => analyzeStep.call(offset === 0 ? { ...spec, begin } : spec);
  const lookahead = scanLookahead(options.parallelism, units === undefined ? 0 : Math.min(largestUnit(units), options.pieces.bigUnitBytes));
  const module = formatOf(format);
  // With `edges` the jobs keep their chunks and return the edges the join reads (AnalyzeSpec.edges): for a
  // file with a chunk map, and for a discovery that can do without the bytes (bzip2's needs only the blocks'
  // ends, CRCs and lengths). A chunk that starts inside a quoted field is decoded again whole, and the rest
  // of the pass then keeps whole chunks: a file whose quoted fields span lines would meet that often.
  let edges = options.edges && (units !== undefined || module.scanLeavesBytes === true);
  const edgesFor = (offset: number): StepCall => (edges ? analyzeStep.call({ ...(offset === 0 ? { ...spec, begin } : spec), edges: true }) : stepFor(offset));
  const keepBytes = (): boolean => !edges;
  const consume = (chunk: ScannedChunk): Promise<void> =>
    onChunk(chunk, async () => {
      if (chunk.whole === undefined) throw new Error('internal: a chunk came without its bytes and cannot be decoded again');
      edges = false;
      return chunk.whole();
    });
  if (units === undefined) {
    if (module.scan === undefined) throw new Error(`internal: no chunk map and no scan for ${format}`);
    const discovery = module.scan(source, {
      runner: options.runner,
      lookahead,
      signal: options.signal,
      onWarning: options.onWarning,
      stepFor: edgesFor,
      keepBytes,
      unitBytes: options.gzipSpacingBytes,
      maxDecodedBytes: options.maxDecodedBytes,
      head: first.head,
      pieces: options.pieces,
    });
    for await (const chunk of discovery.chunks()) await consume(chunk);
    return scannedUnits(discovery, options.pieces);
  }
  // 'lazy': the pass fails as a whole when a block fails its check, so it need not verify a big block
  // before passing through it; doing so records the CRC32s of its pieces, saved with the chunk map. The
  // header read's decoder when there is one: a big unit's stream there stands after its first piece.
  const decoder = first.decoder ?? new ChunkDecoder(source, units, chunkLayout(units, options.pieces), options.runner, { verify: 'lazy' });
  try {
    // Chunk 0 was decoded for the CSV header, the next ones meanwhile: only the step runs on them (each is
    // checked as the pass would: a whole unit by its decode, a piece by its unit's stream going on).
    for await (const chunk of scanKnown(decoder, { lookahead, signal: options.signal, stepFor: edgesFor, decoded: first.decoded, keepBytes })) await consume(chunk);
  } finally {
    decoder.close();
  }
  return units;
}

function timeReport(options: ResolvedRecordOptions, layout: FileLayout, summary: TimeSummary | undefined, built: BuiltRecords): IndexReport['time'] {
  if (summary === undefined) return undefined;
  const format: ResolvedTimeFormat | 'function' = options.timeFunction !== undefined ? 'function' : (layout.timeFormat ?? 'iso');
  return {
    column: options.timeColumn,
    format,
    zone: options.timeZone,
    sorted: summary.sorted,
    first: summary.first,
    last: summary.last,
    unparsable: built.badCount,
    unparsableExamples: built.bad,
  };
}

/** Refuses a loaded index with unparsable timestamps when `strict` is asked for. */
async function checkStrict(file: IndexedFile, options: ResolvedRecordOptions, name: string): Promise<IndexedFile> {
  const time = file.report.time;
  if (!options.strict || time === undefined || time.unparsable === 0) return file;
  const example = time.unparsableExamples[0];
  await file.close();
  throw new SeekdataError('PARSE_ERROR', `${name}: record ${example?.record ?? '?'}: unparsable timestamp ${JSON.stringify(example?.text ?? '')} (strict)`, {
    file: name,
    record: example?.record,
  });
}

/**
 * Why no fresh record layer could be used: a fresh index built with other options (INDEX_MISMATCH), or
 * only stale / damaged ones (STALE_INDEX / CORRUPT_INDEX). Rejects with that error when `ifStale` is
 * 'error', else warns with what is rebuilt and how. Returns whether this is a rebuild.
 */
function whyRebuild(
  found: FoundIndexes,
  mismatch: { path: string; why: string } | undefined,
  chosen: ChosenOptions,
  ifStale: 'rebuild' | 'error',
  onWarning: ((message: string) => void) | undefined,
): boolean {
  const how = `rebuilding the record index with ${describeRecordOptions(chosen.options)}${chosen.inheritedFrom === undefined ? '' : ` (options not given kept from ${chosen.inheritedFrom})`}`;
  if (mismatch !== undefined) {
    const error = new SeekdataError('INDEX_MISMATCH', `${mismatch.path}: index was built with other options (${mismatch.why})`, { file: mismatch.path });
    if (ifStale === 'error') throw error;
    onWarning?.(`${error.message}; ${how}`);
    return true;
  }
  const problem = found.fresh.length === 0 ? found.problems[0] : undefined;
  if (problem === undefined) return false;
  if (ifStale === 'error') throw problem.error;
  onWarning?.(`${problem.error.message}; ${how}`);
  return true;
}

/**
 * The record options the data set's index holds (fresh, stale, or damaged with intact metadata), if any,
 * so the CLI can reopen a file the way `seekdata index` indexed it without repeating the flags.
 */
export async function storedRecordOptions(input: Input, options: ReaderOptions = {}): Promise<RecordOptions | undefined> {
  const source = await openSource(input, sourceOptions(options));
  try {
    const places = await indexPlaces(source, options.index);
    if (places === undefined) return undefined;
    const found = await findIndexes(places.read, await fingerprint(source), await sourceFormat(source), source.name, undefined, places);
    try {
      const state = found.recordOptions();
      if (state.state !== 'known') return undefined;
      const o = chooseRecordOptions({}, found, source.name).options;
      const out: RecordOptions = { records: o.kind, header: o.header, delimiter: o.delimiter, timeFormat: o.timeFormat, stats: o.stats };
      if (o.timeColumn !== undefined) out.timeColumn = o.timeColumn;
      if (o.timeZone !== undefined) out.timeZone = o.timeZone;
      // Indexes written before these options existed lack them.
      if (o.quoting !== undefined) out.quoting = o.quoting;
      if (o.maxRecordBytes !== undefined) out.maxRecordBytes = o.maxRecordBytes;
      return out;
    } catch {
      return undefined;
    } finally {
      await found.close();
    }
  } finally {
    await source.close();
  }
}
