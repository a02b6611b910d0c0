/**
 * docs/index-format.md against the code (issue 11 §4): its constants, kinds and section names are the
 * code's (both ways), and a reader written here from the document's tables alone — field offsets and types
 * parsed out of the document — reads real index files: header and directory with their CRCs, the chunk map
 * (checked against the compressed bytes: bzip2 block magics and CRCs, xz block boundaries), chunks split
 * into pieces, every record's bytes, the tails, the time values and order, and the metadata's fields.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { closeSharedPool, openIndexed, openReader } from '../src/index.js';
import { ENTRY_BYTES, HEADER_BYTES, INDEX_MAGIC, INDEX_VERSION, KINDS, MAX_JSON_BYTES, MAX_SECTIONS, NAME_BYTES, WIDTH } from '../src/index/index-file.js';
import { RECORD_SECTIONS } from '../src/index/record-sections.js';
import { MAX_TAIL_BYTES } from '../src/index/records/built-records.js';
import { unitSections } from '../src/index/unit-sections.js';
import { BIG_UNIT_BYTES, PIECE_BYTES } from '../src/readers/chunks.js';
import { PLAIN_SPAN_BYTES, plainUnits } from '../src/readers/plain/format.js';
import { bzip2, prng, tempDir, writeFixture, xz } from './support/fixtures.js';

const doc = readFileSync(new URL('../docs/index-format.md', import.meta.url), 'utf8');

/** The rows of the first table after the heading `title` (cells trimmed, header and rule left out). */
function table(title: string): string[][] {
  const at = doc.search(new RegExp(`^#+ ${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`, 'm'));
  if (at < 0) throw new Error(`no heading ${title}`);
  const lines = doc.slice(at).split('\n');
  const start = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.slice(1, -1).split('|').map((c) => c.trim()));
  }
  return rows;
}
const unquote = (cell: string): string => cell.replace(/^`|`$/g, '');

interface Field {
  offset: number;
  size: number;
  type: string;
  text: string;
}
/** A layout table's row whose description starts with `what`. */
function field(rows: string[][], what: RegExp): Field {
  const row = rows.find((r) => what.test(r[3]));
  if (row === undefined) throw new Error(`no field ${String(what)}`);
  return { offset: Number(row[0]), size: Number(row[1]), type: row[2], text: row[3] };
}
function read(view: DataView, base: number, f: Field): number {
  if (f.type === 'u32' && f.size === 4) return view.getUint32(base + f.offset, true);
  if (f.type === 'u64' && f.size === 8) return Number(view.getBigUint64(base + f.offset, true));
  throw new Error(`cannot read a ${f.type} of ${f.size} bytes`);
}
const constant = (name: string): string => {
  const row = table('Constants').find((r) => r[0] === name);
  if (row === undefined) throw new Error(`no constant ${name}`);
  return unquote(row[1]);
};

const ARRAYS: Record<string, (b: ArrayBuffer, n: number) => ArrayLike<number>> = {
  f64: (b, n) => new Float64Array(b, 0, n),
  u32: (b, n) => new Uint32Array(b, 0, n),
  i32: (b, n) => new Int32Array(b, 0, n),
  f32: (b, n) => new Float32Array(b, 0, n),
  u8: (b, n) => new Uint8Array(b, 0, n),
  u16: (b, n) => new Uint16Array(b, 0, n),
};

/** An index file read by the document: sections by name (json parsed, arrays typed), every CRC checked. */
function readByDoc(bytes: Uint8Array): Map<string, unknown> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header = table('Header');
  const magic = field(header, /^magic/);
  expect(Buffer.from(bytes.subarray(magic.offset, magic.offset + magic.size)).toString('latin1')).toBe(constant('magic'));
  expect(read(view, 0, field(header, /^version/))).toBe(Number(constant('version')));
  const n = read(view, 0, field(header, /^section count/));
  expect(read(view, 0, field(header, /^file length/))).toBe(bytes.length);
  const headerBytes = Number(constant('header bytes'));
  const entryBytes = Number(constant('directory entry bytes'));
  expect(read(view, 0, field(header, /^CRC32 of the directory/))).toBe(crc32(bytes.subarray(headerBytes, headerBytes + n * entryBytes)));
  expect(read(view, 0, field(header, /^CRC32 of header bytes 0\.\.27/))).toBe(crc32(bytes.subarray(0, 28)));
  const entry = table('Directory entry');
  const kinds = table('Kinds');
  const sections = new Map<string, unknown>();
  let end = headerBytes + n * entryBytes;
  for (let i = 0; i < n; i++) {
    const base = headerBytes + i * entryBytes;
    const nameField = field(entry, /^name/);
    const raw = bytes.subarray(base + nameField.offset, base + nameField.offset + nameField.size);
    const name = Buffer.from(raw.subarray(0, raw.indexOf(0) < 0 ? raw.length : raw.indexOf(0))).toString('utf8');
    const kindRow = kinds.find((k) => Number(k[0]) === read(view, base, field(entry, /^kind/)));
    if (kindRow === undefined) throw new Error(`section ${name}: unknown kind`);
    const kind = unquote(kindRow[1]);
    const count = read(view, base, field(entry, /^element count/));
    const offset = read(view, base, field(entry, /^payload offset/));
    const length = read(view, base, field(entry, /^payload length/));
    expect(offset % 8, name).toBe(0);
    expect(offset, name).toBeGreaterThanOrEqual(end);
    expect(length, name).toBe(count * Number(kindRow[2]));
    const payload = bytes.slice(offset, offset + length);
    expect(crc32(payload), `${name} CRC`).toBe(read(view, base, field(entry, /^CRC32 of the payload/)));
    sections.set(name, kind === 'json' ? JSON.parse(Buffer.from(payload).toString('utf8')) : ARRAYS[kind](payload.buffer, count));
    end = offset + length;
  }
  expect(Math.ceil(end / 8) * 8).toBe(bytes.length);
  return sections;
}

const tmp = tempDir();
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

describe('docs/index-format.md matches the code', () => {
  it('constants and kinds', () => {
    expect(constant('magic')).toBe(INDEX_MAGIC);
    expect(Number(constant('version'))).toBe(INDEX_VERSION);
    expect(Number(constant('header bytes'))).toBe(HEADER_BYTES);
    expect(Number(constant('directory entry bytes'))).toBe(ENTRY_BYTES);
    expect(Number(constant('maximum sections'))).toBe(MAX_SECTIONS);
    expect(Number(constant('maximum section name bytes'))).toBe(NAME_BYTES);
    expect(Number(constant('maximum JSON section bytes'))).toBe(MAX_JSON_BYTES);
    expect(Number(constant('maximum stored tail bytes'))).toBe(MAX_TAIL_BYTES);
    expect(Number(constant('plain unit bytes'))).toBe(PLAIN_SPAN_BYTES);
    expect(Number(constant('default bigUnitBytes'))).toBe(BIG_UNIT_BYTES);
    expect(Number(constant('default pieceBytes'))).toBe(PIECE_BYTES);
    expect(table('Kinds').map((r) => [Number(r[0]), unquote(r[1]), Number(r[2])])).toEqual(KINDS.map((k, i) => [i, k, WIDTH[k]]));
    // The header and entry tables tile their 32 and 64 bytes.
    for (const [title, bytes] of [['Header', HEADER_BYTES], ['Directory entry', ENTRY_BYTES]] as const) {
      let at = 0;
      for (const row of table(title)) {
        expect(Number(row[0]), `${title} ${row[3]}`).toBe(at);
        at += Number(row[1]);
      }
      expect(at).toBe(bytes);
    }
  });

  it('every section the code writes is documented, and every documented section is one the code writes', () => {
    const documented = table('Sections').map((r) => unquote(r[0]));
    // With piece CRCs known, the optional units.pieceCrc section is written too.
    const withPieces = { ...plainUnits(10), pieceCrc: { bigUnitBytes: 8, pieceBytes: 4, crc: Float64Array.of(1, 2, 3) } };
    const written = ['meta', ...unitSections(withPieces).map(([name]) => name), ...RECORD_SECTIONS];
    expect([...documented].sort()).toEqual([...written].sort());
    const kinds = new Map(table('Sections').map((r) => [unquote(r[0]), r[1]]));
    for (const [name, value] of unitSections(withPieces)) expect(kinds.get(name), name).toBe(value instanceof Uint8Array ? 'u8' : 'f64');
  });
});

interface Truth {
  /** Each record's content. */
  records: string[];
  times: number[];
}

/** A CSV with quoted newlines, CRLF lines, blank lines, an unparsable time and unsorted times. */
function csvFixture(n: number): { text: string; truth: Truth } {
  const rand = prng(5);
  const lines = ['t,v,note'];
  const truth: Truth = { records: [], times: [] };
  for (let i = 0; i < n; i++) {
    const t = Date.UTC(2024, 0, 1) + Math.floor(rand() * 1e6) * 1000;
    const bad = i === 77;
    const note = i % 9 === 0 ? `"two\nlines ${i}"` : `n${'x'.repeat(i % 40)}`;
    const record = `${bad ? 'not-a-time' : new Date(t).toISOString()},${i},${note}`;
    lines.push(i % 13 === 0 ? `${record}\r` : record);
    if (i % 17 === 0) lines.push('');
    truth.records.push(record);
    truth.times.push(bad ? NaN : t);
  }
  return { text: lines.join('\n') + '\n', truth };
}

describe('a reader written from the document reads real index files', () => {
  let truthXz: Truth;
  let dataXz: Uint8Array;
  let xzPath: string;
  beforeAll(() => {
    const { text, truth } = csvFixture(4000);
    truthXz = truth;
    dataXz = Buffer.from(text);
    // One xz block (plain `xz`), split into pieces by small piece options.
    xzPath = writeFixture(tmp.dir, 'one-block.csv.xz', xz(dataXz));
  });

  it('records, chunks in pieces, tails, time values and order, metadata fields (xz)', async () => {
    const file = await openIndexed(xzPath, { records: 'csv', timeColumn: 't', bigUnitBytes: 50_000, pieceBytes: 16_384 });
    await file.close();
    const s = readByDoc(new Uint8Array(readFileSync(`${xzPath}.sdx`)));
    const names = [...s.keys()];
    expect(names.every((n) => table('Sections').some((r) => unquote(r[0]) === n))).toBe(true);
    const meta = s.get('meta') as { format: string; fingerprint: unknown; recordOptions: Record<string, unknown>; records: unknown };
    const metaFields = (title: string): string[] => table(title).map((r) => unquote(r[0]).split(/`?,\s*`?/)).flat();
    expect(Object.keys(meta).sort()).toEqual(metaFields('meta').sort());
    expect(Object.keys(meta.recordOptions).every((k) => metaFields('Record options').includes(k))).toBe(true);
    const records = meta.records as { pieces: { bigUnitBytes: number; pieceBytes: number }; count: number; stats: Array<Record<string, unknown>>; time: Record<string, unknown> };
    expect(Object.keys(records).sort()).toEqual(metaFields('The records object').sort());
    for (const st of records.stats) expect(Object.keys(st).sort()).toEqual(metaFields('Statistics').sort());
    expect(Object.keys(records.time).every((k) => metaFields('Time summary').includes(k))).toBe(true);
    // The fingerprint: SHA-256 of the first and last span bytes, 32 hex digits.
    const compressed = readFileSync(xzPath);
    const span = Number(constant('fingerprint span bytes'));
    const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex').slice(0, 32);
    expect(meta.fingerprint).toMatchObject({ size: compressed.length, head: sha(compressed.subarray(0, span)), tail: sha(compressed.subarray(Math.max(0, compressed.length - span))) });

    // The chunk map: one xz unit; chunks by the pieces rule.
    const dStart = s.get('units.dStart') as Float64Array;
    expect([...dStart]).toEqual([0, dataXz.length]);
    const { bigUnitBytes, pieceBytes } = records.pieces;
    const chunkStart: number[] = [];
    for (let u = 0; u + 1 < dStart.length; u++) {
      const length = dStart[u + 1] - dStart[u];
      const pieces = meta.format === 'xz' && length > bigUnitBytes ? Math.ceil(length / pieceBytes) : 1;
      for (let k = 0; k < pieces; k++) chunkStart.push(dStart[u] + k * pieceBytes);
    }
    chunkStart.push(dStart[dStart.length - 1]);
    const C = chunkStart.length - 1;
    expect(C).toBe(Math.ceil(dataXz.length / 16_384));

    // Every record's content, as the document says to cut it out.
    const first = s.get('records.first') as Float64Array;
    const offsets = s.get('records.offsets') as Uint32Array;
    expect(first.length).toBe(C + 1);
    const R = records.count;
    const start = (r: number): number => {
      let c = 0;
      while (!(first[c] <= r && r < first[c + 1])) c++;
      return chunkStart[c] + offsets[r];
    };
    const spanEnd = (r: number): number => (r + 1 < R ? start(r + 1) : dataXz.length);
    const text = (a: number, b: number): string => Buffer.from(dataXz.subarray(a, b)).toString('utf8');
    const contents = Array.from({ length: R }, (_, r) => text(start(r), spanEnd(r)).replace(/[\r\n]+$/, ''));
    expect(contents).toEqual(truthXz.records);

    // Tails: the bytes after each chunk that complete its last record.
    const tails = s.get('records.tails') as Uint8Array;
    const tailOffsets = s.get('records.tailOffsets') as Float64Array;
    const tailStored = s.get('records.tailStored') as Uint8Array;
    let nonEmpty = 0;
    for (let c = 0; c < C; c++) {
      const tail = tails.subarray(tailOffsets[c], tailOffsets[c + 1]);
      expect(tailStored[c]).toBe(1);
      const last = first[c + 1] - 1;
      const runsPast = first[c + 1] > first[c] && spanEnd(last) > chunkStart[c + 1];
      if (!runsPast) {
        expect(tail.length, `chunk ${c}`).toBe(0);
        continue;
      }
      nonEmpty++;
      const end = chunkStart[c + 1] + tail.length;
      expect(Buffer.from(tail).equals(Buffer.from(dataXz.subarray(chunkStart[c + 1], end))), `chunk ${c}`).toBe(true);
      expect(end === dataXz.length || dataXz[end - 1] === 0x0a, `chunk ${c}`).toBe(true);
      // Only the record's blank lines lie between the tail and the next record.
      expect(text(end, spanEnd(last)).replace(/[\r\n]/g, ''), `chunk ${c}`).toBe('');
      expect(text(start(last), end).replace(/[\r\n]+$/, '')).toBe(truthXz.records[last]);
    }
    expect(nonEmpty).toBeGreaterThan(C / 2);

    // Times: epoch ms, NaN when unparsable; the order sorted by time, ties in record order.
    const values = s.get('time.values') as Float64Array;
    expect([...values]).toEqual(truthXz.times);
    const want = truthXz.times.map((t, r) => [t, r] as const).filter(([t]) => !Number.isNaN(t)).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(([, r]) => r);
    expect([...(s.get('time.order') as Uint32Array)]).toEqual(want);
    expect(records.time).toMatchObject({ format: 'iso', sorted: false, unparsable: 1, first: Math.min(...want.map((r) => truthXz.times[r])) });
  });

  it('the chunk map of bzip2 and plain files, as the document describes it', async () => {
    const text = Buffer.from(csvFixture(8000).text);
    // Two streams: blocks of 100 kB (level 1), then of 200 kB (level 2).
    const bz = writeFixture(tmp.dir, 'multi.csv.bz2', Buffer.concat([bzip2(text.subarray(0, 300_000), 1), bzip2(text.subarray(300_000), 2)]));
    await (await openReader(bz)).close();
    const s = readByDoc(new Uint8Array(readFileSync(`${bz}.sdx`)));
    const data = readFileSync(bz);
    const bits = (bit: number, count: number): number => {
      let v = 0;
      for (let i = 0; i < count; i++) v = v * 2 + ((data[(bit + i) >> 3] >> (7 - ((bit + i) & 7))) & 1);
      return v;
    };
    const cStart = s.get('units.cStart') as Float64Array;
    const cEnd = s.get('units.cEnd') as Float64Array;
    const param = s.get('units.param') as Float64Array;
    const kind = s.get('units.kind') as Uint8Array;
    expect(cStart.length).toBeGreaterThan(2);
    for (let u = 0; u < cStart.length; u++) {
      expect(bits(cStart[u], 24) * 2 ** 24 + bits(cStart[u] + 24, 24), `block ${u} magic`).toBe(0x314159265359);
      expect(bits(cStart[u] + 48, 32), `block ${u} CRC`).toBe(param[u]);
      const next = u + 1 < cStart.length && cStart[u + 1] === cEnd[u];
      if (!next) expect(bits(cEnd[u], 24) * 2 ** 24 + bits(cEnd[u] + 24, 24), `block ${u} end`).toBe(0x177245385090);
    }
    expect([...new Set(kind)]).toEqual([1, 2]);
    const plain = writeFixture(tmp.dir, 'big.csv', Buffer.concat([text, text, text, text, text]));
    await (await openReader(plain)).close();
    const p = readByDoc(new Uint8Array(readFileSync(`${plain}.sdx`)));
    const size = readFileSync(plain).length;
    const spanBytes = Number(constant('plain unit bytes'));
    const count = Math.ceil(size / spanBytes);
    expect([...(p.get('units.dStart') as Float64Array)]).toEqual([...Array.from({ length: count }, (_, i) => i * spanBytes), size]);
    expect([...(p.get('units.cStart') as Float64Array)]).toEqual(Array.from({ length: count }, (_, i) => i * spanBytes));
    expect([...(p.get('units.cEnd') as Float64Array)]).toEqual(Array.from({ length: count }, (_, i) => Math.min(size, (i + 1) * spanBytes)));
    expect([...(p.get('units.param') as Float64Array), ...(p.get('units.kind') as Uint8Array)].every((v) => v === 0)).toBe(true);
    expect(Object.keys(p.get('meta') as object).sort()).toEqual(['createdAt', 'fingerprint', 'format', 'owner', 'source']);
  });
});
