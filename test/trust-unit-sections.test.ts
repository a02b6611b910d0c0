/**
 * A format's extra chunk-map data (UnitTable.extra: per-unit columns, per-unit blobs with offsets, facts)
 * has a place in the index file: it is saved and loaded with the chunk map, and a damaged structure is
 * CORRUPT_INDEX. (gzip keeps its compressed 32 KiB windows as a blob, zstd its flags and seek-table
 * checksums; the formats read today have none, so the tables here are built by hand.)
 */
import { afterAll, describe, expect, it } from 'vitest';
import { writeIndexFile, type SectionValue } from '../src/index/index-file.js';
import { openIndexFile } from '../src/index/index-reader.js';
import { unitSections, unitsFromSections } from '../src/index/unit-sections.js';
import type { UnitTable } from '../src/index.js';
import { isSeekdataError } from '../src/index.js';
import { tempDir } from './support/fixtures.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function table(): UnitTable {
  return {
    format: 'plain',
    count: 3,
    dStart: Float64Array.of(0, 10, 25, 31),
    cStart: Float64Array.of(0, 10, 25),
    cEnd: Float64Array.of(10, 25, 31),
    param: new Float64Array(3),
    kind: new Uint8Array(3),
    extra: {
      columns: { members: Float64Array.of(0, 1, 2) },
      blobs: { windows: { offsets: Float64Array.of(0, 0, 4, 9), bytes: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9) } },
      facts: { bgzf: true, spacing: 1048576, kind: 'spans' },
    },
  };
}

/** The chunk map's sections written to an index file and read back (each section checked by its CRC). */
async function roundTrip(sections: Array<[string, SectionValue]>, name: string): Promise<Map<string, SectionValue>> {
  const path = `${tmp.dir}/${name}.sdx`;
  await writeIndexFile(path, new Map(sections));
  const opened = await openIndexFile(path);
  if (opened.kind !== 'index') throw new Error(`not an index: ${opened.kind}`);
  try {
    return await opened.file.loadPrefix('units.');
  } finally {
    await opened.file.close();
  }
}

describe('per-format chunk-map data in the index file', () => {
  it('is saved and loaded with the chunk map', async () => {
    const sections = unitSections(table());
    expect(sections.map(([name]) => name)).toEqual(expect.arrayContaining(['units.col.members', 'units.blob.windows', 'units.blobAt.windows', 'units.facts']));
    const loaded = unitsFromSections(await roundTrip(sections, 'extra'), 'plain', 'extra.sdx');
    expect(Array.from(loaded.extra?.columns?.members ?? [])).toEqual([0, 1, 2]);
    const windows = loaded.extra?.blobs?.windows;
    expect(Array.from(windows?.offsets ?? [])).toEqual([0, 0, 4, 9]);
    expect(Array.from(windows?.bytes.subarray(windows.offsets[2], windows.offsets[3]) ?? [])).toEqual([5, 6, 7, 8, 9]);
    expect(loaded.extra?.facts).toEqual({ bgzf: true, spacing: 1048576, kind: 'spans' });
  });

  it('a table without extra data writes no extra sections', () => {
    const plain = table();
    plain.extra = undefined;
    expect(unitSections(plain).map(([name]) => name)).toEqual(['units.dStart', 'units.cStart', 'units.cEnd', 'units.param', 'units.kind']);
  });

  it.each([
    ['a column of the wrong length', (s: Map<string, SectionValue>) => s.set('units.col.members', Float64Array.of(0, 1))],
    ['blob offsets that do not end at the blob’s length', (s: Map<string, SectionValue>) => s.set('units.blobAt.windows', Float64Array.of(0, 0, 4, 8))],
    ['blob offsets that go backwards', (s: Map<string, SectionValue>) => s.set('units.blobAt.windows', Float64Array.of(0, 5, 4, 9))],
    ['a blob without its offsets', (s: Map<string, SectionValue>) => s.delete('units.blobAt.windows')],
    ['facts that are not plain values', (s: Map<string, SectionValue>) => s.set('units.facts', { json: { bgzf: { nested: 1 } } })],
  ])('%s is CORRUPT_INDEX', async (_what, damage) => {
    const sections = new Map(unitSections(table()));
    damage(sections);
    const loaded = await roundTrip([...sections], 'damaged');
    let error: unknown;
    try {
      unitsFromSections(loaded, 'plain', 'damaged.sdx');
    } catch (e) {
      error = e;
    }
    expect(isSeekdataError(error, 'CORRUPT_INDEX'), String(error)).toBe(true);
  });
});
