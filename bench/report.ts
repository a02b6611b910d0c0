/**
 * npm run bench — runs every benchmark (readers, index, datasets, arrow) in turn, then writes their tables
 * (machine, date) between the `<!-- bench:start -->` and `<!-- bench:end -->` markers of bench/RESULTS.md and
 * of README.md's Benchmarks section, leaving the dated measurements around them alone, and draws the SVG charts
 * under bench/charts/ from the results each wrote to bench/results/. `--report-only` skips the runs (and
 * redraws the charts only).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { RESULTS_DIR, machine } from './common.js';

const BENCHES = ['readers', 'index', 'datasets', 'arrow'] as const;

function run(name: string): string {
  console.log(`\n=== npm run bench:${name}`);
  const result = spawnSync('npm', ['run', '--silent', `bench:${name}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  process.stdout.write(result.stdout);
  if (result.status !== 0) throw new Error(`bench:${name} failed`);
  return result.stdout;
}

interface Bar {
  label: string;
  value: number;
  highlight?: boolean;
}

/** A horizontal bar chart as SVG (log scale when the values span more than two decades). */
function barChart(title: string, unit: string, bars: Bar[]): string {
  const width = 760;
  const left = 300;
  const row = 28;
  const top = 44;
  const height = top + bars.length * row + 24;
  const max = Math.max(...bars.map((b) => b.value));
  const min = Math.min(...bars.map((b) => b.value).filter((v) => v > 0));
  const log = max / min > 100;
  const scale = (v: number): number => {
    const span = width - left - 110;
    if (!log) return (v / max) * span;
    const lo = Math.log10(min) - 0.3;
    return ((Math.log10(Math.max(v, min)) - lo) / (Math.log10(max) - lo)) * span;
  };
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="Helvetica, Arial, sans-serif" font-size="13">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="12" y="24" font-size="15" font-weight="bold">${esc(title)}${log ? ' (log scale)' : ''}</text>`,
  ];
  bars.forEach((b, i) => {
    const y = top + i * row;
    const w = Math.max(1, scale(b.value));
    parts.push(`<text x="${left - 8}" y="${y + 17}" text-anchor="end">${esc(b.label)}</text>`);
    parts.push(`<rect x="${left}" y="${y + 4}" width="${w.toFixed(1)}" height="18" fill="${b.highlight === true ? '#2b7bb9' : '#b0b7bf'}"/>`);
    parts.push(`<text x="${(left + w + 6).toFixed(1)}" y="${y + 17}">${b.value >= 100 ? b.value.toFixed(0) : b.value.toFixed(b.value >= 10 ? 1 : 2)} ${esc(unit)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

type Json = Record<string, Record<string, number> & Record<string, unknown>>;

const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

/** The head of a new bench/RESULTS.md (the file is created with it when missing). */
const RESULTS_HEAD = [
  '# seekdata benchmark results',
  '',
  'Data: the synthetic ~100 MB CSV of `npm run make-data` (1.12 M rows), as `.bz2` (bzip2 -9, 900 kB blocks) and',
  '`.xz` (xz -6 -T2 --block-size=1MiB). Every figure is measured next to its baseline in the same run; ratios matter,',
  'absolute numbers move with the (shared, noisy) machine. The block below is the last `npm run bench`; the dated',
  'sections after it are measurements kept with their commands.',
  '',
  '![sequential decode throughput](charts/throughput.svg)',
  '',
  '![random read latency](charts/random-read.svg)',
  '',
].join('\n');

/**
 * Replaces what lies between the markers of `path` with `block`, keeping the rest of the file. A file without
 * them gets them after `head` (a missing file is created from it); without a head, a file without markers is
 * an error rather than overwritten.
 */
function writeBlock(path: string, block: string, head?: string): void {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : (head ?? '');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  let out: string;
  if (start >= 0 && end > start) out = `${text.slice(0, start)}${START}\n${block}\n${text.slice(end)}`;
  else if (head !== undefined && text.startsWith(head)) out = `${head}${START}\n${block}\n${END}\n\n${text.slice(head.length)}`;
  else if (head !== undefined && text === '') out = `${head}${START}\n${block}\n${END}\n`;
  else throw new Error(`${path} has no ${START} … ${END} block to replace (add the markers where the tables go)`);
  writeFileSync(path, out);
}

function load(name: string): Json & { date?: string; machine?: string } {
  return JSON.parse(readFileSync(`${RESULTS_DIR}/${name}.json`, 'utf8')) as Json;
}

function main(): void {
  const outputs: Record<string, string> = {};
  if (!process.argv.includes('--report-only')) for (const b of BENCHES) outputs[b] = run(b);
  const readers = load('readers');
  mkdirSync('bench/charts', { recursive: true });
  const r = (f: string, k: string): number => Number(readers[f]?.[k] ?? NaN);
  writeFileSync(
    'bench/charts/throughput.svg',
    barChart('Sequential decode of a 100 MB CSV, 2 cores', 'MB/s', [
      { label: 'bzip2 -dc (C, 1 core)', value: r('bzip2', 'cliMBs') },
      { label: 'seekdata .bz2, parallelism 1', value: r('bzip2', 'p1MBs'), highlight: true },
      { label: 'seekdata .bz2, parallelism 2', value: r('bzip2', 'p2MBs'), highlight: true },
      { label: 'xz -dc (C, 1 core)', value: r('xz', 'cliMBs') },
      { label: 'seekdata .xz, parallelism 1', value: r('xz', 'p1MBs'), highlight: true },
      { label: 'seekdata .xz, parallelism 2', value: r('xz', 'p2MBs'), highlight: true },
    ]),
  );
  writeFileSync(
    'bench/charts/random-read.svg',
    barChart('Random 100-byte read at a random offset, empty cache (median)', 'ms', [
      { label: 'decode from the start, .bz2', value: r('bzip2', 'naiveMedianMs') },
      { label: 'seekdata, .bz2', value: r('bzip2', 'randomMedianMs'), highlight: true },
      { label: 'decode from the start, .xz', value: r('xz', 'naiveMedianMs') },
      { label: 'seekdata, .xz', value: r('xz', 'randomMedianMs'), highlight: true },
    ]),
  );
  const stamp = `Run of ${String(readers.date ?? '').slice(0, 10)} on ${String(readers.machine ?? machine())}.`;
  const tables = BENCHES.flatMap((b) => {
    const lines = (outputs[b] ?? '').split('\n');
    const table = lines.filter((l) => l.startsWith('|'));
    // The bench's own heading (data, rounds, load average, CPU time stolen by the host) goes with its table.
    const heading = lines.filter((l) => /^seekdata \w+ benchmark:/.test(l)).map((l) => `${l}.`);
    return table.length === 0 ? [] : [`\`npm run bench:${b}\``, '', ...heading.flatMap((h) => [h, '']), ...table, ''];
  });
  if (tables.length === 0) {
    console.log('\nno tables to write (--report-only): bench/RESULTS.md and README.md left as they are');
  } else {
    // Only the block between the markers is this run's: the dated measurements around it (in both files) are
    // the project's record and stay.
    const block = [stamp, '', ...tables].join('\n');
    writeBlock('bench/RESULTS.md', block, RESULTS_HEAD);
    writeBlock('README.md', block);
  }
  console.log('wrote bench/charts/throughput.svg, bench/charts/random-read.svg');
}

main();
