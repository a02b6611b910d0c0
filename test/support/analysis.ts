/**
 * Comparing two chunk analyses (the fast CSV path against the general one or a reference) exactly: record
 * starts and times as plain arrays (a -0 time kept apart from 0), statistics byte for byte (NaN payloads and
 * -0 included), vocabularies in a fixed order.
 */
import type { ChunkAnalysis } from '../../src/index/records/analyze.js';

export function comparable(a: ChunkAnalysis): unknown {
  return {
    ...a,
    starts: [...a.starts],
    times: a.times === undefined ? undefined : [...a.times].map((t) => (Object.is(t, -0) ? '-0' : t)),
    stats: a.stats === undefined ? undefined : [...new Uint8Array(a.stats.buffer, a.stats.byteOffset, a.stats.byteLength)],
    vocab: a.vocab?.map((v) => (v === null ? null : [...v].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)))).map((v) => (v !== null && v.length === 0 ? [] : v)),
  };
}

/** Vocabulary columns nobody touched are [] in one and absent in the other: pad to the same length. */
export function padVocab(a: ChunkAnalysis, b: ChunkAnalysis): void {
  if (a.vocab === undefined || b.vocab === undefined) return;
  while (a.vocab.length < b.vocab.length) a.vocab.push([]);
  while (b.vocab.length < a.vocab.length) b.vocab.push([]);
}
