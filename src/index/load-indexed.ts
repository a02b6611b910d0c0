/**
 * The loading half of `openIndexed`: which record options to open with (the given ones over those
 * stored with the data set's index), and the record layer of a fresh index, checked before use. A fresh
 * index whose sections fail their checks is demoted to a damaged one, so the caller rebuilds it with the
 * options its (separately checksummed) metadata still holds.
 */
import { isSeekdataError, SeekdataError } from '../errors.js';
import type { Format } from '../readers/formats.js';
import { loadUnits } from './persist.js';
import { SeekableReader, type ReaderInit } from '../readers/reader.js';
import type { UnitTable } from '../readers/units.js';
import type { PieceOptions } from '../readers/chunks.js';
import type { ByteSource } from '../sources/source.js';
import { IndexedFile, type IndexReport } from './indexed-file.js';
import { indexesFromSections, parseRecordsMeta, RECORD_SECTIONS } from './record-sections.js';
import { inheritRecordOptions, parseStoredOptions, unknownOptionsError, type InheritableRecordOptions } from './records/inherit.js';
import { optionsDifference, resolveRecordOptions, type ResolvedRecordOptions } from './records/options.js';
import type { FoundIndexes } from './store.js';

export interface ChosenOptions {
  options: ResolvedRecordOptions;
  /** Identity of the time function the stored index was built with, when the caller gave none. */
  storedTimeFunction: string | undefined;
  /** The index the options not given were taken from. */
  inheritedFrom: string | undefined;
}

/** The record options to open with: given ones over the stored ones; rejects when those are needed but unreadable. */
export function chooseRecordOptions(given: InheritableRecordOptions, found: FoundIndexes | undefined, dataName: string): ChosenOptions {
  const state = found?.recordOptions() ?? { state: 'none' as const };
  let stored: ResolvedRecordOptions | undefined;
  if (state.state === 'known') {
    stored = parseStoredOptions(state.options);
    if (stored === undefined && given.records === undefined) throw unknownOptionsError(state.path, 'they fail their checks', dataName);
  } else if (state.state === 'unknown' && given.records === undefined) {
    throw unknownOptionsError(state.path, state.why, dataName);
  }
  const inherited = inheritRecordOptions(given, stored);
  const options = resolveRecordOptions(inherited.options);
  if (inherited.storedTimeFunction !== undefined) options.timeFunction = inherited.storedTimeFunction;
  return { options, storedTimeFunction: inherited.storedTimeFunction, inheritedFrom: inherited.inherited && state.state === 'known' ? state.path : undefined };
}

export type FreshOutcome =
  | { file: IndexedFile }
  | {
      file: undefined;
      /** A checked chunk map from a fresh index, to build the record layer on. */
      units: UnitTable | undefined;
      /** A fresh index built with other options, and how they differ. */
      mismatch: { path: string; why: string } | undefined;
    };

/** Opens the record layer of the first fresh index built with `options`, checking everything it loads. */
export async function loadFromFresh(
  found: FoundIndexes,
  source: ByteSource,
  format: Format,
  options: ResolvedRecordOptions,
  pieces: PieceOptions,
  readerInit: Omit<ReaderInit, 'units' | 'indexPath' | 'indexStatus' | 'scannedOnOpen'>,
  started: number,
): Promise<FreshOutcome> {
  let units: UnitTable | undefined;
  let mismatch: { path: string; why: string } | undefined;
  for (const candidate of [...found.fresh]) {
    const { path, meta } = candidate;
    try {
      const candidateUnits = await loadUnits(candidate, source, format);
      units ??= candidateUnits;
      if (meta.records === undefined) continue;
      const recordsMeta = parseRecordsMeta(meta.records, path);
      const stored = parseStoredOptions(meta.recordOptions);
      const why =
        stored === undefined
          ? 'its record options fail their checks'
          : (optionsDifference(stored, options) ??
            (recordsMeta.pieces.bigUnitBytes !== pieces.bigUnitBytes || recordsMeta.pieces.pieceBytes !== pieces.pieceBytes ? 'bigUnitBytes/pieceBytes differ' : undefined));
      if (why !== undefined) {
        mismatch ??= { path, why };
        continue;
      }
      const reader = new SeekableReader({ ...readerInit, units: candidateUnits, indexPath: path, indexStatus: 'loaded', scannedOnOpen: false });
      const sections = await candidate.file.load(RECORD_SECTIONS);
      const { records, time } = indexesFromSections(reader, sections, recordsMeta, options, path);
      const report: IndexReport = {
        records: recordsMeta.count,
        status: 'loaded',
        indexPath: path,
        indexBytes: candidate.file.size,
        seconds: (performance.now() - started) / 1000,
        time: recordsMeta.time,
      };
      return { file: new IndexedFile(reader, records, time, recordsMeta.columns, recordsMeta.stats, options, report) };
    } catch (error) {
      if (!isSeekdataError(error, 'CORRUPT_INDEX') || !(error instanceof SeekdataError)) throw error;
      await found.demote(candidate, error);
    }
  }
  return { file: undefined, units, mismatch };
}
