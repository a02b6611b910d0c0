/**
 * `SEEDS=1,2 CASES=20000 npx tsx bench/bzip2-fuzz.ts` — a differential fuzz of seekdata's WebAssembly bzip2
 * block decoder (wasm/bzip2-block.ts) against the JS decoder (src/readers/bzip2/decoder.ts). Each case damages
 * a bzip2 file (bit flips, byte changes, cuts, runs of 0x00 / 0xff, random bytes, bytes copied from elsewhere in
 * the file; one to three at once, many in the first block's header and tables) and decodes its first block
 * with both. The module must decode exactly when the JS decoder does, to the same bytes, end bit and CRC, and
 * must never trap (a trap throws here, and ends the run). Files: text at levels 1, 2 and 5, incompressible
 * bytes, long runs. Prints the tally of (JS verdict / module status) per seed; exits 1 at the first
 * disagreement, naming the seed and case.
 * test/decoders-bzip2-block-wasm.test.ts runs 400 cases of one seed in `npm test`.
 */
import { execFileSync } from 'node:child_process';
import { decodeBzip2Block } from '../src/readers/bzip2/block.js';
import { decodeInModule, loadBzip2Block } from '../src/readers/bzip2/block-wasm.js';
import { prng } from './common.js';

const seeds = (process.env.SEEDS ?? '1').split(',').map(Number);
const cases = Number(process.env.CASES ?? 5000);
const module = loadBzip2Block();

/** The files damaged, made from seed-dependent content by the bzip2 command. */
function files(random: () => number): Uint8Array[] {
  const words = ['alpha', 'beta', '2024-01-01T00:00:00Z', '3.14159', ',', '\n', 'x'.repeat(30), '"quoted, text"'];
  const out: Uint8Array[] = [];
  for (const level of [1, 2, 5]) {
    let text = '';
    while (text.length < 60_000 * level) text += words[Math.floor(random() * words.length)] + (random() < 0.3 ? ',' : '');
    out.push(new Uint8Array(execFileSync('bzip2', ['-c', `-${level}`], { input: Buffer.from(text) })));
  }
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
  out.push(new Uint8Array(execFileSync('bzip2', ['-c', '-1'], { input: bytes(150_000) })));
  out.push(new Uint8Array(execFileSync('bzip2', ['-c', '-1'], { input: Buffer.concat([Buffer.alloc(200_000, 7), bytes(100), Buffer.alloc(100_000, 9)]) })));
  return out;
}

function damage(file: Uint8Array, random: () => number): Uint8Array {
  let data = file.slice();
  for (let k = 1 + Math.floor(random() * 3); k > 0; k--) {
    const at = Math.min(data.length - 1, 4 + Math.floor(random() * (random() < 0.4 ? 300 : data.length - 4)));
    const room = data.length - at;
    const kind = Math.floor(random() * 6);
    if (kind === 0) data[at] ^= 1 << Math.floor(random() * 8);
    else if (kind === 1) data[at] = Math.floor(random() * 256);
    else if (kind === 2) data = data.slice(0, at);
    else if (kind === 3) data.fill(random() < 0.5 ? 0 : 255, at, at + 1 + Math.floor(random() * 64));
    else if (kind === 4) data.set(Uint8Array.from({ length: Math.min(room, 1 + Math.floor(random() * 200)) }, () => Math.floor(random() * 256)), at);
    else {
      const from = 4 + Math.floor(random() * (file.length - 4));
      data.set(file.subarray(from, from + Math.min(room, 50)), at);
    }
  }
  return data;
}

for (const seed of seeds) {
  const random = prng(seed);
  const inputs = files(random);
  const tally: Record<string, number> = {};
  for (let c = 0; c < cases; c++) {
    const file = inputs[c % inputs.length];
    const level = file[3] - 0x30;
    const data = damage(file, random);
    // The module's raw status for the block at bit 32 (no fallback to the JS decoder).
    const status = decodeInModule(module, data.subarray(4), 0, level);
    let js: { bytes: Uint8Array; endBit: number; crc: number } | undefined;
    let verdict = 'decoded';
    try {
      js = decodeBzip2Block({ data, bitOffset: 32, level, base: 0, atEnd: true, file: 'fuzz.bz2' });
    } catch (error) {
      verdict = (error as { code?: string }).code ?? 'thrown';
    }
    const key = `${verdict} / ${status}`;
    tally[key] = (tally[key] ?? 0) + 1;
    const fail = (why: string): never => {
      process.stderr.write(`seed ${seed} case ${c}: ${why} (JS ${verdict}, module status ${status})\n`);
      process.exit(1);
    };
    if ((js !== undefined) !== (status === 0)) fail('the decoders disagree on whether the block decodes');
    if (js !== undefined) {
      const out = new Uint8Array(module.memory.buffer, module.getOutAt(), module.getOutLength());
      if (!Buffer.from(out).equals(js.bytes) || 32 + module.getEndBit() !== js.endBit || module.getCrc() >>> 0 !== js.crc) fail('different bytes, end or CRC');
    }
  }
  console.log(`seed ${seed}: ${cases} cases, all agree: ${JSON.stringify(tally)}`);
}
