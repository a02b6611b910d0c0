/**
 * A small fixed-seed run of the fuzz harness (`npm run fuzz` runs the large one): every mutant of every
 * format ends in the reference's bytes or a typed error naming the file. And the harness itself can fail:
 * reading with `verify: 'lazy'` (bytes before the block check) is caught as a violation.
 */
import { describe, expect, it } from 'vitest';
import { runFuzz } from '../fuzz/harness.js';

describe('fuzz harness (smoke run)', () => {
  it('seed 8: no violations over every mutation kind of every format variant', async () => {
    const report = await runFuzz({ seed: 8, mutants: 21, poolEvery: 7, timeLimitMs: 60_000 });
    const violations = report.records.filter((r) => r.violations.length > 0);
    expect(violations.map((r) => `${r.format} #${r.id} ${r.kind} ${r.detail}: ${r.violations.join('; ')}`)).toEqual([]);
    // 21 mutants of each of bzip2, xz, gzip and zstd.
    expect(report.records).toHaveLength(84);
    expect(new Set(report.records.map((r) => r.format))).toEqual(new Set(['bzip2', 'xz', 'gzip', 'zstd']));
    const outcomes = new Set(report.records.map((r) => r.outcome.split('+').pop()));
    expect(outcomes).toContain('typed:CORRUPT_DATA');
    expect(outcomes).toContain('typed:TRUNCATED');
    const reads = report.records.flatMap((r) => r.reads);
    expect(reads.filter((r) => r === 'exact').length).toBeGreaterThan(10);
    expect(report.records.some((r) => r.parallelism === 2)).toBe(true);
  });

  it("catches bytes handed out before the block check (verify: 'lazy'), and none with the default", async () => {
    const options = { seed: 1, mutants: 6, formats: ['xz'], variants: ['incompressible'], kinds: ['zero' as const], timeLimitMs: 60_000 };
    const lazy = await runFuzz({ ...options, readerOptions: { verify: 'lazy' } });
    expect(lazy.records.filter((r) => r.violations.some((v) => /reference's output of a file it rejects/.test(v))).length).toBeGreaterThan(0);
    const full = await runFuzz(options);
    expect(full.records.filter((r) => r.violations.length > 0)).toEqual([]);
  });
});
