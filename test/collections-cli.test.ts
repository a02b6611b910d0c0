/**
 * The CLI on collections: quoted globs (expanded by the CLI itself), directories and manifests for index,
 * info, records, range, stats, sample, export and cat; the truth is the generator's lines and rows.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { closeSharedPool } from '../src/index.js';
import { cli } from './support/cli.js';
import { tempDir } from './support/fixtures.js';
import { collectionShards } from './support/collection-fixture.js';

const tmp = tempDir('seekdata-collections-cli-');
const dir = join(tmp.dir, 'shards');
mkdirSync(dir);
const SIZES = [800, 300, 1200, 500];
const { shards, header } = collectionShards(SIZES, 5);
for (const s of shards) writeFileSync(join(dir, s.name), s.bytes);
const lines = shards.flatMap((s) => s.lines);
const rows = shards.flatMap((s) => s.rows);
const N = lines.length;
const glob = join(dir, 'part-*');

afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

describe('seekdata on a collection', () => {
  it('index builds one index per file, then finds them fresh; info describes the collection', async () => {
    const built = await cli('index', glob, '--records', 'csv', '--time-column', 'time', '-p', '1', '-q');
    expect(built.stderr).toBe('');
    expect(built.code).toBe(0);
    const out = built.stdout.toString();
    expect(out).toContain(`${SIZES.length} files, ${N} records (csv)`);
    expect(out).toContain(`${SIZES.length} built`);
    for (const s of shards) expect(readFileSync(join(dir, `${s.name}.sdx`)).length).toBeGreaterThan(0);
    const again = await cli('index', glob, '--json', '-p', '1', '-q');
    const report = JSON.parse(again.stdout.toString()) as { records: number; report: { indexes: { loaded: number } }; fileReports: Array<{ file: string }> };
    expect(report.records).toBe(N);
    expect(report.report.indexes.loaded).toBe(SIZES.length);
    expect(report.fileReports.map((f) => f.file)).toEqual(shards.map((s) => join(dir, s.name)));
    const info = await cli('info', dir, '--json', '-q');
    expect(JSON.parse(info.stdout.toString())).toMatchObject({ files: SIZES.length, records: N, columns: header.split(',') });
  });

  it('records, range and stats read across files (record flags from the stored indexes)', async () => {
    const rec = await cli('records', glob, '--from', String(SIZES[0] - 2), '--count', '4', '-q');
    expect(rec.stdout.toString()).toBe(lines.slice(SIZES[0] - 2, SIZES[0] + 2).join('\n') + '\n');
    const t0 = rows[700].time;
    const t1 = rows[1500].time;
    const range = await cli('range', glob, '--from', new Date(t0).toISOString(), '--to', new Date(t1).toISOString(), '--count-only', '-q');
    expect(range.stdout.toString()).toBe(`${rows.filter((r) => r.time >= t0 && r.time < t1).length}\n`);
    const listed = await cli('range', glob, '--from', new Date(t0).toISOString(), '--to', new Date(t1).toISOString(), '--limit', '200', '-q');
    expect(listed.stdout.toString()).toBe(lines.slice(700, 900).join('\n') + '\n');
    const stats = await cli('stats', glob, '--json', '-q');
    const b = (JSON.parse(stats.stdout.toString()) as { columns: Array<{ name: string; count: number; max: number }> }).columns.find((c) => c.name === 'b');
    expect(b?.count).toBe(N);
    expect(b?.max).toBe(Math.max(...rows.map((r) => r.b)));
  });

  it('a manifest keeps its order; sample shards it over ranks; export writes Arrow across files', async () => {
    const manifest = join(tmp.dir, 'list.txt');
    writeFileSync(manifest, [shards[2], shards[0]].map((s) => join('shards', s.name)).join('\n') + '\n');
    const first = await cli('records', `@${manifest}`, '--from', '0', '--count', '1', '-q');
    expect(first.stdout.toString()).toBe(`${shards[2].lines[0]}\n`);
    const ranks = await Promise.all([0, 1, 2].map((r) => cli('sample', glob, '-b', '100', '--indices', '--rank', String(r), '--world-size', '3', '--shard-policy', 'drop', '--seed', '4', '-q')));
    const batches = ranks.map((r) => r.stdout.toString().trim().split('\n'));
    expect(new Set(batches.map((b) => b.length)).size).toBe(1);
    const union = batches.flat().flatMap((l) => l.split(' ').map(Number));
    expect(new Set(union).size).toBe(union.length);
    expect(union.length).toBe(N - (N % 3));
    // Without --rank / --world-size: from the variables a launcher sets.
    process.env.SEEKDATA_RANK = '1';
    process.env.SEEKDATA_WORLD_SIZE = '3';
    try {
      const fromEnv = await cli('sample', glob, '-b', '100', '--indices', '--shard-policy', 'drop', '--seed', '4', '-q');
      expect(fromEnv.stdout.toString()).toBe(ranks[1].stdout.toString());
    } finally {
      delete process.env.SEEKDATA_RANK;
      delete process.env.SEEKDATA_WORLD_SIZE;
    }
    const out = join(tmp.dir, 'range.arrow');
    const t0 = rows[750].time;
    const t1 = rows[1200].time;
    const exported = await cli('export', glob, '--from', new Date(t0).toISOString(), '--to', new Date(t1).toISOString(), '--arrow', out, '--columns', 'b', '-q');
    expect(exported.code).toBe(0);
    const table = tableFromIPC(readFileSync(out));
    expect(Array.from(table.getChild('b')?.toArray() as ArrayLike<number>)).toEqual(rows.slice(750, 1200).map((r) => r.b));
  });

  it('cat writes the files one after the other; read refuses a collection; --on-bad-file skip leaves a damaged file out', async () => {
    const cat = await cli('cat', glob, '-q');
    expect(cat.stdout.toString()).toBe(shards.map((s) => [header, ...s.lines].join('\n') + '\n').join(''));
    const read = await cli('read', glob, '--offset', '0', '--length', '10');
    expect(read.code).toBe(2);
    const bad = join(tmp.dir, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, shards[0].name), shards[0].bytes);
    writeFileSync(join(bad, shards[1].name), Buffer.from(shards[1].bytes).subarray(0, Math.floor(shards[1].bytes.length / 2)));
    const failed = await cli('info', bad, '--records', 'csv', '--no-index', '-p', '1');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(shards[1].name);
    const skipped = await cli('info', bad, '--records', 'csv', '--no-index', '--on-bad-file', 'skip', '--json', '-p', '1');
    expect(skipped.code).toBe(0);
    expect(skipped.stderr).toContain(`warning: ${join(bad, shards[1].name)}`);
    expect(JSON.parse(skipped.stdout.toString())).toMatchObject({ files: 1, records: SIZES[0], skipped: [{ file: join(bad, shards[1].name) }] });
  });
});
