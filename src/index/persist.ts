/**
 * Where a data file's index lives, and loading and saving its chunk map there: the index layer owns
 * persistence (the readers layer only discovers chunk maps and reads through them).
 */
import type { Format } from '../readers/formats.js';
import type { UnitTable } from '../readers/units.js';
import { FileSource } from '../sources/file-source.js';
import { HttpSource } from '../sources/http-source.js';
import type { ByteSource } from '../sources/source.js';
import type { Fingerprint } from './fingerprint.js';
import { writeIndexFile, type SectionValue } from './index-file.js';
import { indexPlacesFor, type IndexPlaces } from './location.js';
import { type FoundIndexes, type FreshCandidate, type IndexMeta } from './store.js';
import { unitsFromSections } from './unit-sections.js';
import { verifyUnits } from './verify-units.js';

/** Where this source's index is read from and written to, or undefined when it has none. */
export async function indexPlaces(source: ByteSource, option: string | false | undefined, onWarning?: (message: string) => void): Promise<IndexPlaces | undefined> {
  if (option === false) return undefined;
  const isUrl = source instanceof HttpSource;
  if (typeof option === 'string') return indexPlacesFor(source.name, isUrl, option, onWarning);
  if (!isUrl && !(source instanceof FileSource)) return undefined;
  return indexPlacesFor(source.name, isUrl, undefined, onWarning);
}

/** The chunk map of a fresh index, checked against the data (see verify-units.ts). */
export async function loadUnits(candidate: FreshCandidate, source: ByteSource, format: Format): Promise<UnitTable> {
  const units = unitsFromSections(await candidate.file.loadPrefix('units.'), format, candidate.path);
  await verifyUnits(units, source, candidate.path);
  return units;
}

/** What a rebuilt index keeps of the record options of the indexes it replaces. */
export function carriedRecordOptions(found: FoundIndexes): unknown {
  const state = found.recordOptions();
  return state.state === 'known' ? state.options : state.state === 'unknown' ? 'unknown' : undefined;
}

/** Saves an index; a failure to save is a warning, not an error (the data is still readable). */
export async function saveIndex(
  places: { write: () => Promise<string> },
  sections: Array<[string, SectionValue]>,
  onWarning: ((message: string) => void) | undefined,
): Promise<{ path: string; bytes: number } | undefined> {
  let path = '(unknown)';
  try {
    path = await places.write();
    const bytes = await writeIndexFile(path, new Map(sections));
    return { path, bytes };
  } catch (error) {
    onWarning?.(`could not save index to ${path}: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

/** The `meta` section: format, fingerprint, and the data set's record options (and record layer). */
export function metaSection(source: ByteSource, format: Format, print: Fingerprint, recordOptions?: unknown, records?: unknown): [string, SectionValue] {
  const meta: IndexMeta = { format, source: source.name, fingerprint: print, createdAt: new Date().toISOString() };
  if (recordOptions !== undefined) meta.recordOptions = recordOptions;
  if (records !== undefined) meta.records = records;
  return ['meta', { json: meta }];
}
