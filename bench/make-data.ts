/**
 * Generates a synthetic time-series CSV (timestamped numeric features and a learnable class label) and
 * compresses it as .bz2 (bzip2 default level) and multi-block .xz (1 MiB blocks), for benchmarks.
 *
 *   npm run make-data -- [--mb 100] [--out bench/data] [--name synth]
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { mulberry32 } from '../src/datasets/permutation.js';

export interface MakeDataOptions {
  /** Approximate size of the CSV in MB (10^6 bytes). */
  mb: number;
  /** Output directory. */
  out: string;
  /** Base file name (without extension). */
  name: string;
  /** PRNG seed. */
  seed: number;
}

export const SYNTH_HEADER = 'time,sensor,f0,f1,f2,f3,f4,f5,f6,f7,label';

/** Writes the CSV; returns its path and row count. */
export async function writeSyntheticCsv(options: MakeDataOptions): Promise<{ path: string; rows: number }> {
  mkdirSync(options.out, { recursive: true });
  const path = join(options.out, `${options.name}.csv`);
  const out = createWriteStream(path);
  const rand = mulberry32(options.seed);
  const target = options.mb * 1e6;
  let written = 0;
  let rows = 0;
  let t = Date.UTC(2024, 0, 1);
  const walk = new Float64Array(8);
  out.write(SYNTH_HEADER + '\n');
  written += SYNTH_HEADER.length + 1;
  let batch: string[] = [];
  while (written < target) {
    t += 500 + Math.floor(rand() * 1000);
    const sensor = 'abcdefgh'[Math.floor(rand() * 8)];
    const fields: string[] = [new Date(t).toISOString(), sensor];
    for (let k = 0; k < 8; k++) {
      walk[k] = walk[k] * 0.98 + (rand() - 0.5);
      fields.push(walk[k].toFixed(4));
    }
    const score = walk[0] + 0.5 * walk[1] - walk[2];
    fields.push(score < -0.5 ? '0' : score < 0.5 ? '1' : '2');
    const line = fields.join(',') + '\n';
    batch.push(line);
    written += line.length;
    rows++;
    if (batch.length >= 4096) {
      if (!out.write(batch.join(''))) await once(out, 'drain');
      batch = [];
    }
  }
  out.write(batch.join(''));
  out.end();
  await once(out, 'finish');
  return { path, rows };
}

function compress(path: string): void {
  const bz = spawnSync('sh', ['-c', `bzip2 -k -f -c "${path}" > "${path}.bz2"`], { stdio: 'inherit' });
  if (bz.status !== 0) throw new Error('bzip2 failed');
  const xz = spawnSync('sh', ['-c', `xz -k -f -c -T2 --block-size=1MiB "${path}" > "${path}.xz"`], { stdio: 'inherit' });
  if (xz.status !== 0) throw new Error('xz failed');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const get = (flag: string, fallback: string): string => {
    const i = args.indexOf(flag);
    return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
  };
  const options: MakeDataOptions = {
    mb: Number(get('--mb', '100')),
    out: get('--out', 'bench/data'),
    name: get('--name', 'synth'),
    seed: Number(get('--seed', '42')),
  };
  const csv = join(options.out, `${options.name}.csv`);
  if (existsSync(`${csv}.xz`) && existsSync(`${csv}.bz2`) && Math.abs(statSync(csv).size - options.mb * 1e6) < 1e6) {
    console.log(`${csv}(.bz2|.xz) already exist`);
    return;
  }
  const { path, rows } = await writeSyntheticCsv(options);
  console.log(`wrote ${path}: ${rows} rows, ${(statSync(path).size / 1e6).toFixed(1)} MB; compressing...`);
  compress(path);
  for (const ext of ['.bz2', '.xz']) console.log(`${path}${ext}: ${(statSync(path + ext).size / 1e6).toFixed(1)} MB`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
