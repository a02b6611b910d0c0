// Builds seekdata's WebAssembly modules from their AssemblyScript sources: the CSV scanner (wasm/csv-scan.ts)
// into src/index/records/csv-wasm/scan.wasm, the bzip2 block decoder (wasm/bzip2-block.ts) into
// src/readers/bzip2/block.wasm and the bzip2 magic search (wasm/bzip2-magic.ts) into
// src/readers/bzip2/magic.wasm, and copies them to dist/ when dist/ was built. Run by `npm run build` (and so
// by `prepare`); `--if-missing` (pretest, prestart) builds only a module that is absent or older than one of
// its sources. Without the assemblyscript devDependency (an installed package) there is nothing to build: seekdata
// then scans CSV with its JS scanner (the same results), decodes bzip2 with libbzip2 (WebAssembly) and searches
// bzip2 magics with its JS search (the same hits).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const modules = [
  // The CSV scanner adds two columns' statistics at once in 2-double vectors (WebAssembly SIMD, in every Node.js
  // seekdata supports).
  { source: 'wasm/csv-scan.ts', imports: ['wasm/csv-stats.ts'], out: 'index/records/csv-wasm/scan.wasm', flags: ['--enable', 'simd'] },
  { source: 'wasm/bzip2-block.ts', imports: ['wasm/bzip2-bwt.ts', 'wasm/bzip2-layout.ts'], out: 'readers/bzip2/block.wasm', flags: [] },
  // The magic search classifies 16 bytes at a time (i8x16.swizzle); a module of its own, so the block decoder is
  // built as before.
  { source: 'wasm/bzip2-magic.ts', imports: [], out: 'readers/bzip2/magic.wasm', flags: ['--enable', 'simd'] },
];

let asc;
for (const { source, imports, out, flags } of modules) {
  const from = join(root, source);
  const to = join(root, 'src', out);
  const fresh = existsSync(to) && [source, ...imports].every((file) => statSync(to).mtimeMs >= statSync(join(root, file)).mtimeMs);
  if (!(process.argv.includes('--if-missing') && fresh)) {
    if (asc === undefined) {
      try {
        asc = join(dirname(createRequire(import.meta.url).resolve('assemblyscript/package.json')), 'bin', 'asc.js');
      } catch {
        process.stderr.write('build-wasm: assemblyscript is not installed; the CSV scanner stays JS-only and bzip2 is decoded by libbzip2\n');
        process.exit(0);
      }
    }
    execFileSync(process.execPath, [asc, from, '-O3', '--runtime', 'stub', '--noAssert', '--initialMemory', '1', ...flags, '-o', to], { stdio: 'inherit' });
  }
  if (existsSync(to) && existsSync(join(root, 'dist'))) {
    mkdirSync(dirname(join(root, 'dist', out)), { recursive: true });
    copyFileSync(to, join(root, 'dist', out));
  }
}
