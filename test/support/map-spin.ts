/**
 * Watching timed map calls that spin (test/trust-map-timeout-leave*.test.ts): the fixture modules write a
 * heartbeat file (`heart`, written whole and renamed) every 20 ms while a call spins. `bound`: how long a
 * stop, a break or a close may take on a loaded machine before the test fails.
 */
import { existsSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { watchedMapJobs } from '../../src/datasets/map-clock.js';

export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface SpinWatch {
  /** The heartbeat now ('' when no call has beaten since the file was removed). */
  beat(): string;
  /** `work`, failing the test after `bound` ms (a close, break or batch waiting on a call that spins for ever). */
  within<T>(work: Promise<T>, what: string, bound?: number): Promise<T>;
  /** Waits until a call spins (its heart beats). */
  spinning(): Promise<void>;
  /**
   * Waits until no timed job is in flight and no call beats (checked over 700 ms), failing after `bound`: a
   * call left spinning until its limit keeps its job watched and its heart beating. Returns the ms it took.
   */
  allStopped(what: string): Promise<number>;
}

export function spinWatch(heart: string, bound: number): SpinWatch {
  const beat = (): string => (existsSync(heart) ? readFileSync(heart, 'utf8') : '');
  return {
    beat,
    within<T>(work: Promise<T>, what: string, limit = bound): Promise<T> {
      let timer: ReturnType<typeof setTimeout> | undefined;
      return Promise.race([
        work.finally(() => clearTimeout(timer)),
        new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${limit} ms`)), limit))),
      ]);
    },
    async spinning(): Promise<void> {
      for (let k = 0; k < bound / 20 && !existsSync(heart); k++) await pause(20);
      expect(existsSync(heart), 'a call spins').toBe(true);
    },
    async allStopped(what: string): Promise<number> {
      const t0 = performance.now();
      while (watchedMapJobs() > 0 && performance.now() - t0 < bound) await pause(20);
      expect(watchedMapJobs(), `${what}: timed jobs still in flight after ${bound} ms`).toBe(0);
      for (;;) {
        const before = beat();
        await pause(700);
        if (beat() === before) break;
        expect(performance.now() - t0, `${what}: a call still beats after ${bound} ms`).toBeLessThan(bound);
      }
      return performance.now() - t0;
    },
  };
}
