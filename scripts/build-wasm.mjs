// Builds the WebAssembly CSV scanner (wasm/csv-scan.ts, AssemblyScript) into
// src/index/records/csv-wasm/scan.wasm, and copies it to dist/ when dist/ was built. Run by `npm run build`
// (and so by `prepare`); `--if-missing` (pretest, prestart) builds only when scan.wasm is absent or older
// than its source. Without the assemblyscript devDependency (an installed package) there is nothing to
// build: seekdata then scans CSV with its JS scanner, which gives the same results.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'wasm', 'csv-scan.ts');
const out = join(root, 'src', 'index', 'records', 'csv-wasm', 'scan.wasm');
const dist = join(root, 'dist', 'index', 'records', 'csv-wasm');

const fresh = existsSync(out) && statSync(out).mtimeMs >= statSync(source).mtimeMs;
if (!(process.argv.includes('--if-missing') && fresh)) {
  let asc;
  try {
    asc = join(dirname(createRequire(import.meta.url).resolve('assemblyscript/package.json')), 'bin', 'asc.js');
  } catch {
    process.stderr.write('build-wasm: assemblyscript is not installed; the CSV scanner stays JS-only\n');
    process.exit(0);
  }
  execFileSync(process.execPath, [asc, source, '-O3', '--runtime', 'stub', '--noAssert', '--initialMemory', '1', '-o', out], { stdio: 'inherit' });
}
if (existsSync(out) && existsSync(join(root, 'dist'))) {
  mkdirSync(dist, { recursive: true });
  copyFileSync(out, join(dist, 'scan.wasm'));
}
