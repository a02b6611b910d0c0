/**
 * npm run fuzz -- [--mutants N] [--seed S] [--formats bzip2,xz] [--variants a,b] [--kinds bitflip,truncate] [--only ID]
 *                 [--time-limit-ms MS] [--pool-every N] [--out DIR] [--verify lazy] [--json FILE]
 *
 * Mutates valid .bz2 / .xz / .gz / .zst files made at run time and checks seekdata's `cat` and random reads of every
 * mutant against the reference decoder (see classify.ts for the rules). Prints counts per outcome for
 * each mutation kind and format, and every violation with its reproducer; exits 1 when there is one.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runFuzz, type MutantRecord } from './harness.js';
import { KINDS, type Kind } from './mutate.js';
import { summarize } from './report.js';

const { values } = parseArgs({
  options: {
    mutants: { type: 'string', default: '2000' },
    seed: { type: 'string', default: '1' },
    formats: { type: 'string' },
    variants: { type: 'string' },
    kinds: { type: 'string' },
    only: { type: 'string' },
    'time-limit-ms': { type: 'string', default: '30000' },
    'pool-every': { type: 'string', default: '10' },
    out: { type: 'string', default: 'fuzz-out' },
    verify: { type: 'string' },
    json: { type: 'string' },
  },
});

function int(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${text}`);
  return n;
}

const kinds = values.kinds?.split(',').map((k) => {
  if (!(KINDS as readonly string[]).includes(k)) throw new Error(`--kinds: unknown kind ${k} (known: ${KINDS.join(', ')})`);
  return k as Kind;
});
const verify = values.verify;
if (verify !== undefined && verify !== 'full' && verify !== 'lazy') throw new Error('--verify must be full or lazy');
const seed = int('seed', values.seed) ?? 1;
const mutants = int('mutants', values.mutants) ?? 2000;
const started = performance.now();
let done = 0;
const violations: MutantRecord[] = [];
const report = await runFuzz({
  seed,
  mutants,
  formats: values.formats?.split(','),
  variants: values.variants?.split(','),
  kinds,
  only: int('only', values.only),
  timeLimitMs: int('time-limit-ms', values['time-limit-ms']),
  poolEvery: int('pool-every', values['pool-every']),
  outDir: values.out,
  readerOptions: verify === undefined ? undefined : { verify },
  onMutant: (record) => {
    done++;
    if (record.violations.length > 0) {
      violations.push(record);
      console.log(`VIOLATION ${record.format} #${record.id} (${record.variant}, ${record.kind}: ${record.detail}, parallelism ${record.parallelism}): ${record.violations.join('; ')}`);
      const filters = `${values.variants === undefined ? '' : ` --variants ${values.variants}`}${values.kinds === undefined ? '' : ` --kinds ${values.kinds}`}${verify === undefined ? '' : ` --verify ${verify}`}`;
      console.log(`  mutant: ${record.kept ?? '(not kept)'}; reproduce: npm run fuzz -- --seed ${seed} --formats ${record.format}${filters} --mutants ${record.id + 1} --only ${record.id}`);
    }
    if (done % 500 === 0) console.log(`${done} mutants, ${((performance.now() - started) / 1000).toFixed(0)} s`);
  },
});
const seconds = (performance.now() - started) / 1000;
console.log(`\nseekdata fuzz: seed ${seed}, ${mutants} mutants per format, ${seconds.toFixed(0)} s${verify === undefined ? '' : `, verify ${verify}`}\n`);
console.log(summarize(report.records));
if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(report, null, 1));
console.log(violations.length === 0 ? 'no violations' : `${violations.length} mutants with violations`);
process.exitCode = violations.length === 0 ? 0 : 1;
