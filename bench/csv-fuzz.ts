/**
 * The differential fuzzer of the CSV scanners (test/support/csv-fuzz.ts) run for a while: the WebAssembly
 * scanner against the JS one, and the JS one against the general path, on adversarial chunks.
 * `SEEDS=1,2,3 CASES=20000 npx tsx bench/csv-fuzz.ts` (after `npm run build:wasm`); a failing case is
 * written to $OUT (default /tmp) as seed-case.json.
 */
import { writeFileSync } from 'node:fs';
import { mulberry32 as prng } from '../src/datasets/permutation.js';
import { fuzzCase, runCase } from '../test/support/csv-fuzz.js';

const seeds = (process.env.SEEDS ?? '1').split(',').map(Number);
const cases = Number(process.env.CASES ?? 2000);
const out = process.env.OUT ?? '/tmp';
let chunks = 0;
let records = 0;
let failures = 0;
let pass = 1_000_000;
for (const seed of seeds) {
  const rand = prng(seed);
  for (let k = 0; k < cases; k++) {
    const c = fuzzCase(rand, pass);
    chunks += c.chunks.length;
    records += c.records;
    const found = runCase(c, pass++, pass++);
    if (found.length > 0) {
      failures++;
      if (failures <= 30) console.log(`seed ${seed} case ${k}:\n  ${found.join('\n  ')}`);
      writeFileSync(`${out}/fuzz-${seed}-${k}.json`, JSON.stringify(c.chunks.map(({ bytes, spec }) => ({ bytes: Buffer.from(bytes).toString('latin1'), spec: { ...spec, statMask: spec.statMask && [...spec.statMask] } }))));
    }
  }
  console.log(`seed ${seed}: ${cases} cases, total ${chunks} chunks, ${records} records, ${failures} failing cases`);
}
