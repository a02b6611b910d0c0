/** Shared helpers for the benchmarks: data set-up, timing, tables, result files. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { openIndexed } from '../src/index.js';

export const DATA_DIR = process.env.SEEKDATA_BENCH_DATA ?? 'bench/data';
export const RESULTS_DIR = 'bench/results';

/** The ~100 MB synthetic CSV and its .bz2 / .xz (1 MiB blocks), generated on first use. */
export function benchData(mb = Number(process.env.SEEKDATA_BENCH_MB ?? 100)): { csv: string; bz2: string; xz: string } {
  const csv = join(DATA_DIR, 'synth.csv');
  if (!existsSync(`${csv}.bz2`) || !existsSync(`${csv}.xz`) || !existsSync(csv)) {
    const made = spawnSync(process.execPath, ['--import', 'tsx', 'bench/make-data.ts', '--mb', String(mb), '--out', DATA_DIR], { stdio: 'inherit' });
    if (made.status !== 0) throw new Error('make-data failed');
  }
  return { csv, bz2: `${csv}.bz2`, xz: `${csv}.xz` };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * The median of the per-round ratios a[r] / b[r]: each round times both sides back to back, so a slow spell of
 * a shared host moves both sides of a ratio together; the median drops the rounds one side of which it hit.
 */
export function pairedRatio(a: number[], b: number[]): number {
  if (a.length !== b.length || a.length === 0) throw new Error(`pairedRatio: ${a.length} and ${b.length} samples`);
  return median(a.map((x, r) => x / b[r]));
}

/** The machine's CPU time counters (/proc/stat, all CPUs, in ticks): total and stolen by the hypervisor. */
function cpuTicks(): { total: number; steal: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
    return { total: ticks.reduce((x, y) => x + y, 0), steal: ticks[7] ?? 0 };
  } catch {
    return undefined;
  }
}

/**
 * Starts measuring the share of the machine's CPU time the hypervisor gave to other guests ("steal"); the
 * function returned gives it in percent since the start (undefined where /proc/stat is missing). On a shared
 * virtual machine a run with more than a few percent stolen times both sides of a ratio unevenly.
 */
export function stealMeter(): () => number | undefined {
  const start = cpuTicks();
  return () => {
    const now = cpuTicks();
    if (start === undefined || now === undefined || now.total === start.total) return undefined;
    return (100 * (now.steal - start.steal)) / (now.total - start.total);
  };
}

/** ", N% of the CPU time stolen by the host" for a run's heading ('' where unknown). */
export function stealNote(percent: number | undefined): string {
  return percent === undefined ? '' : `; CPU time stolen by the host ${percent.toFixed(1)}%`;
}

/** CPU time of the process so far, all threads (main thread and pool workers), in ms. */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export async function timeMs(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** Wall time of a shell command, in ms. */
export function timeCommand(command: string): number {
  const t = performance.now();
  const result = spawnSync('sh', ['-c', command], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) throw new Error(`${command} failed`);
  return performance.now() - t;
}

export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = rows.map((r) => r.map(String));
  const out = [`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`];
  for (const r of cells) out.push(`| ${r.join(' | ')} |`);
  return out.join('\n');
}

export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${availableParallelism()} cores (${cpu}), Node.js ${process.version}`;
}

export function saveResult(name: string, result: unknown): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, `${name}.json`), JSON.stringify({ date: new Date().toISOString(), machine: machine(), ...(result as object) }, null, 2));
}

export const fmt = (n: number, digits = 1): string => n.toFixed(digits);

/** A seeded PRNG so runs pick the same random offsets. */
export { mulberry32 as prng } from '../src/datasets/permutation.js';

/** Starts every worker thread before timing: decodes as many chunks at once as the reader decodes in parallel. */
export async function warm(reader: { parallelism: number; layout: { count: number }; chunk(i: number): Promise<unknown> }): Promise<void> {
  const n = Math.min(reader.layout.count, reader.parallelism * 2);
  await Promise.all(Array.from({ length: n }, (_, i) => reader.chunk(i)));
}

/**
 * The training benches' data (bench:fit, fit-probe): the format given by `--format xz|bzip2` (default xz), and
 * options that load its record index from a .sdx of the benches' own beside the data, built and saved once.
 */
export async function fitBenchData(args: string[]): Promise<{ format: string; path: string; indexOptions: { records: 'csv'; timeColumn: string; index: string } }> {
  const format = args.includes('--format') ? args[args.indexOf('--format') + 1] : 'xz';
  const data = benchData();
  const path = format === 'bzip2' ? data.bz2 : data.xz;
  const indexPath = `${path}.fit-bench.sdx`;
  const indexOptions = { records: 'csv' as const, timeColumn: 'time', index: indexPath };
  if (!existsSync(indexPath)) await (await openIndexed(path, indexOptions)).close();
  return { format, path, indexOptions };
}
