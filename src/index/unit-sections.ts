/**
 * The chunk map as sections of the index file: the common columns (`units.dStart`, `units.cStart`,
 * `units.cEnd`, `units.param`, `units.kind`), the CRC32s of big units' pieces (`units.pieceCrc`), and a
 * format's extra data (`UnitTable.extra`): `units.col.<name>` (one f64 per unit), `units.blob.<name>`
 * (u8) with `units.blobAt.<name>` (f64 offsets, count + 1), and `units.facts` (JSON). Loading checks the
 * structure (lengths, ascending offsets, the extras the format needs); the format checks the meaning.
 */
import { SeekdataError } from '../errors.js';
import { formatOf, type Format } from '../readers/formats.js';
import type { FormatModule } from '../readers/format.js';
import type { PieceCrcTable, UnitBlob, UnitExtra, UnitTable } from '../readers/units.js';
import type { SectionValue } from './index-file.js';

const COLUMN = 'units.col.';
const BLOB = 'units.blob.';
const BLOB_AT = 'units.blobAt.';
const FACTS = 'units.facts';

function extraSections(extra: UnitExtra | undefined): Array<[string, SectionValue]> {
  if (extra === undefined) return [];
  const out: Array<[string, SectionValue]> = [];
  for (const [name, column] of Object.entries(extra.columns ?? {})) out.push([COLUMN + name, column]);
  for (const [name, blob] of Object.entries(extra.blobs ?? {})) out.push([BLOB + name, blob.bytes], [BLOB_AT + name, blob.offsets]);
  if (extra.facts !== undefined && Object.keys(extra.facts).length > 0) out.push([FACTS, { json: extra.facts }]);
  return out;
}

function extraFromSections(
  sections: Map<string, SectionValue>,
  count: number,
  needed: FormatModule['extra'],
  fail: (what: string) => SeekdataError,
): UnitExtra | undefined {
  const columns: Record<string, Float64Array> = {};
  const blobs: Record<string, UnitBlob> = {};
  let facts: Record<string, string | number | boolean> | undefined;
  for (const [name, value] of sections) {
    if (name.startsWith(COLUMN)) {
      if (!(value instanceof Float64Array) || value.length !== count) throw fail(`section ${name} damaged (not ${count} numbers)`);
      columns[name.slice(COLUMN.length)] = value;
    } else if (name.startsWith(BLOB)) {
      const key = name.slice(BLOB.length);
      const offsets = sections.get(BLOB_AT + key);
      if (!(value instanceof Uint8Array) || !(offsets instanceof Float64Array) || offsets.length !== count + 1 || offsets[0] !== 0 || offsets[count] !== value.length) {
        throw fail(`sections ${name} / ${BLOB_AT}${key} damaged`);
      }
      for (let i = 0; i < count; i++) if (!(offsets[i + 1] >= offsets[i]) || !Number.isSafeInteger(offsets[i + 1])) throw fail(`section ${BLOB_AT}${key} not ascending at unit ${i}`);
      blobs[key] = { bytes: value, offsets };
    } else if (name === FACTS) {
      const json = 'json' in value ? value.json : undefined;
      if (typeof json !== 'object' || json === null || Array.isArray(json)) throw fail(`section ${FACTS} is not an object`);
      facts = {};
      for (const [k, v] of Object.entries(json)) {
        if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw fail(`section ${FACTS}: ${k} is not a plain value`);
        facts[k] = v;
      }
    }
  }
  for (const name of needed?.columns ?? []) if (columns[name] === undefined) throw fail(`section ${COLUMN}${name} missing`);
  for (const name of needed?.blobs ?? []) if (blobs[name] === undefined) throw fail(`section ${BLOB}${name} missing`);
  if (Object.keys(columns).length === 0 && Object.keys(blobs).length === 0 && facts === undefined) return undefined;
  return { columns, blobs, facts };
}

export function unitSections(units: UnitTable): Array<[string, SectionValue]> {
  const out: Array<[string, SectionValue]> = [
    ['units.dStart', units.dStart],
    ['units.cStart', units.cStart],
    ['units.cEnd', units.cEnd],
    ['units.param', units.param],
    ['units.kind', units.kind],
  ];
  out.push(...extraSections(units.extra));
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
  const extra = extraFromSections(sections, count, formatOf(format).extra, fail);
  if (extra !== undefined) units.extra = extra;
  if (units.cStart.length !== count || units.cEnd.length !== count || units.param.length !== count || kind.length !== count) {
    throw fail('chunk map sections disagree in length');
  }
  if (dStart[0] !== 0) throw fail('chunk map does not start at offset 0');
  for (let i = 0; i < count; i++) {
    if (!(dStart[i + 1] > dStart[i]) || !Number.isSafeInteger(dStart[i + 1])) throw fail(`chunk map not strictly ascending at unit ${i}`);
  }
  return units;
}
