/**
 * Decompression bombs: peak RSS and wall time of opening (building the chunk map), one random read, and a
 * full `cat`-like stream of 2 GiB of zeros in each format (bzip2, xz, gzip, zstd), each in its own child
 * process (test/support/bomb-child.ts), and of the same open stopped by `maxDecodedBytes` at 64 MiB.
 * The bombs are made on first use in $SEEKDATA_BENCH_DATA (default bench/data) by piping `head -c 2G
 * /dev/zero` into the compressor. `npm run bench:bombs`; results in bench/results/bombs.json.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { runProcess, runTsx } from '../test/support/process.js';
import { COMPRESSORS } from '../test/support/bombs.js';
import { DATA_DIR, machine, saveResult, table } from './common.js';

const SIZE = 2 ** 31;
const LIMIT = 64 * 2 ** 20;
const FORMATS = [
  ['bzip2', 'bz2'],
  ['xz', 'xz'],
  ['gzip', 'gz'],
  ['zstd', 'zst'],
] as const;

interface Report {
  size: number;
  bytes: number;
  maxRssBytes: number;
  seconds: number;
  error?: string;
}

async function child(file: string, mode: string, extra: string[], limit?: number): Promise<Report> {
  const env = { ...process.env, ...(limit === undefined ? {} : { MAX_DECODED_BYTES: String(limit) }) };
  const result = await runTsx(['test/support/bomb-child.ts', file, mode, ...extra], env);
  if (result.code !== 0) throw new Error(`${file} ${mode}: ${result.stderr}`);
  return JSON.parse(result.stdout.toString()) as Report;
}

const mb = (bytes: number): string => (bytes / 1e6).toFixed(0);

mkdirSync(DATA_DIR, { recursive: true });
const rows: Array<Array<string | number>> = [];
const results: Record<string, unknown> = {};
for (const [format, ext] of FORMATS) {
  const file = join(DATA_DIR, `zeros-2g.${ext}`);
  if (!existsSync(file)) {
    process.stderr.write(`making ${file}\n`);
    const made = await runProcess('sh', ['-c', `head -c ${SIZE} /dev/zero | ${COMPRESSORS[format]} > '${file}.tmp' && mv '${file}.tmp' '${file}'`]);
    if (made.code !== 0) throw new Error(`making ${file}: ${made.stderr}`);
  }
  const compressed = statSync(file).size;
  const open = await child(file, 'index', []);
  const read = await child(file, 'read', [String(1_500_000_000)]);
  const cat = await child(file, 'cat', []);
  const stopped = await child(file, 'index', [], LIMIT);
  if (open.size !== SIZE || read.bytes !== 100 || cat.bytes !== SIZE) throw new Error(`${format}: wrong sizes ${JSON.stringify({ open, read, cat })}`);
  if (stopped.error?.startsWith('LIMIT_EXCEEDED') !== true) throw new Error(`${format}: the limit did not stop it: ${JSON.stringify(stopped)}`);
  results[format] = { compressedBytes: compressed, open, read, cat, stopped };
  const cell = (r: Report): string => `${mb(r.maxRssBytes)} MB, ${r.seconds.toFixed(1)} s`;
  rows.push([format, compressed, cell(open), cell(read), cell(cat), cell(stopped)]);
  process.stderr.write(`${format} done (load ${loadavg()[0].toFixed(1)})\n`);
}
const headers = ['format', 'compressed bytes', 'open (chunk map)', 'open + read 100 B at 1.5 GB', 'open + stream all 2 GiB', 'open, maxDecodedBytes 64 MiB'];
process.stdout.write(`2 GiB of zeros, peak RSS and wall time per child process (${machine()}; load ${loadavg()[0].toFixed(1)})\n\n${table(headers, rows)}\n`);
saveResult('bombs', { machine: machine(), size: SIZE, limit: LIMIT, results });
