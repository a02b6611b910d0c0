/**
 * Loading and saving a data file's index: the metadata (format, fingerprint, build options) and the chunk
 * map as sections of the index file, plus whatever sections later layers add (records, timestamps).
 */
import { SeekdataError } from '../errors.js';
import type { Format } from '../readers/detect.js';
import type { PieceCrcTable, UnitTable } from '../readers/units.js';
import { fingerprintDifference, type Fingerprint } from './fingerprint.js';
import { readIndexFile, type SectionValue } from './index-file.js';

export interface IndexMeta {
  format: Format;
  source: string;
  fingerprint: Fingerprint;
  createdAt: string;
  /** Build options of the record layer, when the index has one. */
  records?: unknown;
}

export type LoadOutcome =
  | { status: 'fresh'; path: string; meta: IndexMeta; sections: Map<string, SectionValue>; bytes: number }
  | { status: 'missing' }
  | { status: 'stale' | 'corrupt'; path: string; error: SeekdataError };

export function unitSections(units: UnitTable): Array<[string, SectionValue]> {
  const out: Array<[string, SectionValue]> = [
    ['units.dStart', units.dStart],
    ['units.cStart', units.cStart],
    ['units.cEnd', units.cEnd],
    ['units.param', units.param],
    ['units.kind', units.kind],
  ];
  // Optional: [bigUnitBytes, pieceBytes, CRC32 of each chunk of that layout or -1], when any is known.
  const pieces = units.pieceCrc;
  if (pieces !== undefined && pieces.crc.some((c) => c >= 0)) {
    const section = new Float64Array(2 + pieces.crc.length);
    section[0] = pieces.bigUnitBytes;
    section[1] = pieces.pieceBytes;
    section.set(pieces.crc, 2);
    out.push(['units.pieceCrc', section]);
  }
  return out;
}

function pieceCrcFromSection(value: SectionValue | undefined, fail: (what: string) => SeekdataError): PieceCrcTable | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Float64Array) || value.length < 2) throw fail('section units.pieceCrc damaged');
  const crc = value.subarray(2);
  for (const c of crc) if (!(c === -1 || (Number.isInteger(c) && c >= 0 && c <= 0xffffffff))) throw fail('section units.pieceCrc damaged');
  return { bigUnitBytes: value[0], pieceBytes: value[1], crc };
}

export function unitsFromSections(sections: Map<string, SectionValue>, format: Format, path: string): UnitTable {
  const fail = (what: string): SeekdataError => new SeekdataError('CORRUPT_INDEX', `${path}: corrupt index file: ${what}`, { file: path });
  const f64 = (name: string): Float64Array => {
    const v = sections.get(name);
    if (!(v instanceof Float64Array)) throw fail(`section ${name} missing`);
    return v;
  };
  const dStart = f64('units.dStart');
  const count = dStart.length - 1;
  const kind = sections.get('units.kind');
  if (!(kind instanceof Uint8Array) || count < 0) throw fail('section units.kind missing');
  const pieceCrc = pieceCrcFromSection(sections.get('units.pieceCrc'), fail);
  const units: UnitTable = { format, count, dStart, cStart: f64('units.cStart'), cEnd: f64('units.cEnd'), param: f64('units.param'), kind, pieceCrc };
  if (units.cStart.length !== count || units.cEnd.length !== count || units.param.length !== count || kind.length !== count) {
    throw fail('chunk map sections disagree in length');
  }
  for (let i = 0; i < count; i++) if (!(dStart[i + 1] >= dStart[i])) throw fail(`chunk map not ascending at unit ${i}`);
  return units;
}

function isMeta(value: unknown): value is IndexMeta {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Partial<IndexMeta>;
  return typeof m.format === 'string' && typeof m.fingerprint === 'object' && m.fingerprint !== null;
}

/** Looks for an index at each candidate path; checks integrity and that it belongs to the current data. */
export async function loadStoredIndex(paths: string[], actual: Fingerprint, file: string): Promise<LoadOutcome> {
  for (const path of paths) {
    let stored: { sections: Map<string, SectionValue>; bytes: number } | undefined;
    try {
      stored = await readIndexFile(path);
    } catch (error) {
      if (error instanceof SeekdataError && (error.code === 'CORRUPT_INDEX' || error.code === 'STALE_INDEX')) {
        return { status: error.code === 'CORRUPT_INDEX' ? 'corrupt' : 'stale', path, error };
      }
      throw error;
    }
    if (stored === undefined) continue;
    const { sections, bytes } = stored;
    const meta = sections.get('meta');
    if (meta === undefined || !('json' in meta) || !isMeta(meta.json)) {
      return { status: 'corrupt', path, error: new SeekdataError('CORRUPT_INDEX', `${path}: corrupt index file: no metadata`, { file: path }) };
    }
    const difference = fingerprintDifference(meta.json.fingerprint, actual);
    if (difference !== undefined) {
      return {
        status: 'stale',
        path,
        error: new SeekdataError('STALE_INDEX', `${path}: index is stale for ${file}: ${difference}`, { file: path }),
      };
    }
    return { status: 'fresh', path, meta: meta.json, sections, bytes };
  }
  return { status: 'missing' };
}
