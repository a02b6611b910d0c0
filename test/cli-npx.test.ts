/**
 * `npx seekdata` from a clone (issue 11 §3): package.json's bin is bin/seekdata.js, which runs the build
 * (dist/cli/main.js) when it is there and not older than src/, and the sources through tsx otherwise; an
 * installed package without its build says so. The layouts are made in temp directories with a copy of
 * the real bin script.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, runProcess } from './support/process.js';
import { tempDir } from './support/fixtures.js';

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string>; files: string[]; scripts: Record<string, string> };
const tmp = tempDir('seekdata-npx-');
afterAll(() => tmp.cleanup());

/** A package layout with the real bin script, and a dist and/or src whose runMain says which ran. */
function layout(name: string, parts: { dist?: number; src?: number; tsx?: boolean }): string {
  const root = join(tmp.dir, name);
  mkdirSync(join(root, 'bin'), { recursive: true });
  copyFileSync(join(repoRoot, 'bin/seekdata.js'), join(root, 'bin/seekdata.js'));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'seekdata', type: 'module' }));
  if (parts.dist !== undefined) {
    mkdirSync(join(root, 'dist/cli'), { recursive: true });
    const file = join(root, 'dist/cli/main.js');
    writeFileSync(file, 'export async function runMain() { process.stdout.write(`dist ${process.argv.slice(2).join(" ")}\\n`); }\n');
    utimesSync(file, parts.dist, parts.dist);
  }
  if (parts.src !== undefined) {
    mkdirSync(join(root, 'src/cli'), { recursive: true });
    const file = join(root, 'src/cli/main.ts');
    writeFileSync(file, 'export async function runMain(): Promise<void> { const ran: string = "src"; process.stdout.write(`${ran} ${process.argv.slice(2).join(" ")}\\n`); }\n');
    utimesSync(file, parts.src, parts.src);
  }
  if (parts.tsx === true) symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
  return join(root, 'bin/seekdata.js');
}

describe('npx seekdata', () => {
  it('package.json: bin is bin/seekdata.js, shipped, built by prepare', () => {
    expect(pkg.bin).toEqual({ seekdata: 'bin/seekdata.js' });
    expect(pkg.files).toEqual(expect.arrayContaining(['bin', 'dist']));
    expect(pkg.scripts.prepare).toBe('npm run build');
  });

  it('`npx seekdata --version` runs from this clone', async () => {
    const out = await runProcess('npx', ['--offline', 'seekdata', '--version']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout.toString()).toBe(`${pkg.version}\n`);
  });

  it('runs the build when it is newer than the sources, the sources when the build is missing or older', async () => {
    const old = new Date('2024-01-01T00:00:00Z').getTime() / 1000;
    const recent = old + 3600;
    for (const [name, parts, ran] of [
      ['fresh-build', { dist: recent, src: old, tsx: true }, 'dist'],
      ['stale-build', { dist: old, src: recent, tsx: true }, 'src'],
      ['no-build', { src: recent, tsx: true }, 'src'],
      ['installed', { dist: old }, 'dist'],
    ] as const) {
      const out = await runProcess(process.execPath, [layout(name, parts), 'info', 'x.csv']);
      expect(out.code, `${name}: ${out.stderr}`).toBe(0);
      expect(out.stdout.toString(), name).toBe(`${ran} info x.csv\n`);
    }
  });

  it('says what to do when neither can run', async () => {
    const missing = await runProcess(process.execPath, [layout('broken-install', {}), '--version']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^seekdata: .*dist\/cli\/main\.js is missing: reinstall seekdata\n$/);
    const noTsx = await runProcess(process.execPath, [layout('no-tsx', { src: 0 }), '--version']);
    expect(noTsx.code).toBe(1);
    expect(noTsx.stderr).toBe('seekdata: the build (dist/) is missing or older than src/, and tsx is not installed to run the sources: run `npm install` (or `npm run build`)\n');
  });
});
