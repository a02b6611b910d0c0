/**
 * Saving the index at the end of the indexing pass (index-file.ts, persist.ts): the payloads are handed
 * to the I/O threads before their checksums and the header are computed (the header goes in last), and
 * the place the index goes to is found while the pass runs (`placeEarly`). Checked: every index file the
 * pass writes (bzip2, xz, gzip, plain; with and without time, with and without statistics), and files of
 * many sections and big payloads, are byte for byte what the documented layout says, rebuilt here by a
 * writer of its own from the loaded sections; a pass that fails or is aborted leaves no index and no
 * temporary file; a place that cannot be written and a write that fails half-way (the file size limit of
 * the process) give the warnings they gave before, and leave no temporary file; `saveIndex` takes the
 * place found early as its first attempt's and reports its rejection as its own.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeSharedPool, openIndexed } from '../src/index.js';
import { crc32, writeIndexFile, type SectionValue } from '../src/index/index-file.js';
import { openIndexFile } from '../src/index/index-reader.js';
import { placeEarly, saveIndex } from '../src/index/persist.js';
import { SeekdataError } from '../src/errors.js';
import { bzip2, prng, run, tempDir, timedCsv, writeFixture, xz } from './support/fixtures.js';
import { runProcess } from './support/process.js';

const tmp = tempDir('seekdata-save-');
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

const csv = (records: number, seed: number, disorder: boolean): Buffer => timedCsv(records, seed, disorder, true);

// ---------------------------------------------------------------------------------------------------
// The layout as index-file.ts documents it, written here independently of it.

const KIND_CODES: Record<string, number> = { json: 0, f64: 1, u32: 2, i32: 3, f32: 4, u8: 5, u16: 6 };

function kindName(value: SectionValue): string {
  if (value instanceof Float64Array) return 'f64';
  if (value instanceof Uint32Array) return 'u32';
  if (value instanceof Int32Array) return 'i32';
  if (value instanceof Float32Array) return 'f32';
  if (value instanceof Uint16Array) return 'u16';
  if (value instanceof Uint8Array) return 'u8';
  return 'json';
}

const up8 = (n: number): number => (n + 7) & ~7;

function referenceFile(sections: Array<[string, SectionValue]>): Buffer {
  const payloads = sections.map(([, v]) => ('json' in v ? Buffer.from(JSON.stringify(v.json)) : Buffer.from(v.buffer, v.byteOffset, v.byteLength)));
  let at = up8(32 + 64 * sections.length);
  const offsets = payloads.map((p) => {
    const o = at;
    at = up8(at + p.length);
    return o;
  });
  const file = Buffer.alloc(at);
  file.write('SEEKDATA', 0, 'latin1');
  file.writeUInt32LE(2, 8);
  file.writeUInt32LE(sections.length, 12);
  file.writeBigUInt64LE(BigInt(at), 16);
  sections.forEach(([name, value], i) => {
    const e = 32 + 64 * i;
    file.write(name, e, 'utf8');
    file.writeUInt32LE(KIND_CODES[kindName(value)], e + 32);
    file.writeUInt32LE(crc32(payloads[i]), e + 36);
    file.writeBigUInt64LE(BigInt('json' in value ? payloads[i].length : value.length), e + 40);
    file.writeBigUInt64LE(BigInt(offsets[i]), e + 48);
    file.writeBigUInt64LE(BigInt(payloads[i].length), e + 56);
    payloads[i].copy(file, offsets[i]);
  });
  file.writeUInt32LE(crc32(file.subarray(32, 32 + 64 * sections.length)), 24);
  file.writeUInt32LE(crc32(file.subarray(0, 28)), 28);
  return file;
}

/** Every section of an index file, in file order, as the reader hands them out (checksums verified). */
async function loadAll(path: string): Promise<Array<[string, SectionValue]>> {
  const opening = await openIndexFile(path);
  if (opening.kind !== 'index') throw new Error(`${path}: ${opening.kind}`);
  try {
    const names = opening.file.names();
    const loaded = await opening.file.load(names);
    return names.map((n) => [n, loaded.get(n) as SectionValue]);
  } finally {
    await opening.file.close();
  }
}

/** A new directory under the test's temporary one. */
function newDir(name: string): string {
  const dir = join(tmp.dir, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Files in `dir` left by a write: temporary index files and indexes. */
const leftovers = (dir: string): string[] => readdirSync(dir).filter((f) => f.includes('.tmp-') || f.endsWith('.sdx'));

describe('index files written at the end of the pass are the documented layout, byte for byte', () => {
  const sorted = csv(6000, 1, false);
  const disordered = csv(6000, 2, true);
  const formats: Array<[string, (b: Buffer) => Buffer]> = [
    ['bz2', (b) => bzip2(b, 1)],
    ['xz', (b) => xz(b, '--block-size=65536')],
    ['gz', (b) => run('gzip', ['-c'], b)],
    ['csv', (b) => b],
  ];
  const optionSets: Array<[string, Parameters<typeof openIndexed>[1]]> = [
    ['time and statistics', { records: 'csv', timeColumn: 'time' }],
    ['time, no statistics', { records: 'csv', timeColumn: 'time', stats: false }],
    ['statistics of one column, no time', { records: 'csv', stats: ['x'] }],
    ['lines', { records: 'lines' }],
  ];
  let n = 0;
  for (const [ext, compress] of formats) {
    for (const [data, text] of [
      ['sorted', sorted],
      ['out of order, unparsable times', disordered],
    ] as const) {
      it.each(optionSets)(`${ext}, ${data}: %s`, async (_, options) => {
        const dir = newDir(`layout-${n++}`);
        const path = writeFixture(dir, `data.${ext}`, compress(text));
        const warnings: string[] = [];
        const file = await openIndexed(path, { ...options, pieceBytes: 32 << 10, bigUnitBytes: 64 << 10, onWarning: (m) => warnings.push(m) });
        const report = file.report;
        const count = file.records.count;
        await file.close();
        expect(warnings).toEqual([]);
        expect(report.status).toBe('built');
        expect(report.indexPath).toBe(`${path}.sdx`);
        const bytes = readFileSync(`${path}.sdx`);
        expect(report.indexBytes).toBe(bytes.length);
        const sections = await loadAll(`${path}.sdx`);
        const names = sections.map(([name]) => name);
        expect(names[0]).toBe('meta');
        expect(names).toContain('records.offsets');
        expect((sections.find(([name]) => name === 'records.offsets')?.[1] as Uint32Array).length).toBe(count);
        expect(names.includes('time.values')).toBe(options?.timeColumn !== undefined);
        if (options?.timeColumn !== undefined) expect(names.includes('time.order')).toBe(data !== 'sorted');
        expect(bytes.equals(referenceFile(sections))).toBe(true);
        expect(leftovers(dir)).toEqual([`data.${ext}.sdx`]);
      });
    }
  }
});

describe('writeIndexFile', () => {
  it('many sections of every kind and odd lengths, empty ones, and payloads of several write pieces: the documented layout', async () => {
    const rand = prng(9);
    const sections: Array<[string, SectionValue]> = [['meta', { json: { a: 'é', n: [1, 2.5, null] } }]];
    const makers = [
      (k: number) => Float64Array.from({ length: k }, () => rand() * 1e6),
      (k: number) => Uint32Array.from({ length: k }, () => Math.floor(rand() * 2 ** 32)),
      (k: number) => Int32Array.from({ length: k }, () => Math.floor(rand() * 2 ** 32) - 2 ** 31),
      (k: number) => Float32Array.from({ length: k }, () => rand()),
      (k: number) => Uint8Array.from({ length: k }, () => Math.floor(rand() * 256)),
      (k: number) => Uint16Array.from({ length: k }, () => Math.floor(rand() * 65536)),
    ];
    for (let s = 0; s < 200; s++) sections.push([`s${s}`, makers[s % makers.length](Math.floor(rand() * 40))]);
    // 20 MB and 9 MB: several 8 MB write pieces each, written at once; a view into a bigger buffer.
    sections.push(['big', new Float64Array(2_500_001).map(() => rand())]);
    const backing = new Uint32Array(3_000_000).map(() => Math.floor(rand() * 2 ** 32));
    sections.push(['view', backing.subarray(7, 2_250_008)]);
    sections.push(['tail', { json: 'last' }]);
    const path = join(tmp.dir, 'many.sdx');
    const bytes = await writeIndexFile(path, new Map(sections));
    const file = readFileSync(path);
    expect(bytes).toBe(file.length);
    expect(file.equals(referenceFile(sections))).toBe(true);
    const loaded = await loadAll(path);
    expect(loaded.map(([name]) => name)).toEqual(sections.map(([name]) => name));
    expect(Buffer.from((loaded.find(([name]) => name === 'view')?.[1] as Uint32Array).buffer).equals(Buffer.from(backing.slice(7, 2_250_008).buffer))).toBe(true);
  });
});

describe('a pass that does not finish leaves nothing behind', () => {
  const text = csv(60_000, 3, false);

  it('corrupt data in the middle: CORRUPT_DATA, no index, no temporary file', async () => {
    const dir = newDir('corrupt');
    const good = bzip2(text, 1);
    const bad = Buffer.from(good);
    // A byte in the middle of the stream: a block's CRC fails.
    bad[Math.floor(bad.length / 2)] ^= 0x55;
    const path = writeFixture(dir, 'bad.csv.bz2', bad);
    await expect(openIndexed(path, { records: 'csv', timeColumn: 'time' })).rejects.toBeInstanceOf(SeekdataError);
    // Nothing written after the rejection either (the place was being found meanwhile).
    await new Promise((r) => setTimeout(r, 200));
    expect(leftovers(dir)).toEqual([]);
    expect(existsSync(`${path}.sdx`)).toBe(false);
  });

  it('aborted after the first chunk: the abort, no index, no temporary file', async () => {
    const dir = newDir('abort');
    const path = writeFixture(dir, 'data.csv.xz', xz(text, '--block-size=32768'));
    const controller = new AbortController();
    const opening = openIndexed(path, { records: 'csv', timeColumn: 'time', signal: controller.signal, onProgress: () => controller.abort() });
    await expect(opening).rejects.toMatchObject({ code: 'ABORTED' });
    await new Promise((r) => setTimeout(r, 200));
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('an index that cannot be saved: the warnings as before, no temporary file', () => {
  const text = csv(3000, 4, false);

  it('a place that cannot be created (under /proc): the data is indexed, the save is a warning', async () => {
    const path = writeFixture(newDir('proc'), 'data.csv.bz2', bzip2(text, 1));
    const place = `/proc/${process.pid}/seekdata-test.sdx`;
    const warnings: string[] = [];
    const file = await openIndexed(path, { records: 'csv', timeColumn: 'time', index: place, onWarning: (m) => warnings.push(m) });
    expect(file.report.status).toBe('none');
    expect(file.report.indexPath).toBeUndefined();
    expect(file.records.count).toBe(3000);
    await file.close();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`^could not save index to ${place}: ${place}\\.tmp-\\d+-[0-9a-f]{12}: cannot create the temporary index file \\(ENOENT\\)$`));
  });

  it('a write that fails half-way (the process may write no file over 1 MB): the warning names the error, no temporary file is left', async () => {
    const dir = newDir('fsize');
    const path = writeFixture(dir, 'data.csv.xz', xz(csv(150_000, 5, true), '--block-size=1048576'));
    const script = join(tmp.dir, 'fsize-child.mts');
    writeFileSync(
      script,
      `import { closeSharedPool, openIndexed } from ${JSON.stringify(join(process.cwd(), 'src/index.ts'))};
const warnings: string[] = [];
const file = await openIndexed(${JSON.stringify(path)}, { records: 'csv', timeColumn: 'time', onWarning: (m) => warnings.push(m) });
console.log(JSON.stringify({ warnings, status: file.report.status, count: file.records.count }));
await file.close();
await closeSharedPool();
`,
    );
    // bash's ulimit -f counts 1024-byte blocks; node ignores SIGXFSZ, so a write past the limit fails with EFBIG.
    const child = await runProcess('bash', ['-c', `ulimit -f 1024 && exec "${process.execPath}" --import tsx "${script}"`]);
    expect(child.stderr).toBe('');
    expect(child.code).toBe(0);
    const out = JSON.parse(child.stdout.toString()) as { warnings: string[]; status: string; count: number };
    expect(out.count).toBe(150_000);
    expect(out.status).toBe('none');
    expect(out.warnings).toHaveLength(1);
    expect(out.warnings[0]).toMatch(new RegExp(`^could not save index to ${path}\\.sdx: cannot write the index file: writing failed \\(EFBIG: file too large, write\\)$`));
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('saveIndex with the place found while the pass ran (placeEarly)', () => {
  const sections: Array<[string, SectionValue]> = [
    ['meta', { json: { note: 'early' } }],
    ['x', new Float64Array([1, 2, 3])],
  ];

  function places(dir: string, answers: Array<string | Error>): { write: () => Promise<string>; claim: () => Promise<'create'>; asked: () => number } {
    let asked = 0;
    return {
      write: () => {
        const answer = answers[asked++] ?? new Error('asked too often');
        return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(join(dir, answer));
      },
      claim: () => Promise.resolve('create'),
      asked: () => asked,
    };
  }

  it('the early place is the first attempt’s: the place is not looked for again', async () => {
    const dir = newDir('early-1');
    const p = places(dir, ['first.sdx', 'second.sdx']);
    const early = placeEarly(p);
    expect(p.asked()).toBe(1);
    const saved = await saveIndex(p, sections, undefined, early);
    expect(saved?.path).toBe(join(dir, 'first.sdx'));
    expect(p.asked()).toBe(1);
    expect(readFileSync(join(dir, 'first.sdx')).equals(referenceFile(sections))).toBe(true);
  });

  it('an early place that failed: the same warning as a place that fails at the end', async () => {
    const dir = newDir('early-2');
    const failure = new SeekdataError('IO_ERROR', `${dir}/cache cannot be used`, { file: dir });
    const late: string[] = [];
    expect(await saveIndex(places(dir, [failure]), sections, (m) => late.push(m))).toBeUndefined();
    const p = places(dir, [failure]);
    const early = placeEarly(p);
    // Rejected before anyone awaits it: no unhandled rejection.
    await new Promise((r) => setTimeout(r, 10));
    const warned: string[] = [];
    expect(await saveIndex(p, sections, (m) => warned.push(m), early)).toBeUndefined();
    expect(warned).toEqual(late);
    expect(warned).toEqual([`could not save index to (unknown): ${dir}/cache cannot be used`]);
    expect(p.asked()).toBe(1);
  });

  it('an early place taken by another data file’s index (INDEX_CONFLICT): the next place is looked for once', async () => {
    const dir = newDir('early-3');
    const p = places(dir, [new SeekdataError('INDEX_CONFLICT', 'taken', { file: dir }), 'next.sdx']);
    const saved = await saveIndex(p, sections, undefined, placeEarly(p));
    expect(saved?.path).toBe(join(dir, 'next.sdx'));
    expect(p.asked()).toBe(2);
    expect(leftovers(dir)).toEqual(['next.sdx']);
  });
});
