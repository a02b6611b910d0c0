/**
 * Opening a data file for random access: resolve the source, detect the format, load a fresh index (its
 * chunk map checked against the data) or discover the chunk map (a full parallel scan for bzip2, footers
 * and indexes only for xz, arithmetic for plain files), and save the index for next time. Its options
 * (ReaderOptions, their defaults and checks) are in reader-options.ts.
 */
import { isSeekdataError } from '../errors.js';
import { checkBoolean, checkKnownKeys } from '../options.js';
import { READER_OPTION_KEYS } from '../option-keys.js';
import { discoverUnits } from '../readers/discover.js';
import { openSource, type Input } from '../readers/input.js';
import { checkKnownSize } from '../readers/limit.js';
import type { UnitTable } from '../readers/units.js';
import { SeekableReader, type IndexStatus } from '../readers/reader.js';
import { sourceFormat, warnOnOpen } from '../readers/source-format.js';
import { fingerprint, type Fingerprint } from './fingerprint.js';
import { carriedRecordOptions, checkIndexPlace, findPlacedIndexes, indexPlaces, loadUnits, metaSection, saveIndex } from './persist.js';
import { readerSettings, resolveReaderOptions, runnerFor, sourceOptions, type ReaderOptions } from './reader-options.js';
import { recordUnitChecks, unitsNeedingRecording } from './record-checks.js';
import { unitSections } from './unit-sections.js';

export type { Progress } from '../readers/discover.js';
export type { Input } from '../readers/input.js';

/** Opens a data file for random access. */
export async function openReader(input: Input, options: ReaderOptions = {}): Promise<SeekableReader> {
  checkKnownKeys(options, READER_OPTION_KEYS, 'openReader');
  const resolved = resolveReaderOptions(options);
  const source = await openSource(input, sourceOptions(options));
  try {
    const format = await sourceFormat(source);
    const places = await indexPlaces(source, options.index, options.onWarning, sourceOptions(options));
    const upload = checkBoolean('indexUpload', options.indexUpload ?? false) ? places?.remote : undefined;
    const runner = runnerFor(resolved.parallelism, options.pool);
    const init = readerSettings(source, runner, resolved);
    let print: Fingerprint | undefined;
    let rebuilding = false;
    let carried: unknown;
    /** A fresh index's chunk map that lacks recorded checks (with `recordChecks`): completed and saved again. */
    let incomplete: UnitTable | undefined;
    if (places !== undefined) {
      print = await fingerprint(source);
      // No fresh index here: the one beside the object in its store (s3://…/<key>.sdx), when it has one.
      const { found, fetched } = await findPlacedIndexes(places, print, format, source.name, options.onWarning, resolved.rebuild);
      try {
        if (!resolved.rebuild) {
          for (const candidate of [...found.fresh]) {
            try {
              const units = await loadUnits(candidate, source, format);
              if (resolved.recordChecks && unitsNeedingRecording(units) > 0) {
                incomplete = units;
                break;
              }
              warnOnOpen(units, source.name, options.onWarning);
              if (upload !== undefined && !fetched) await upload.upload(candidate.path, options.onWarning);
              return new SeekableReader({ ...init, units, indexPath: candidate.path, indexStatus: 'loaded', damage: undefined, scannedOnOpen: false });
            } catch (error) {
              if (!isSeekdataError(error, 'CORRUPT_INDEX')) throw error;
              await found.demote(candidate, error);
            }
          }
        }
        // Nothing built that could not be kept: another data file's index at the `index` path is an error.
        await checkIndexPlace(places);
        const problem = found.problems[0];
        carried = carriedRecordOptions(found);
        rebuilding = resolved.rebuild || problem !== undefined;
        if (problem !== undefined && !resolved.rebuild) {
          if (resolved.ifStale === 'error') throw problem.error;
          const kept = carried === 'unknown' ? ' (its record options cannot be read: record commands will ask for them)' : carried === undefined ? '' : ' (keeping its record options)';
          options.onWarning?.(`${problem.error.message}; rebuilding the chunk map${kept}`);
        }
      } finally {
        await found.close();
      }
    }
    const discovered = incomplete !== undefined ? { units: incomplete, damage: undefined, scanned: false, handedOut: 0, warned: true } : await discoverUnits(source, format, {
      runner,
      parallelism: resolved.parallelism,
      allowDamage: resolved.allowDamage,
      signal: options.signal,
      onProgress: options.onProgress,
      onWarning: options.onWarning,
      onChunk: options.onScanChunk,
      unitBytes: resolved.gzipSpacingBytes,
      pieces: resolved.pieces,
      maxDecodedBytes: resolved.maxDecodedBytes,
    });
    const { units, damage, scanned, handedOut, warned } = discovered;
    let indexPath: string | undefined;
    const saving = places !== undefined && print !== undefined && damage === undefined;
    if (saving && resolved.recordChecks && unitsNeedingRecording(units) > 0) {
      // A loaded chunk map has not met the limit yet (the reader's constructor checks it): before decoding.
      checkKnownSize(units, source.name, resolved.maxDecodedBytes, 'its chunk map');
      await recordUnitChecks(source, units, runner, { pieces: resolved.pieces, parallelism: resolved.parallelism, signal: options.signal });
    } else if (warned !== true) {
      warnOnOpen(units, source.name, options.onWarning);
    }
    if (places !== undefined && print !== undefined && damage === undefined) {
      const saved = await saveIndex(places, [metaSection(source, places.owner, format, print, carried), ...unitSections(units)], options.onWarning);
      indexPath = saved?.path;
      if (upload !== undefined && indexPath !== undefined) await upload.upload(indexPath, options.onWarning);
    }
    const indexStatus: IndexStatus = indexPath === undefined ? 'none' : rebuilding ? 'rebuilt' : 'built';
    return new SeekableReader({ ...init, units, indexPath, indexStatus, damage, scannedOnOpen: scanned, scannedBytes: handedOut });
  } catch (error) {
    await source.close();
    throw error;
  }
}
