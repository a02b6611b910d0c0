/**
 * The fuzz harness: makes valid files of each format, mutates them, and runs every mutant through the
 * reference decoder (in a child process) and through seekdata (in a child process of ours, with a time
 * limit: a hang or a crash is seen, not suffered), then classifies the outcome (classify.ts).
 */
import { spawn, fork, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { hashInts, mulberry32 } from '../src/datasets/permutation.js';
import type { ReaderOptions } from '../src/index.js';
import { classify, type Reference } from './classify.js';
import { buildBase, FORMATS, type Base, type FuzzFormat } from './formats.js';
import { KINDS, mutate, type Kind } from './mutate.js';
import type { ChildMessage, ResultMessage, RunMessage } from './protocol.js';

export interface FuzzOptions {
  seed: number;
  /** Mutants per format. */
  mutants: number;
  formats?: string[] | undefined;
  /** Only these variants of each format (default: all). */
  variants?: string[] | undefined;
  kinds?: Kind[] | undefined;
  /** Run only this mutant id (a reproducer). */
  only?: number | undefined;
  /** Time limit per mutant, in ms. */
  timeLimitMs?: number | undefined;
  /** Every n-th mutant is read with parallelism 2 (the worker pool); the others inline. */
  poolEvery?: number | undefined;
  /** Where violating mutants are written. */
  outDir?: string | undefined;
  /** Reader options for every mutant (e.g. `{ verify: 'lazy' }` to see the harness catch unchecked bytes). */
  readerOptions?: Partial<ReaderOptions> | undefined;
  onMutant?: ((record: MutantRecord) => void) | undefined;
}

export interface MutantRecord {
  format: string;
  variant: string;
  kind: Kind;
  id: number;
  detail: string;
  parallelism: number;
  outcome: string;
  reads: string[];
  violations: string[];
  ms: number;
  /** Where the mutant file was kept (violations and reference-accepted rejections). */
  kept: string | undefined;
}

export interface FuzzReport {
  seed: number;
  records: MutantRecord[];
}

const READ_LENGTHS = [1, 100, 4096, 50_000];

function reference(argv: string[], file: string, accepts: number[]): Promise<Reference> {
  return new Promise((resolve) => {
    const [command, ...args] = argv;
    const child = spawn(command, [...args, file], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('close', (status) => resolve({ ok: status !== null && accepts.includes(status), out: Buffer.concat(out), stderr: Buffer.concat(err).toString() }));
  });
}

/** The seekdata child, restarted after a hang or a crash. */
class Child {
  private proc: ChildProcess | undefined;
  private waiting: ((message: ChildMessage | { type: 'exit'; code: number | null; signal: string | null }) => void) | undefined;

  private start(): ChildProcess {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const proc = fork(fileURLToPath(new URL('./worker.ts', import.meta.url)), [], { execArgv: ['--import', tsx], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    // Only the current child speaks: one killed after a hang may still say something on its way out.
    proc.on('message', (m: ChildMessage) => {
      if (this.proc === proc) this.waiting?.(m);
    });
    proc.on('exit', (code, signal) => {
      if (this.proc !== proc) return;
      this.proc = undefined;
      this.waiting?.({ type: 'exit', code, signal });
    });
    this.proc = proc;
    return proc;
  }

  run(message: RunMessage, timeLimitMs: number): Promise<{ result: ResultMessage } | { failure: string }> {
    const proc = this.proc ?? this.start();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        this.proc = undefined;
        proc.kill('SIGKILL');
        resolve({ failure: `hang: no answer within ${timeLimitMs} ms` });
      }, timeLimitMs);
      this.waiting = (m) => {
        clearTimeout(timer);
        this.waiting = undefined;
        if (m.type === 'result') resolve({ result: m.result });
        else if (m.type === 'fatal') {
          // The child is exiting: the next mutant gets a new one.
          if (this.proc === proc) this.proc = undefined;
          proc.kill('SIGKILL');
          resolve({ failure: `crash: ${m.message}` });
        }
        else resolve({ failure: `crash: the process exited (code ${m.code}, signal ${m.signal})` });
      };
      proc.send(message);
    });
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (proc === undefined) return;
    this.proc = undefined;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        resolve();
      }, 10_000);
      proc.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      proc.send('exit');
    });
  }
}

/**
 * Reads at random offsets of the original, some crossing units, one at the very end, and one where the
 * mutation roughly lands in the decoded data (`near`: a fraction of the file).
 */
function readRanges(rand: () => number, size: number, near: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  const length = Math.min(size, 4096);
  ranges.push([Math.max(0, Math.min(size - length, Math.floor(near * size) - 2048)), length]);
  for (let k = 0; k < 4; k++) {
    const length = Math.min(size, READ_LENGTHS[Math.floor(rand() * READ_LENGTHS.length)]);
    ranges.push([Math.floor(rand() * (size - length + 1)), length]);
  }
  ranges.push([Math.max(0, size - 50), Math.min(50, size)]);
  return ranges;
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const formats = FORMATS.filter((f) => options.formats === undefined || options.formats.includes(f.name));
  const kinds = options.kinds ?? [...KINDS];
  const timeLimitMs = options.timeLimitMs ?? 30_000;
  const poolEvery = options.poolEvery ?? 10;
  const work = mkdtempSync(join(tmpdir(), 'seekdata-fuzz-'));
  const child = new Child();
  const records: MutantRecord[] = [];
  try {
    for (const format of formats) {
      const bases: Base[] = [];
      for (const variant of format.variants) {
        if (options.variants === undefined || options.variants.includes(variant.name)) bases.push(await buildBase(format, variant));
      }
      if (bases.length === 0) continue;
      for (let id = 0; id < options.mutants; id++) {
        if (options.only !== undefined && id !== options.only) continue;
        records.push(await runMutant(format, bases, kinds, id, { ...options, timeLimitMs, poolEvery, work, child }));
        options.onMutant?.(records[records.length - 1]);
      }
    }
  } finally {
    await child.stop();
    rmSync(work, { recursive: true, force: true });
  }
  return { seed: options.seed, records };
}

async function runMutant(
  format: FuzzFormat,
  bases: Base[],
  kinds: readonly Kind[],
  id: number,
  options: FuzzOptions & { timeLimitMs: number; poolEvery: number; work: string; child: Child },
): Promise<MutantRecord> {
  const base = bases[id % bases.length];
  const kind = kinds[Math.floor(id / bases.length) % kinds.length];
  const formatIndex = FORMATS.indexOf(format);
  const rand = mulberry32(hashInts(options.seed, formatIndex, id));
  const mutant = mutate(base, kind, rand);
  const ranges = readRanges(rand, base.plain.length, mutant.at / Math.max(1, base.bytes.length));
  const file = join(options.work, `${format.name}-${id}${format.ext}`);
  writeFileSync(file, mutant.bytes);
  const parallelism = id % options.poolEvery === options.poolEvery - 1 ? 2 : 1;
  const started = performance.now();
  const message: RunMessage = { id, file, parallelism, reads: ranges, readerOptions: { ...base.readerOptions, ...options.readerOptions } };
  const [ref, ran] = await Promise.all([reference(format.reference, file, format.accepts ?? [0]), options.child.run(message, options.timeLimitMs)]);
  const ms = performance.now() - started;
  let verdict;
  if ('failure' in ran) {
    const what = ran.failure.startsWith('hang') ? 'hang' : 'crash';
    verdict = { outcome: `VIOLATION:${what}`, reads: [], violations: [ran.failure] };
  } else {
    verdict = classify(ref, base.plain, ran.result.cat, ran.result.reads, ranges, ran.result.warnings, base.unchecked);
  }
  let kept: string | undefined;
  if ((verdict.violations.length > 0 || verdict.outcome.startsWith('ref-accepts')) && options.outDir !== undefined) {
    mkdirSync(options.outDir, { recursive: true });
    kept = join(options.outDir, `seed${options.seed}-${format.name}-${id}${format.ext}`);
    copyFileSync(file, kept);
  }
  rmSync(file, { force: true });
  return { format: format.name, variant: base.variant, kind, id, detail: mutant.detail, parallelism, ...verdict, ms, kept };
}
