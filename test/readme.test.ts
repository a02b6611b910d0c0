/**
 * The README's TypeScript examples, extracted and run as users would run them (with 'seekdata'
 * resolving to this repository's sources), so the front door stays true to the code. They run as
 * written: nothing is handed to them but a cache directory (the HTTP example starts its own server).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './support/fixtures.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = join(root, 'test', '.readme');
const blocks = [...readFileSync(join(root, 'README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
const cache = tempDir('seekdata-readme-cache-');

beforeAll(() => {
  mkdirSync(dir, { recursive: true });
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  cache.cleanup();
});

describe('README examples', () => {
  it('has an example per capability', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(7);
  });

  it.each(blocks.map((code, i) => [i, code.split('\n').find((l) => l.includes('from \'seekdata\'')) ?? '', code] as const))('example %i runs (%s)', async (i, _imports, code) => {
    const file = join(dir, `example-${i}.ts`);
    writeFileSync(file, code.replace(/from 'seekdata'/g, `from ${JSON.stringify(join(root, 'src/index.ts'))}`));
    // Asynchronously: a blocking spawnSync would stall this test file's event loop (see support/process.ts).
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      env: { ...process.env, SEEKDATA_CACHE_DIR: cache.dir },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const status = await new Promise<number | null>((ok) => child.on('close', ok));
    expect(status, `${stdout}\n${stderr}`).toBe(0);
    expect(stdout.length).toBeGreaterThan(0);
  });
});
