import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Test files run in separate processes, this many at once: two on a 2-core machine (one per core, at most 4
// elsewhere). A file keeps every core busy only part of its time: importing the sources (~1 s of one core
// per file), child processes, servers and timers leave cores idle that a second file fills. Measured on
// 2 cores, 2026-12-03 (124 files): one at a time 698 s, two at a time 469 s; beside a busy loop, 910 s
// and 595 s, every test passing in each run.
const files = Math.min(4, Math.max(2, availableParallelism()));

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    poolOptions: { forks: { minForks: 1, maxForks: files } },
    fileParallelism: true,
    // Limits that catch a hang, not a slow machine: on a 2-core machine shared with other heavy work the
    // slowest test (random reads of a bzip2 file) took over 120 s. No test relies on them for its verdict.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // No plain progress lines off a terminal (every 5 s by default): how long a command runs on a loaded
    // machine must not change what it writes to stderr. The progress tests turn them on themselves.
    env: { SEEKDATA_PROGRESS_SECONDS: '0' },
  },
});
