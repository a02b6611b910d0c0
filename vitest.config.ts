import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Test files run in separate processes, this many at once. Each file already keeps every core busy
// (seekdata's worker pool has a thread per core, and some tests start child processes), so more files at
// once than half the cores only adds contention and stretches each test: on a 2-core machine files run
// one at a time (vitest's own default would be cores - 1, unbounded on big machines).
const files = Math.max(1, Math.min(4, Math.floor(availableParallelism() / 2)));

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    poolOptions: { forks: { minForks: 1, maxForks: files } },
    fileParallelism: files > 1,
    // Limits that catch a hang, not a slow machine: on a 2-core machine shared with other heavy work the
    // slowest test (random reads of a bzip2 file) took over 120 s. No test relies on them for its verdict.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // No plain progress lines off a terminal (every 5 s by default): how long a command runs on a loaded
    // machine must not change what it writes to stderr. The progress tests turn them on themselves.
    env: { SEEKDATA_PROGRESS_SECONDS: '0' },
  },
});
