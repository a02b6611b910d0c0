/**
 * `seekdata index` exists to save an index: when it cannot (the place named by --index is unusable, and the
 * warning says why), the command still prints what it built but exits 1 with a line naming the file, so a
 * script that prepares indexes never takes "not saved" for done. A saved or fresh index exits 0.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { closeSharedPool } from '../src/index.js';
import { cli } from './support/cli.js';
import { tempDir } from './support/fixtures.js';

const tmp = tempDir();
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

const csv = ['time,a', ...Array.from({ length: 50 }, (_, i) => `2020-01-01T00:${String(i).padStart(2, '0')}:00Z,${i}`)].join('\n') + '\n';

describe('seekdata index: an index that is not saved is a failure', () => {
  it('a chunk-map index sent to a directory that does not exist: output, a warning, a line naming the file, exit 1', async () => {
    const data = join(tmp.dir, 'a.csv.gz');
    writeFileSync(data, gzipSync(csv));
    const missing = join(tmp.dir, 'no-such-dir') + '/';
    const r = await cli('index', data, '--index', missing);
    expect(r.code).toBe(1);
    expect(r.stdout.toString()).toContain('index not saved');
    expect(r.stderr).toContain(`index directory ${missing} does not exist`);
    expect(r.stderr).toContain(`${data}: the index was not saved`);
    expect(existsSync(missing)).toBe(false);
    // The same command with a usable place: saved, exit 0, nothing on stderr about saving.
    const ok = await cli('index', data);
    expect(ok.code).toBe(0);
    expect(ok.stderr).not.toContain('not saved');
    expect(existsSync(`${data}.sdx`)).toBe(true);
  });

  it('a record index (--records csv), and --json: exit 1 too, the JSON still printed', async () => {
    const data = join(tmp.dir, 'b.csv.gz');
    writeFileSync(data, gzipSync(csv));
    const missing = join(tmp.dir, 'nowhere') + '/';
    const r = await cli('index', data, '--records', 'csv', '--time-column', 'time', '--index', missing, '--json');
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout.toString()) as { report: { status: string; records: number } };
    expect(out.report.status).toBe('none');
    expect(out.report.records).toBe(50);
    expect(r.stderr).toContain(`${data}: the index was not saved`);
    const ok = await cli('index', data, '--records', 'csv', '--time-column', 'time');
    expect(ok.code).toBe(0);
  });

  // /proc is a directory where no file can be created, even by root (the tests run as root in CI).
  it.skipIf(!existsSync('/proc/self'))('a collection whose files cannot save their indexes (--index /proc/): each named, exit 1', async () => {
    const data = join(tmp.dir, 'shards');
    mkdirSync(data);
    const files = ['x.csv.gz', 'y.csv.gz'].map((n) => join(data, n));
    for (const f of files) writeFileSync(f, gzipSync(csv));
    const r = await cli('index', join(data, '*.csv.gz'), '--records', 'csv', '--index', '/proc/');
    expect(r.code).toBe(1);
    for (const f of files) expect(r.stderr).toContain(`${f}: the index was not saved`);
    expect(r.stderr.match(/the index was not saved/g)?.length).toBe(2);
  });
});
