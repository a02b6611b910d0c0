/**
 * Trust in records (issue 8, items 3 and 6): one definition of a CSV field's value shared by the index
 * and the parsers, skipped records that are reported, and unclosed quotes or runaway records that are
 * errors instead of silently swallowing the rest of a file. Truths are the values the tests generate.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { Writable } from 'node:stream';
import {
  closeSharedPool,
  openIndexed,
  recordsToArrow,
  SequentialStream,
  ShuffledBatchDataset,
  TimeRangeDataset,
  type Batch,
  type IndexedOptions,
  type SeekdataError,
} from '../src/index.js';
import { splitRecord } from '../src/index/records/csv.js';
import { runCli } from '../src/cli/main.js';
import { bzip2, prng, tempDir, writeFixture, xz } from './support/fixtures.js';

const tmp = tempDir('seekdata-trust-records-');
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

let serial = 0;
/** The content as plain, .bz2 (100 kB blocks) and .xz (32 KiB blocks) files. */
function variants(content: Buffer, name: string): Array<[string, string]> {
  const id = serial++;
  return [
    ['plain', writeFixture(tmp.dir, `${name}-${id}.csv`, content)],
    ['bz2', writeFixture(tmp.dir, `${name}-${id}.csv.bz2`, bzip2(content, 1))],
    ['xz', writeFixture(tmp.dir, `${name}-${id}.csv.xz`, xz(content, '--block-size=32KiB'))],
  ];
}

async function collect(ds: AsyncIterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of ds) out.push(b);
  return out;
}

const encoder = new TextEncoder();

describe('what a CSV value is (csv.ts)', () => {
  it('quotes, doubled quotes and blanks inside and outside quotes follow the documented definition', () => {
    const cases: Array<[string, string[], string[]]> = [
      // record, values with quoting 'rfc4180', values with quoting 'none'
      ['a, b ,c', ['a', 'b', 'c'], ['a', 'b', 'c']],
      ['ts,\tx\t, label ', ['ts', 'x', 'label'], ['ts', 'x', 'label']],
      [' "x ""y"" " ,z', ['x "y" ', 'z'], ['"x ""y"" "', 'z']],
      ['" up",  down  ', [' up', 'down'], ['" up"', 'down']],
      ['"",x,', ['', 'x', ''], ['""', 'x', '']],
      ['"""a""",""""', ['"a"', '"'], ['"""a"""', '""""']],
      ['"ab"cd,"ab" cd ,e', ['abcd', 'ab cd', 'e'], ['"ab"cd', '"ab" cd', 'e']],
      ['ab"c,d"e,f', ['abc,de', 'f'], ['ab"c', 'd"e', 'f']],
      ['"with, comma","multi\nline"', ['with, comma', 'multi\nline'], ['"with', 'comma"', '"multi\nline"']],
      ['"open, to the end', ['open, to the end'], ['"open', 'to the end']],
    ];
    for (const [record, quoted, none] of cases) {
      expect(splitRecord(encoder.encode(record), 0x2c), record).toEqual(quoted);
      expect(splitRecord(encoder.encode(record), 0x2c, 'none'), record).toEqual(none);
    }
  });
});

describe('the index collects the values the parser looks up', () => {
  it('a CSV written as `ts, x, label` (blanks after the delimiters): no record is skipped', async () => {
    const rand = prng(3);
    const labels = ['down', 'up'];
    const rows = Array.from({ length: 5000 }, (_, i) => ({ t: Date.UTC(2020, 0, 1) + i * 1000, x: Math.round(rand() * 2000) / 100 - 10, label: labels[Math.floor(rand() * 2)] }));
    const content = Buffer.from(['ts, x, label', ...rows.map((r) => `${new Date(r.t).toISOString()}, ${r.x}, ${r.label}`)].join('\n') + '\n');
    for (const [kind, path] of variants(content, 'spaces')) {
      const file = await openIndexed(path, { records: 'csv', timeColumn: 'ts', index: false });
      try {
        expect(file.columns).toEqual(['ts', 'x', 'label']);
        const stats = new Map(file.stats.map((s) => [s.name, s]));
        expect(stats.get('label')?.categories, kind).toEqual(labels.map((value) => ({ value, count: rows.filter((r) => r.label === value).length })));
        expect(stats.get('x')?.numeric).toBe(true);
        expect(file.time?.summary.unparsable).toBe(0);
        const warnings: string[] = [];
        const ds = new ShuffledBatchDataset(file, { features: ['x'], labels: 'label', shuffle: false, batchSize: 1000, onWarning: (m) => warnings.push(m) });
        const batches = await collect(ds);
        expect(ds.skipped, kind).toBe(0);
        expect(warnings).toEqual([]);
        const records = batches.flatMap((b) => [...b.records]);
        expect(records).toEqual(rows.map((_, i) => i));
        const ys = batches.flatMap((b) => [...(b.ys ?? [])]);
        const xs = batches.flatMap((b) => [...b.xs]);
        rows.forEach((r, i) => {
          expect(ys[i]).toBe(labels.indexOf(r.label));
          expect(xs[i]).toBeCloseTo(r.x, 4);
        });
      } finally {
        await file.close();
      }
    }
  });

  it('quoted values with doubled quotes and blanks around and inside, across chunk boundaries (all paths, parallelism 1 and 2)', async () => {
    const rand = prng(11);
    const vocab = ['plain', 'two words', ' lead', 'trail ', ' both ', 'say "hi"', '"quoted"', 'a,b', 'multi\nline', 'tab\there', 'ünï'];
    const pad = (): string => ['', '', ' ', '  ', '\t'][Math.floor(rand() * 5)];
    // A value written so that a reader following the definition gets it back: quoted when it must be
    // (blanks at its ends, quotes, delimiters, newlines) or at random; blanks around it outside quotes.
    const write = (value: string): string => {
      const must = /^[ \t]|[ \t]$|[",\n]/.test(value);
      return must || rand() < 0.3 ? `${pad()}"${value.replace(/"/g, '""')}"${pad()}` : `${pad()}${value}${pad()}`;
    };
    const N = 20_000;
    const rows = Array.from({ length: N }, (_, i) => ({
      t: Date.UTC(2021, 5, 1) + i * 60_000,
      label: vocab[Math.floor(rand() * vocab.length)],
      x: Math.round(rand() * 1e5) / 1e3,
      // Some records hold no quote at all (the fused path), others do (the general path).
      note: rand() < 0.5 ? 'n' : 'quoted "note", with comma',
    }));
    const lines = rows.map((r) => [new Date(r.t).toISOString(), r.label, String(r.x), r.note].map(write).join(','));
    const content = Buffer.from(['time, label , x,note', ...lines].join('\r\n') + '\r\n');
    const expectedCategories = [...new Set(vocab)].sort().map((value) => ({ value, count: rows.filter((r) => r.label === value).length }));
    const ids = new Map(expectedCategories.map((c, i) => [c.value, i]));
    for (const [kind, path] of variants(content, 'quoted')) {
      for (const parallelism of [1, 2]) {
        const label = `${kind}, parallelism ${parallelism}`;
        const file = await openIndexed(path, { records: 'csv', timeColumn: 'time', index: false, parallelism });
        try {
          expect(file.records.count, label).toBe(N);
          expect(file.columns).toEqual(['time', 'label', 'x', 'note']);
          const stats = new Map(file.stats.map((s) => [s.name, s]));
          expect(stats.get('label')?.categories, label).toEqual(expectedCategories);
          expect(stats.get('x')?.count, label).toBe(N);
          expect(stats.get('x')?.mean, label).toBeCloseTo(rows.reduce((s, r) => s + r.x, 0) / N, 6);
          expect(file.time?.summary.unparsable, label).toBe(0);
          expect(file.time?.summary.first).toBe(rows[0].t);
          const ds = new SequentialStream(file, { features: ['x'], labels: 'label', batchSize: 4096, onWarning: () => undefined });
          const batches = await collect(ds);
          expect(ds.skipped, label).toBe(0);
          const records = batches.flatMap((b) => [...b.records]);
          expect(records.length, label).toBe(N);
          const ys = batches.flatMap((b) => [...(b.ys ?? [])]);
          const xs = batches.flatMap((b) => [...b.xs]);
          records.forEach((record, k) => {
            if (ys[k] !== ids.get(rows[record].label)) expect(ys[k], `${label} record ${record}`).toBe(ids.get(rows[record].label));
            if (Math.abs(xs[k] - rows[record].x) > 1e-3) expect(xs[k], `${label} record ${record}`).toBeCloseTo(rows[record].x, 3);
          });
        } finally {
          await file.close();
        }
      }
    }
    // The Arrow export reads text by the same definition.
    const file = await openIndexed(variants(content, 'arrow')[0][1], { records: 'csv', timeColumn: 'time', index: false });
    const picks = [0, 1, 2, 3, 17, 4242, N - 1];
    const table = await recordsToArrow(file, picks, { columns: ['label', 'note'] });
    expect(table.getChild('label')?.toArray()).toEqual(picks.map((r) => rows[r].label));
    expect(table.getChild('note')?.toArray()).toEqual(picks.map((r) => rows[r].note));
    await file.close();
  });

  it('JSONL: the categories the index collects are the values the parser looks up', async () => {
    const rand = prng(4);
    const vocab = [' padded ', 'say "hi"', 'x', true, false];
    const rows = Array.from({ length: 3000 }, (_, i) => ({ i, v: rand(), label: vocab[Math.floor(rand() * vocab.length)] }));
    const path = writeFixture(tmp.dir, 'labels.jsonl', Buffer.from(rows.map((r) => JSON.stringify(r)).join('\n') + '\n'));
    const file = await openIndexed(path, { records: 'jsonl', index: false });
    const categories = file.stats.find((s) => s.name === 'label')?.categories?.map((c) => c.value);
    expect(categories).toEqual([...new Set(vocab.map(String))].sort());
    const ds = new ShuffledBatchDataset(file, { features: ['v'], labels: 'label', shuffle: false, batchSize: 500, onWarning: () => undefined });
    const ys = (await collect(ds)).flatMap((b) => [...(b.ys ?? [])]);
    expect(ds.skipped).toBe(0);
    expect(ys).toEqual(rows.map((r) => categories?.indexOf(String(r.label))));
    await file.close();
  });
});

describe('a dataset that skips records says so', () => {
  // 30% of the labels are not in the vocabulary the user gave: those records are skipped.
  const N = 4000;
  const labels = Array.from({ length: N }, (_, i) => (i % 10 < 3 ? 'sideways' : i % 2 === 0 ? 'up' : 'down'));
  const content = Buffer.from(['time,x,label', ...labels.map((l, i) => `${1_600_000_000 + i},${i % 7},${l}`)].join('\n') + '\n');
  const options = { features: ['x'], labels: 'label', categorical: { label: ['down', 'up'] } };
  const firstSkipped = labels.indexOf('sideways');

  it('with the count and the first example, once per epoch / pass, through onWarning', async () => {
    const file = await openIndexed(writeFixture(tmp.dir, 'skips.csv.xz', xz(content, '--block-size=16KiB')), { records: 'csv', timeColumn: 'time', index: false });
    try {
      const warnings: string[] = [];
      const shuffled = new ShuffledBatchDataset(file, { ...options, shuffle: false, batchSize: 256, epochs: 2, onWarning: (m) => warnings.push(m) });
      await collect(shuffled);
      expect(shuffled.skipped).toBe(2 * 0.3 * N);
      expect(warnings).toHaveLength(2);
      expect(warnings[0]).toContain(`epoch 0 skipped ${0.3 * N} of ${N} records (30.0%)`);
      expect(warnings[0]).toContain(`the first: record ${firstSkipped} label label has an unknown category "sideways"`);
      expect(warnings[1]).toContain('epoch 1 skipped');

      warnings.length = 0;
      const stream = new SequentialStream(file, { ...options, batchSize: 256, onWarning: (m) => warnings.push(m) });
      await collect(stream);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(`pass 0 skipped ${0.3 * N} of ${N} records`);
      expect(warnings[0]).toContain(`record ${firstSkipped} `);

      warnings.length = 0;
      const range = new TimeRangeDataset(file, { ...options, from: 1_600_000_000_000, to: 1_600_000_000_000 + 1000 * N, batchSize: 256, onWarning: (m) => warnings.push(m) });
      await collect(range);
      expect(range.skipped).toBe(0.3 * N);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(`skipped ${0.3 * N} of ${N} records`);
      expect(warnings[0]).toContain(`record ${firstSkipped} `);

      // A consumer that stops early still hears about what was skipped so far.
      warnings.length = 0;
      for await (const batch of new ShuffledBatchDataset(file, { ...options, shuffle: 'exact', batchSize: 256, onWarning: (m) => warnings.push(m) })) {
        expect(batch.size).toBe(256);
        break;
      }
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/epoch 0 skipped \d+ of \d+ records/);
    } finally {
      await file.close();
    }
  });

  it('by default as a process warning; not at all when at most 0.1% is skipped', async () => {
    const few = Buffer.from(['x,label', ...Array.from({ length: 5000 }, (_, i) => `${i},${i === 77 ? 'sideways' : 'up'}`)].join('\n') + '\n');
    const quiet = await openIndexed(writeFixture(tmp.dir, 'few.csv', few), { records: 'csv', index: false });
    const loud = await openIndexed(writeFixture(tmp.dir, 'many.csv.bz2', bzip2(content, 1)), { records: 'csv', index: false });
    const emit = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const ds = new ShuffledBatchDataset(quiet, { features: ['x'], labels: 'label', categorical: { label: ['up'] }, shuffle: false });
      await collect(ds);
      expect(ds.skipped).toBe(1);
      expect(emit).not.toHaveBeenCalled();
      await collect(new ShuffledBatchDataset(loud, { ...options, shuffle: 'chunked' }));
      expect(emit).toHaveBeenCalledTimes(1);
      expect(String(emit.mock.calls[0][0])).toContain(`skipped ${0.3 * N} of ${N} records`);
      expect(emit.mock.calls[0][1]).toMatchObject({ type: 'SeekdataWarning' });
    } finally {
      emit.mockRestore();
      await quiet.close();
      await loud.close();
    }
  });

  it('onWarning must be a function', async () => {
    const file = await openIndexed(writeFixture(tmp.dir, 'opt.csv', content), { records: 'csv', index: false });
    expect(() => new ShuffledBatchDataset(file, { ...options, onWarning: 'loud' as unknown as () => void })).toThrow(/options\.onWarning/);
    await file.close();
  });
});

describe('an unclosed quote does not swallow the file', () => {
  const N = 200_000;
  const rows = Array.from({ length: N }, (_, i) => `${i},${(i % 1000) / 10},name${i % 97}`);
  // One stray quote in record 10: with RFC 4180 quoting it opens a field that never closes.
  rows[10] = '10,3.5,5" disk';
  const content = Buffer.from(['id,x,name', ...rows].join('\n') + '\n');
  const offset10 = Buffer.byteLength(['id,x,name', ...rows.slice(0, 10)].join('\n') + '\n');
  const files = variants(content, 'stray');

  it.each([1, 2])('is a PARSE_ERROR naming record 10, its line and its offset (plain, bz2, xz; parallelism %i)', async (parallelism) => {
    for (const [kind, path] of files) {
      const error = (await openIndexed(path, { records: 'csv', index: false, parallelism }).then(
        () => undefined,
        (e: unknown) => e,
      )) as SeekdataError | undefined;
      expect(error?.code, kind).toBe('PARSE_ERROR');
      expect(error?.record, kind).toBe(10);
      expect(error?.offset, kind).toBe(offset10);
      expect(error?.message, kind).toContain(`record 10 (line 12, decompressed byte ${offset10})`);
      expect(error?.message, kind).toContain('never closed');
      expect(error?.message, kind).toContain("quoting: 'none'");
    }
  });

  it("with quoting: 'none' the quote is an ordinary byte and every record is there", async () => {
    for (const [kind, path] of files) {
      const file = await openIndexed(path, { records: 'csv', quoting: 'none', index: false });
      try {
        expect(file.records.count, kind).toBe(N);
        expect(await file.records.text(10)).toBe('10,3.5,5" disk');
        expect(await file.records.text(N - 1)).toBe(rows[N - 1]);
        expect(file.stats.find((s) => s.name === 'name')?.categories?.some((c) => c.value === '5" disk')).toBe(true);
      } finally {
        await file.close();
      }
    }
  });

  it('a record longer than maxRecordBytes is a PARSE_ERROR, checked as it grows (before the end of the file)', async () => {
    // The stray quote runs into 4 MB of records: more than a 1 MiB limit long before the file ends.
    for (const [kind, path] of files) {
      const error = (await openIndexed(path, { records: 'csv', index: false, maxRecordBytes: 1 << 20 }).then(
        () => undefined,
        (e: unknown) => e,
      )) as SeekdataError | undefined;
      expect(error?.code, kind).toBe('PARSE_ERROR');
      expect(error?.record, kind).toBe(10);
      expect(error?.message, kind).toContain(`record 10 (line 12, decompressed byte ${offset10}) is longer than maxRecordBytes (1048576 bytes)`);
    }
  });
});

describe('long records', () => {
  // A quoted field of 250 kB with newlines, spanning many 32 KiB xz blocks and bzip2 blocks.
  const long = `"${'a line of the field\n'.repeat(12_500)}""end"""`;
  const rows = Array.from({ length: 3000 }, (_, i) => (i === 1500 ? `${i},${long}` : `${i},"short ""${i}""\nwith newline"`));
  const content = Buffer.from(['id,text', ...rows].join('\n') + '\n');
  const files = variants(content, 'long');

  it.each([1, 2])('a quoted field with newlines spanning chunk boundaries is one record, under the limit (parallelism %i)', async (parallelism) => {
    for (const [kind, path] of files) {
      const file = await openIndexed(path, { records: 'csv', index: false, parallelism, maxRecordBytes: 300_000 });
      try {
        expect(file.records.count, kind).toBe(rows.length);
        expect(await file.records.text(1500), kind).toBe(rows[1500]);
        expect(await file.records.text(1501), kind).toBe(rows[1501]);
        expect((await file.records.getMany([0, 1500, 2999])).map((b) => Buffer.from(b).toString())).toEqual([rows[0], rows[1500], rows[2999]]);
      } finally {
        await file.close();
      }
    }
  });

  it.each([1, 2])('over a small limit it is a PARSE_ERROR naming the record and its offset (parallelism %i)', async (parallelism) => {
    const offset = Buffer.byteLength(['id,text', ...rows.slice(0, 1500)].join('\n') + '\n');
    for (const [kind, path] of files) {
      const error = (await openIndexed(path, { records: 'csv', index: false, parallelism, maxRecordBytes: 200_000 }).then(
        () => undefined,
        (e: unknown) => e,
      )) as SeekdataError | undefined;
      expect(error?.code, kind).toBe('PARSE_ERROR');
      expect(error?.record, kind).toBe(1500);
      expect(error?.offset, kind).toBe(offset);
      expect(error?.message, kind).toContain('is longer than maxRecordBytes (200000 bytes)');
    }
  });

  it('a record over the limit inside one chunk is found too, in any record kind', async () => {
    const lines = Array.from({ length: 100 }, (_, i) => (i === 42 ? 'x'.repeat(5000) : `line ${i}`));
    const path = writeFixture(tmp.dir, 'inside.txt', Buffer.from(lines.join('\n') + '\n'));
    const offset = Buffer.byteLength(lines.slice(0, 42).join('\n') + '\n');
    for (const options of [{ records: 'lines' }, { records: 'csv', header: false }, { records: 'jsonl' }] as IndexedOptions[]) {
      const opening = openIndexed(path, { ...options, index: false, maxRecordBytes: 4096 });
      await expect(opening, options.records).rejects.toMatchObject({ code: 'PARSE_ERROR', record: 42, offset, message: expect.stringContaining(`record 42 (line 43, decompressed byte ${offset})`) });
    }
    const file = await openIndexed(path, { records: 'lines', index: false, maxRecordBytes: 5000 });
    expect(file.records.count).toBe(100);
    await file.close();
  });

  it('the options are validated, and the CLI takes --max-record-mb and --quoting', async () => {
    const path = files[0][1];
    await expect(openIndexed(path, { records: 'csv', maxRecordBytes: 0 })).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining('options.maxRecordBytes') });
    await expect(openIndexed(path, { records: 'csv', quoting: 'double' as 'none' })).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining('options.quoting') });
    const cli = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
      let stdout = '';
      let stderr = '';
      const sink = (write: (s: string) => void): Writable => new Writable({ write: (chunk: Buffer, _encoding, done) => (write(chunk.toString()), done()) });
      const code = await runCli(args, { stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)) });
      return { code, stdout, stderr };
    };
    const tooLong = await cli('records', path, '--records', 'csv', '--no-index', '--max-record-mb', '0.1', '--from', '1500', '--count', '1');
    expect(tooLong.code).toBe(1);
    expect(tooLong.stderr).toContain('record 1500');
    expect(tooLong.stderr).toContain('--max-record-mb');
    const ok = await cli('records', path, '--records', 'csv', '--no-index', '--max-record-mb', '1', '--from', '1501', '--count', '1');
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(`${rows[1501]}\n`);
    const badMb = await cli('records', path, '--from', '0', '--records', 'csv', '--max-record-mb', '0');
    expect(badMb.code).toBe(2);
    expect(badMb.stderr).toContain('--max-record-mb must be a positive number');
    const badQuoting = await cli('records', path, '--from', '0', '--records', 'csv', '--quoting', 'maybe');
    expect(badQuoting.code).toBe(2);
    expect(badQuoting.stderr).toContain('--quoting must be rfc4180 or none');
    const strayPath = writeFixture(tmp.dir, 'stray-cli.csv', Buffer.from('a,b\n1,5" disk\n2,x\n'));
    expect((await cli('records', strayPath, '--from', '0', '--records', 'csv', '--no-index')).stderr).toContain('--quoting none');
    const stray = await cli('records', strayPath, '--from', '0', '--records', 'csv', '--no-index', '--quoting', 'none');
    expect(stray.stdout).toBe('1,5" disk\n2,x\n');
  });
});
