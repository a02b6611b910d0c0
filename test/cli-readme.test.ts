/**
 * The README's CLI examples: every `npx seekdata …` line of the CLI section's ```sh blocks runs (in this
 * process, in order, from the repository root) and succeeds, and the output shown after the `stats`
 * example is what the command prints.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeSharedPool } from '../src/index.js';
import { cli } from './support/cli.js';
import { repoRoot } from './support/process.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('\n## CLI\n'), readme.indexOf('\n## ', readme.indexOf('\n## CLI\n') + 1));
const commands = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1].split('\n').filter((l) => l.startsWith('npx seekdata ')));
afterAll(async () => closeSharedPool());

describe('README CLI examples', () => {
  it('has examples, written as npx seekdata', () => {
    expect(commands.length).toBeGreaterThanOrEqual(5);
    expect(section).not.toMatch(/^npm run seekdata/m);
  });

  it('each runs and succeeds, in order; stats prints what the README shows', async () => {
    const cwd = process.cwd();
    process.chdir(repoRoot);
    try {
      for (const line of commands) {
        const args = line.slice('npx seekdata '.length).split(/\s+/).filter((a) => a !== '');
        const out = await cli(...args);
        expect(out.code, `${line}\n${out.stderr}`).toBe(0);
        expect(out.stdout.length, line).toBeGreaterThan(0);
        if (line === 'npx seekdata stats data/weather.csv.bz2') {
          const shown = /npx seekdata stats data\/weather\.csv\.bz2\n```\n\n```\n([\s\S]*?)```/.exec(section)?.[1];
          expect(shown, 'the output block after the stats example').toBeDefined();
          expect(out.stdout.toString()).toBe(shown);
        }
      }
    } finally {
      process.chdir(cwd);
    }
  });
});
