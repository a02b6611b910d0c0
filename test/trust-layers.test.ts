/**
 * Layers only point down (ARCHITECTURE.md), enforced by ESLint's `no-restricted-imports` per folder
 * (eslint.config.js). These cases lint snippets as if they were files of each layer, so the rule is shown
 * to reject a deliberate upward import (and to allow the downward ones and the composition roots), and
 * the whole source tree is linted for the rule.
 */
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

const RULE = '@typescript-eslint/no-restricted-imports';
const eslint = new ESLint({ cwd: new URL('..', import.meta.url).pathname });

/** The messages of the layer rule for `code` linted as the file `path`. */
async function layerErrors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport const used = [x];\n`, { filePath: path });
  return result.messages.filter((m) => m.ruleId === RULE).map((m) => m.message);
}

describe('layers only point down (lint rule)', () => {
  it.each([
    ['src/readers/chunks.ts', "import { analyzeStep as x } from '../index/steps.js';"],
    ['src/readers/bzip2/format.ts', "import { parseStep as x } from '../../datasets/steps.js';"],
    ['src/readers/scan.ts', "import type { ChunkAnalysis as x } from '../index/records/analyze.js';"],
    ['src/readers/reader.ts', "import { openReader as x } from '../index.js';"],
    ['src/sources/source.ts', "import { formatOf as x } from '../readers/formats.js';"],
    ['src/sources/http-source.ts', "import { openIndexed as x } from '../index/open-indexed.js';"],
    ['src/workers/jobs.ts', "import { formatOf as x } from '../readers/formats.js';"],
    ['src/workers/pool.ts', "import { parseChunk as x } from '../datasets/steps.js';"],
    ['src/index/records/first-chunk.ts', "import { parseRecords as x } from '../../datasets/parse.js';"],
    ['src/index/open-reader.ts', "import { runCli as x } from '../cli/main.js';"],
    ['src/datasets/rows.ts', "import { runCli as x } from '../cli/main.js';"],
    ['src/options.ts', "import { formatOf as x } from './readers/formats.js';"],
  ])('%s: %s is rejected', async (path, code) => {
    const errors = await layerErrors(path, code);
    expect(errors).toHaveLength(1);
  });

  it.each([
    ['src/readers/chunks.ts', "import { runStep as x } from '../workers/registry.js';"],
    ['src/readers/xz/format.ts', "import { postable as x } from '../post.js';"],
    ['src/index/records/first-chunk.ts', "import { ChunkDecoder as x } from '../../readers/chunks.js';"],
    ['src/datasets/rows.ts', "import type { IndexedFile as x } from '../index/indexed-file.js';"],
    ['src/workers/worker.ts', "import '../index/steps.js';\nimport { parseStep as x } from '../datasets/steps.js';"],
    ['src/index.ts', "export { runCli as x } from './cli/main.js';"],
    ['src/cli/main.ts', "import { openIndexed as x } from '../index.js';"],
    ['src/option-keys.ts', "import type { ShuffledBatchOptions as x } from './datasets/shuffled.js';"],
  ])('%s: %s is allowed', async (path, code) => {
    expect(await layerErrors(path, code)).toEqual([]);
  });

  it('the source tree follows the rule', async () => {
    const results = await eslint.lintFiles(['src/**/*.ts']);
    const upward = results.flatMap((r) => r.messages.filter((m) => m.ruleId === RULE).map((m) => `${r.filePath}:${m.line}: ${m.message}`));
    expect(upward).toEqual([]);
    // The rule is configured for every layer folder (a typo in eslint.config.js would silently drop one).
    for (const path of ['src/sources/source.ts', 'src/workers/pool.ts', 'src/readers/reader.ts', 'src/index/store.ts', 'src/datasets/rows.ts']) {
      const config = (await eslint.calculateConfigForFile(path)) as { rules?: Record<string, unknown> };
      expect(config.rules?.[RULE], path).toBeDefined();
    }
  }, 120_000);
});
