/**
 * Shards for collection tests: the rows of `datasetFixture` cut into files, each with the CSV header and
 * compressed by a different command in turn (bzip2, xz with small blocks, gzip, zstd, plain), with the truth: the
 * rows in collection order and the plain CSV lines of each shard.
 */
import { bzip2, run, xz } from './fixtures.js';
import { datasetFixture, type TruthRow } from './dataset-fixture.js';

export interface Shard {
  name: string;
  bytes: Buffer;
  /** Data lines (no header), as written. */
  lines: string[];
  rows: TruthRow[];
}

const FORMATS: Array<{ ext: string; pack: (plain: Buffer) => Buffer }> = [
  { ext: '.csv.bz2', pack: (p) => bzip2(p, 1) },
  { ext: '.csv.xz', pack: (p) => xz(p, '--block-size=20000') },
  { ext: '.csv.gz', pack: (p) => run('gzip', ['-c'], p) },
  { ext: '.csv.zst', pack: (p) => run('zstd', ['-q', '-c'], p) },
  { ext: '.csv', pack: (p) => p },
];

/** `sizes[k]` rows in shard k, named `part-0000k<ext>` so that sorted names are collection order. */
export function collectionShards(sizes: number[], seed = 1): { shards: Shard[]; header: string } {
  const total = sizes.reduce((a, b) => a + b, 0);
  const { csv, rows } = datasetFixture(total, seed);
  const all = csv.toString().trimEnd().split('\n');
  const header = all[0];
  const shards: Shard[] = [];
  let at = 0;
  sizes.forEach((n, k) => {
    const lines = all.slice(1 + at, 1 + at + n);
    const format = FORMATS[k % FORMATS.length];
    const plain = Buffer.from([header, ...lines].join('\n') + '\n');
    shards.push({ name: `part-${String(k).padStart(5, '0')}${format.ext}`, bytes: format.pack(plain), lines, rows: rows.slice(at, at + n) });
    at += n;
  });
  return { shards, header };
}
