/**
 * Where a data file's index lives, and loading and saving its chunk map there: the index layer owns
 * persistence (the readers layer only discovers chunk maps and reads through them).
 */
import type { Format } from '../readers/formats.js';
import type { UnitTable } from '../readers/units.js';
import { FileSource } from '../sources/file-source.js';
import { HttpSource } from '../sources/http-source.js';
import { S3Source } from '../sources/s3-source.js';
import type { S3ObjectOptions } from '../sources/s3-objects.js';
import { remoteIndexOf, type RemoteIndex } from './remote-index.js';
import type { ByteSource } from '../sources/source.js';
import type { Fingerprint } from './fingerprint.js';
import { writeIndexFile, type SectionValue } from './index-file.js';
import { indexPlacesFor, type IndexPlaces } from './location.js';
import { type FoundIndexes, type FreshCandidate, type IndexMeta } from './store.js';
import { unitsFromSections } from './unit-sections.js';
import { verifyUnits } from './verify-units.js';

/**
 * Where this source's index is read from and written to, or undefined when it has none. An `s3://` object
 * also has `remote`: the index beside it in the store (`<key>.sdx`), reached with `s3` options.
 */
export async function indexPlaces(
  source: ByteSource,
  option: string | false | undefined,
  onWarning?: (message: string) => void,
  s3?: S3ObjectOptions,
): Promise<(IndexPlaces & { remote?: RemoteIndex | undefined }) | undefined> {
  if (option === false) return undefined;
  const isS3 = source instanceof S3Source;
  const isUrl = source instanceof HttpSource || isS3;
  const remote = isS3 ? remoteIndexOf(source.name, s3 ?? {}) : undefined;
  if (typeof option === 'string') {
    const places = await indexPlacesFor(source.name, isUrl, option, onWarning);
    return places === undefined ? undefined : { ...places, remote };
  }
  if (!isUrl && !(source instanceof FileSource)) return undefined;
  const places = await indexPlacesFor(source.name, isUrl, undefined, onWarning);
  return places === undefined ? undefined : { ...places, remote };
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
