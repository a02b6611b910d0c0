#!/usr/bin/env node
/**
 * The `seekdata` command (`npx seekdata ...`). It runs the built CLI, dist/cli/main.js, which `npm
 * install` makes (the `prepare` script runs `npm run build`). In a clone whose build is missing or older
 * than its sources — installed with --ignore-scripts, a failed build, sources edited or checked out since —
 * it runs the TypeScript sources through tsx (a dev dependency) instead, so that `npx seekdata` runs the
 * code in front of you. An installed package has no sources: it always runs its build.
 */
/* global process */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const built = join(root, 'dist', 'cli', 'main.js');
const source = join(root, 'src', 'cli', 'main.ts');

/** The newest modification time of the .ts files under `dir`. */
function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

async function main() {
  const fromClone = existsSync(source);
  if (existsSync(built) && (!fromClone || statSync(built).mtimeMs >= newestSource(join(root, 'src')))) {
    const { runMain } = await import(pathToFileURL(built).href);
    return runMain();
  }
  if (!fromClone) {
    process.stderr.write(`seekdata: ${built} is missing: reinstall seekdata\n`);
    process.exitCode = 1;
    return;
  }
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write('seekdata: the build (dist/) is missing or older than src/, and tsx is not installed to run the sources: run `npm install` (or `npm run build`)\n');
    process.exitCode = 1;
    return;
  }
  register();
  const { runMain } = await import(pathToFileURL(source).href);
  return runMain();
}

await main();
