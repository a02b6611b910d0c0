/**
 * `npx tsx bench/index-phases.ts [bz2|xz] [rounds]` — where the index pass's time goes beside a plain parallel
 * decode, in one process: the decode (`reader.stream()`, chunk map loaded), the full pass with its index kept in
 * memory (`index: false`) and the full pass writing its index file (the previous one removed first, outside the
 * timing), alternated round by round (the order reversed every other round). For each: the time to the first
 * chunk (the first streamed part; the pass's first progress report), the rest of the pass up to its last chunk,
 * the tail from the last chunk until `openIndexed` returns (the join, and the index file's write and fsync), and
 * the process's CPU time (all threads) over 2 × the wall time: how busy the two cores were. Medians; a diagnosis
 * of the index-pass target of `bench/index.ts`, not a target of its own.
 */
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { closeSharedPool, openIndexed, openReader } from '../src/index.js';
import { benchData, cpuMs, fmt, machine, median, stealMeter, stealNote, table } from './common.js';

const format = process.argv[2] ?? 'bz2';
const rounds = Number(process.argv[3] ?? 8);
const data = benchData();
const file = format === 'xz' ? data.xz : data.bz2;
const index = `${file}.sdx`;
const options = { records: 'csv' as const, timeColumn: 'time' };

interface Phases {
  first: number;
  pass: number;
  tail: number;
  total: number;
  busy: number;
}

async function decode(): Promise<Phases> {
  const started = performance.now();
  const cpu = cpuMs();
  let first = 0;
  let last = 0;
  const reader = await openReader(file, { cacheBytes: 1 });
  for await (const part of reader.stream()) {
    last = performance.now();
    if (first === 0) first = last;
    void part;
  }
  await reader.close();
  const total = performance.now() - started;
  return { first: first - started, pass: last - first, tail: performance.now() - last, total, busy: (cpuMs() - cpu) / (2 * total) };
}

async function build(keep: boolean): Promise<Phases> {
  if (keep) rmSync(index, { force: true });
  const started = performance.now();
  const cpu = cpuMs();
  let first = 0;
  let last = 0;
  const indexed = await openIndexed(file, {
    ...options,
    ...(keep ? {} : { index: false }),
    onProgress: (p) => {
      if (p.bytesDone >= p.bytesTotal) return;
      last = performance.now();
      if (first === 0) first = last;
    },
  });
  const returned = performance.now();
  await indexed.close();
  const total = performance.now() - started;
  return { first: first - started, pass: last - first, tail: returned - last, total, busy: (cpuMs() - cpu) / (2 * total) };
}

const runs: Record<string, () => Promise<Phases>> = {
  'parallel decode (baseline)': decode,
  'index pass, index in memory (`index: false`)': () => build(false),
  'index pass, index file written': () => build(true),
};

const steal = stealMeter();
const loads = [loadavg()[0]];
// The chunk map and the index in place, and every code path warm.
await (await openIndexed(file, options)).close();
for (const run of Object.values(runs)) await run();
const samples: Record<string, Phases[]> = Object.fromEntries(Object.keys(runs).map((name) => [name, []]));
const names = Object.keys(runs);
for (let r = 0; r < rounds; r++) {
  for (const name of r % 2 === 0 ? names : [...names].reverse()) samples[name].push(await runs[name]());
  loads.push(loadavg()[0]);
}
await closeSharedPool();
const decodeTotal = median(samples[names[0]].map((p) => p.total));
const rows = names.map((name) => {
  const m = (key: keyof Phases): number => median(samples[name].map((p) => p[key]));
  return [name, `${fmt(m('first'))} ms`, `${fmt(m('pass'), 0)} ms`, `${fmt(m('tail'))} ms`, `${fmt(m('total'), 0)} ms (${fmt(m('total') / decodeTotal, 2)}×)`, fmt(m('busy'), 2)];
});
console.log(`seekdata index phases: ${format}, ${machine()}; ${rounds} alternated rounds; load average ${loads.map((l) => l.toFixed(1)).join(' → ')}${stealNote(steal())}`);
console.log(table(['run', 'to the first chunk', 'to the last chunk', 'tail', 'total', 'cores busy'], rows));
