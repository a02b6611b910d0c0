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
import { writeIndexFile, type SectionValue, type WritableSection } from './index-file.js';
import { indexPlacesFor, type IndexPlaces } from './location.js';
import { ownerOf, type IndexOwner } from './ownership.js';
import { afterWhere, isSeekdataError } from '../errors.js';
import { findIndexes, type FoundIndexes, type FreshCandidate, type IndexMeta } from './store.js';
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
): Promise<SourceIndexPlaces | undefined> {
  if (option === false) return undefined;
  const isS3 = source instanceof S3Source;
  const isUrl = source instanceof HttpSource || isS3;
  const remote = isS3 ? remoteIndexOf(source.name, s3 ?? {}) : undefined;
  if (typeof option === 'string') {
    const places = await indexPlacesFor(source.name, isUrl, option, onWarning, await ownerOf(source));
    return places === undefined ? undefined : { ...places, remote };
  }
  if (!isUrl && !(source instanceof FileSource)) return undefined;
  const places = await indexPlacesFor(source.name, isUrl, undefined, onWarning, await ownerOf(source));
  return places === undefined ? undefined : { ...places, remote };
}

/** A source's index places (`indexPlaces`), with the index beside an `s3://` object. */
export type SourceIndexPlaces = IndexPlaces & { remote?: RemoteIndex | undefined };

/**
 * The indexes found at `places` (store.ts findIndexes). When none is fresh and the data is an object with an
 * index beside it in its store, that one is fetched into the local place first (not with `rebuild`);
 * `fetched` says it was.
 */
export async function findPlacedIndexes(
  places: SourceIndexPlaces,
  actual: Fingerprint,
  format: Format,
  dataName: string,
  onWarning: ((message: string) => void) | undefined,
  rebuild: boolean,
): Promise<{ found: FoundIndexes; fetched: boolean }> {
  const found = await findIndexes(places.read, actual, format, dataName, onWarning, places);
  if (found.fresh.length > 0 || places.remote === undefined || rebuild) return { found, fetched: false };
  if (!(await places.remote.fetch(await places.write(), onWarning))) return { found, fetched: false };
  await found.close();
  return { found: await findIndexes(places.read, actual, format, dataName, onWarning, places), fetched: true };
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

/**
 * Before an index is built: rejects with INDEX_CONFLICT when the place it would be saved to holds another
 * data file's index or a file that is no index (an `index` option naming such a file), so that nothing is
 * built that cannot be kept, and nothing is overwritten. Other problems of the place are left to
 * `saveIndex` (a warning: the index is optional).
 */
export async function checkIndexPlace(places: Pick<IndexPlaces, 'write'> | undefined): Promise<void> {
  if (places === undefined) return;
  try {
    await places.write();
  } catch (error) {
    if (isSeekdataError(error, 'INDEX_CONFLICT')) throw error;
  }
}

/**
 * Starts finding where the index will be written (`places.write()`: the place's checks, the cache
 * directory), so that this runs while the indexing pass decodes instead of after it; `saveIndex` takes
 * the promise as its first attempt's place (its rejection is reported there, as `saveIndex` would). The
 * place is claimed again just before the file goes into place.
 */
export function placeEarly(places: Pick<IndexPlaces, 'write'>): Promise<string> {
  const place = places.write();
  // Handled by `saveIndex`; when the pass fails first, nobody asks.
  place.catch(() => undefined);
  return place;
}

/**
 * Saves an index; a failure to save is a warning, not an error (the data is still readable). The place is
 * claimed again just before the file goes into place: when another process took it meanwhile (another data
 * file's index in an `index` directory), the next place is tried once. `early`: the place as found by
 * `placeEarly` (else it is found now).
 */
export async function saveIndex(
  places: Pick<IndexPlaces, 'write' | 'claim'>,
  sections: Array<[string, WritableSection]>,
  onWarning: ((message: string) => void) | undefined,
  early?: Promise<string>,
): Promise<{ path: string; bytes: number } | undefined> {
  let path = '(unknown)';
  for (let attempt = 0; ; attempt++) {
    try {
      path = await (attempt === 0 && early !== undefined ? early : places.write());
      const at = path;
      const bytes = await writeIndexFile(at, new Map(sections), { claim: () => places.claim(at) });
      return { path, bytes };
    } catch (error) {
      if (attempt === 0 && isSeekdataError(error, 'INDEX_CONFLICT')) continue;
      const message = error instanceof Error ? error.message : String(error);
      // A message that starts by naming the same path does not name it twice.
      onWarning?.(`could not save index to ${path}: ${afterWhere(message, path)}`);
      return undefined;
    }
  }
}

/** The `meta` section: format, the source and its owner, fingerprint, and the data set's record options (and record layer). */
export function metaSection(source: ByteSource, owner: IndexOwner, format: Format, print: Fingerprint, recordOptions?: unknown, records?: unknown): [string, SectionValue] {
  const meta: IndexMeta = { format, source: source.name, owner: owner.id, fingerprint: print, createdAt: new Date().toISOString() };
  if (recordOptions !== undefined) meta.recordOptions = recordOptions;
  if (records !== undefined) meta.records = records;
  return ['meta', { json: meta }];
}
