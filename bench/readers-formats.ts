/**
 * The gzip and zstd part of `npm run bench:readers`, every ratio from one run on the ~100 MB CSV: as
 * gzip -6 (one member: the checkpoint pass), BGZF (bgzip), zstd in 1 MiB frames (the seekable format,
 * written by seekdata) and zstd in one frame (`zstd -3`). Sequential decode at parallelism 1 and 2 next to
 * `gzip -dc`, `pigz -dc`, `zstd -dc`; the index build (the chunk map: the checkpoint pass for gzip -6,
 * headers for BGZF and zstd) next to `gzip -dc`; a random read(offset, 100) with an empty cache next to
 * one whole unit decode (for gzip -6 also with `prefixReads: false`: whole spans, no sub-span CRC-32s
 * used); the index size against the decompressed size. Wall and CPU time (this process's
 * threads, or the command's children) are both reported: the machine is shared, and CPU ratios are the
 * stable ones, while a parallel speed-up only shows in wall time. The load average is recorded.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { closeSharedPool, openIndexed, openReader } from '../src/index.js';
import { decodeGzipUnit, type GzipDecodeTask } from '../src/readers/gzip/decode.js';
import { windowOf } from '../src/readers/gzip/table.js';
import { writeZstdSeekable } from '../src/readers/zstd/index.js';
import { decodeZstdUnit, zstdUnitTask } from '../src/readers/zstd/unit-task.js';
import { tableChecksums } from '../src/readers/zstd/units.js';
import type { UnitTable } from '../src/readers/units.js';
import { fmt, median, warm } from './common.js';

interface Timing {
  wall: number;
  cpu: number;
}

const ROUNDS = Number(process.env.SEEKDATA_BENCH_ROUNDS ?? 3);

/** Wall and CPU time (the children's user + system, from the shell's `times`) of a command, in ms. */
function command(cmd: string): Timing {
  const t = performance.now();
  const r = spawnSync('sh', ['-c', `${cmd} > /dev/null; times`]);
  const wall = performance.now() - t;
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr.toString()}`);
  const children = r.stdout.toString().trim().split('\n')[1] ?? '';
  const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((s, m) => s + Number(m[1]) * 60 + Number(m[2]), 0);
  return { wall, cpu: seconds * 1000 };
}

/** Wall and CPU time (every thread of this process) of `fn`, in ms. */
async function measure(fn: () => Promise<unknown>): Promise<Timing> {
  const c = process.cpuUsage();
  const t = performance.now();
  await fn();
  const wall = performance.now() - t;
  const cpu = process.cpuUsage(c);
  return { wall, cpu: (cpu.user + cpu.system) / 1000 };
}

/** The best (lowest wall time) of `ROUNDS` runs. */
async function best(run: () => Promise<Timing> | Timing): Promise<Timing> {
  let b: Timing | undefined;
  for (let i = 0; i < ROUNDS; i++) {
    const t = await run();
    if (b === undefined || t.wall < b.wall) b = t;
  }
  if (b === undefined) throw new Error('no rounds');
  return b;
}

interface Files {
  gz: string;
  bgz: string;
  zstFrames: string;
  zstOne: string;
}

async function makeFiles(csv: string): Promise<Files> {
  const files = { gz: `${csv}.gz`, bgz: `${csv}.bgz.gz`, zstFrames: `${csv}.frames.zst`, zstOne: `${csv}.zst` };
  const make = (out: string, cmd: string): void => {
    if (!existsSync(out) && spawnSync('sh', ['-c', `${cmd} < ${csv} > ${out}`]).status !== 0) throw new Error(`${cmd} failed`);
  };
  make(files.gz, 'gzip -6 -c');
  make(files.bgz, 'bgzip -c');
  make(files.zstOne, `zstd -q -3 -c --stream-size=${statSync(csv).size}`);
  if (!existsSync(files.zstFrames)) {
    const out = createWriteStream(files.zstFrames);
    await writeZstdSeekable(createReadStream(csv), async (bytes) => {
      if (!out.write(bytes)) await once(out, 'drain');
    }, { frameBytes: 1 << 20, level: 3 });
    out.end();
    await once(out, 'finish');
  }
  return files;
}

async function sequential(file: string, parallelism: number): Promise<Timing> {
  const reader = await openReader(file, { parallelism, cacheBytes: 1 });
  await warm(reader);
  const t = await measure(async () => {
    for await (const part of reader.stream()) void part;
  });
  await reader.close();
  return t;
}

/** One unit's decode in this thread, from bytes in memory (what a random read costs beyond reading). */
async function unitDecode(units: UnitTable, bytes: Buffer, u: number, file: string): Promise<number> {
  const t = performance.now();
  if (units.format === 'gzip') {
    const offset = Math.floor(units.cStart[u] / 8);
    const task: GzipDecodeTask = {
      data: bytes.subarray(offset, Math.ceil(units.cEnd[u] / 8)),
      shift: units.cStart[u] - offset * 8,
      bitLength: units.cEnd[u] - units.cStart[u],
      window: windowOf(units, u),
      windowPacked: true,
      kind: units.kind[u],
      dLength: units.dStart[u + 1] - units.dStart[u],
      crc: units.param[u],
      file,
      offset,
    };
    decodeGzipUnit(task);
  } else {
    const data = bytes.subarray(units.cStart[u], units.cEnd[u]);
    const kind = units.kind[u];
    await decodeZstdUnit(zstdUnitTask({ data, expectedLength: units.dStart[u + 1] - units.dStart[u], kind, tableChecksum: tableChecksums(units)[u], crc: units.param[u], offset: units.cStart[u], file }));
  }
  return performance.now() - t;
}

interface RandomReads {
  /** Median wall time of a read, and of the decode of the unit it hit. */
  readMs: number;
  unitMs: number;
  /** Mean CPU time (every thread of this process) of a read, and of a unit decode: steadier on a loaded machine. */
  readCpuMs: number;
  unitCpuMs: number;
  /** Reads whose unit was decoded in this thread rather than a worker (`stats.inlineDecodes`). */
  inline: number;
  /** Reads served by a verified prefix of their span (`stats.prefixReads`; gzip spans with sub-span CRC-32s). */
  prefix: number;
}

const cpuMs = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1000;

/**
 * Median random read(offset, 100) with an empty cache, and the median decode of the unit each hits (the
 * whole unit, in memory: the baseline, whatever the read decodes). `prefixReads: false` makes gzip reads
 * decode whole spans, as before sub-span CRC-32s.
 */
async function randomReads(file: string, offsets: number[], prefixReads = true): Promise<RandomReads> {
  const reader = await openReader(file, { parallelism: 2, cacheBytes: 1, prefixReads });
  await warm(reader);
  const inlineBefore = reader.stats.inlineDecodes;
  const prefixBefore = reader.stats.prefixReads;
  const bytes = readFileSync(file);
  const reads: number[] = [];
  const units: number[] = [];
  let readCpu = 0;
  let unitCpu = 0;
  for (const offset of offsets) {
    let c = process.cpuUsage();
    let t = performance.now();
    await reader.read(offset, 100);
    reads.push(performance.now() - t);
    readCpu += cpuMs(process.cpuUsage(c));
    const u = reader.layout.unit[reader.chunkIndexAt(offset)];
    c = process.cpuUsage();
    t = await unitDecode(reader.units, bytes, u, file);
    unitCpu += cpuMs(process.cpuUsage(c));
    units.push(t);
  }
  const inline = reader.stats.inlineDecodes - inlineBefore;
  const prefix = reader.stats.prefixReads - prefixBefore;
  await reader.close();
  return { readMs: median(reads), unitMs: median(units), readCpuMs: readCpu / offsets.length, unitCpuMs: unitCpu / offsets.length, inline, prefix };
}

export async function benchFormats(csv: string, offsets: number[]): Promise<{ rows: Array<Array<string | number>>; result: Record<string, unknown> }> {
  const files = await makeFiles(csv);
  const size = statSync(csv).size;
  const mb = size / 1e6;
  const rows: Array<Array<string | number>> = [];
  const result: Record<string, unknown> = { loadavgBefore: loadavg() };
  const row = (format: string, what: string, t: Timing, base?: Timing): void => {
    const ratio = base === undefined ? '' : ` (${fmt(base.wall / t.wall, 2)}× wall, ${fmt(base.cpu / t.cpu, 2)}× CPU)`;
    rows.push([format, what, `${fmt(t.wall / 1000, 2)} s wall, ${fmt(t.cpu / 1000, 2)} s CPU`, `${fmt(mb / (t.wall / 1000))} MB/s${ratio}`]);
  };
  const gzipDc = await best(() => command(`gzip -dc ${files.gz}`));
  const pigzDc = await best(() => command(`pigz -dc ${files.gz}`));
  const zstdDcFrames = await best(() => command(`zstd -q -dc ${files.zstFrames}`));
  const zstdDcOne = await best(() => command(`zstd -q -dc ${files.zstOne}`));
  result.tools = { gzipDc, pigzDc, zstdDcFrames, zstdDcOne };

  // The index build: the chunk map from nothing (no index file), at parallelism 2.
  const build = async (file: string): Promise<Timing> =>
    best(() =>
      measure(async () => {
        const reader = await openReader(file, { index: false, parallelism: 2 });
        await reader.close();
      }),
    );
  const gzIndex = await build(files.gz);
  const bgzIndex = await build(files.bgz);
  // The record index pass over gzip -6 (decode + find line starts), once.
  const recordsPass = await measure(async () => {
    const f = await openIndexed(files.gz, { index: false, records: 'lines', parallelism: 2 });
    await f.close();
  });
  row('gzip -6', '`gzip -dc` (baseline)', gzipDc);
  row('gzip -6', '`pigz -dc`', pigzDc, gzipDc);
  row('gzip -6', 'index build: checkpoint pass, P=2', gzIndex, gzipDc);
  row('gzip -6', 'index build with the record index (lines), P=2', recordsPass, gzipDc);
  row('BGZF', 'index build: block headers only, P=2', bgzIndex, gzipDc);
  result.indexBuild = { gz: gzIndex, bgz: bgzIndex, gzRecords: recordsPass };

  // Indexes saved beside the files (1 MiB spacing), then sequential decodes and random reads through them.
  const indexBytes: Record<string, number> = {};
  for (const [name, file] of Object.entries(files)) {
    rmSync(`${file}.sdx`, { force: true });
    await (await openReader(file, { parallelism: 2 })).close();
    indexBytes[name] = statSync(`${file}.sdx`).size;
    // zstd in one frame: the record pass records the CRC-32 of every piece, so later reads verify pieces alone.
    if (name === 'zstOne') await (await openIndexed(file, { records: 'lines', parallelism: 2 })).close();
  }
  result.indexBytes = indexBytes;
  const seq: Record<string, Timing> = {};
  for (const [format, file, base, label] of [
    ['gzip -6', files.gz, gzipDc, '`gzip -dc`'],
    ['BGZF', files.bgz, gzipDc, '`gzip -dc`'],
    ['zstd 1 MiB frames', files.zstFrames, zstdDcFrames, '`zstd -dc`'],
    ['zstd one frame', files.zstOne, zstdDcOne, '`zstd -dc`'],
  ] as const) {
    const p1 = await best(() => sequential(file, 1));
    const p2 = await best(() => sequential(file, 2));
    seq[`${format} P=1`] = p1;
    seq[`${format} P=2`] = p2;
    if (format !== 'gzip -6') row(format, `${label} (baseline)`, base);
    row(format, `sequential decode, seekdata P=1 (vs ${label})`, p1, base);
    row(format, `sequential decode, seekdata P=2 (vs ${label})`, p2, base);
    if (format !== 'zstd one frame') {
      if (format !== 'zstd 1 MiB frames') row(format, 'sequential decode, seekdata P=2 (vs `pigz -dc`)', p2, pigzDc);
    }
  }
  result.sequential = seq;

  const random: Record<string, RandomReads> = {};
  for (const [format, file, prefixReads] of [
    ['gzip -6', files.gz, true],
    ['gzip -6, prefixReads: false', files.gz, false],
    ['BGZF', files.bgz, true],
    ['zstd 1 MiB frames', files.zstFrames, true],
  ] as const) {
    const r = await randomReads(file, offsets, prefixReads);
    random[format] = r;
    const how = r.prefix > 0 ? `; ${r.prefix} of ${offsets.length} by a verified prefix or, BGZF, the blocks holding the bytes` : '';
    rows.push([format, `random read(offset, 100), empty cache (median of ${offsets.length}${how})`, `${fmt(r.readMs, 2)} ms`, `${fmt(r.readMs / r.unitMs, 2)}× one unit decode (${fmt(r.unitMs, 2)} ms)`]);
    rows.push([
      format,
      `the same reads, CPU time per read (mean; ${r.inline} of ${offsets.length} decoded in the calling thread)`,
      `${fmt(r.readCpuMs, 2)} ms CPU`,
      `${fmt(r.readCpuMs / r.unitCpuMs, 2)}× one unit decode (${fmt(r.unitCpuMs, 2)} ms CPU)`,
    ]);
  }
  const one = await randomReads(files.zstOne, offsets.slice(0, 5));
  random['zstd one frame'] = one;
  rows.push(['zstd one frame', 'random read(offset, 100), empty cache (median of 5): decodes from the frame start', `${fmt(one.readMs, 0)} ms`, '']);
  result.random = random;
  for (const [name, format] of [
    ['gz', 'gzip -6'],
    ['bgz', 'BGZF'],
    ['zstFrames', 'zstd 1 MiB frames'],
    ['zstOne', 'zstd one frame'],
  ] as const) {
    rows.push([format, 'index file size', `${fmt(indexBytes[name] / 1e6, 2)} MB`, `${fmt((indexBytes[name] / size) * 100, 2)}% of the decompressed size`]);
  }
  result.loadavgAfter = loadavg();
  await closeSharedPool();
  return { rows, result };
}
