/**
 * The record builder's columns (record starts, times) reserved from the first chunk's density when the
 * file's decoded size is known: the values must be exactly those of joining the parts, whether the estimate
 * fits, falls short (the column falls back to joining), or overshoots (copied to the exact size); a column
 * whose estimate is too large is not reserved at all.
 */
import { describe, expect, it } from 'vitest';
import { MAX_RESERVED_BYTES, Parts, RecordBuilder } from '../src/index/records/builder.js';
import { analyzeChunk, type AnalyzeSpec } from '../src/index/records/analyze.js';
import { prng } from './support/fixtures.js';

function partsOf(random: () => number, count: number): Uint32Array[] {
  return Array.from({ length: count }, () => Uint32Array.from({ length: Math.floor(random() * 50) }, () => Math.floor(random() * 1e9)));
}

function joined(parts: Uint32Array[]): Uint32Array {
  const out = new Uint32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe('Parts with a reservation', () => {
  it('gives the joined values for reservations that fit, fall short, overshoot, or come after parts', () => {
    const random = prng(5);
    for (let n = 0; n < 200; n++) {
      const parts = partsOf(random, 1 + Math.floor(random() * 30));
      const total = parts.reduce((k, p) => k + p.length, 0);
      const column = new Parts<Uint32Array>((k) => new Uint32Array(k));
      const reserveAfter = Math.floor(random() * parts.length);
      const estimate = Math.max(0, Math.round(total * (0.5 + random())));
      parts.forEach((p, k) => {
        if (k === reserveAfter) column.reserve(estimate);
        column.add(p);
      });
      const out = column.done();
      expect(Array.from(out)).toEqual(Array.from(joined(parts)));
      // A view is kept only when at most an eighth of its buffer is left empty.
      expect(out.buffer.byteLength - out.byteLength).toBeLessThanOrEqual(Math.floor(out.byteLength / 8) + 4);
    }
  });

  it('keeps the parts apart when the estimate is larger than MAX_RESERVED_BYTES', () => {
    const column = new Parts<Float64Array>((k) => new Float64Array(k));
    column.add(Float64Array.of(1, 2));
    column.reserve(MAX_RESERVED_BYTES / 8 + 1);
    column.add(Float64Array.of(3));
    const out = column.done();
    expect(Array.from(out)).toEqual([1, 2, 3]);
    expect(out.buffer.byteLength).toBe(24);
  });
});

describe('the builder with the decoded size known', () => {
  const spec: AnalyzeSpec = { kind: 'csv', delimiter: 44, begin: 0, inQuote: false, statColumns: 2, maxBad: 5, quoting: 'rfc4180', time: { field: 0, format: 's' }, maxRecordBytes: 1 << 20 };

  /** CSV chunks whose record lengths change along the file (dense first, sparse later, or the reverse). */
  function chunks(denseFirst: boolean): Uint8Array[] {
    const out: Uint8Array[] = [];
    let text = '';
    for (let i = 0; i < 30_000; i++) {
      const long = denseFirst ? i > 10_000 : i < 10_000;
      text += `${1_700_000_000 + i},${long ? 'x'.repeat(40) : i % 7}\n`;
    }
    const bytes = new TextEncoder().encode(text);
    for (let at = 0; at < bytes.length; at += 65_536) out.push(bytes.subarray(at, at + 65_536));
    return out;
  }

  function build(parts: Uint8Array[], decodedBytes: number | undefined): ReturnType<RecordBuilder['finish']> {
    const builder = new RecordBuilder({ file: 'x.csv', specFor: () => spec, columns: ['t', 'v'], strict: false, maxBad: 5, maxRecordBytes: 1 << 20, decodedBytes });
    let offset = 0;
    for (const p of parts) {
      builder.addChunk(offset, p, analyzeChunk(p, spec));
      offset += p.length;
    }
    return builder.finish();
  }

  it.each([
    ['dense first chunk (the estimate overshoots)', true],
    ['sparse first chunk (the estimate falls short)', false],
  ])('%s: offsets and times equal a build without a reservation', (_, denseFirst) => {
    const parts = chunks(denseFirst);
    const size = parts.reduce((n, p) => n + p.length, 0);
    const plain = build(parts, undefined);
    for (const decodedBytes of [size, size * 3, Math.floor(size / 3)]) {
      const reserved = build(parts, decodedBytes);
      expect(reserved.count).toBe(30_000);
      expect(Array.from(reserved.offsets)).toEqual(Array.from(plain.offsets));
      expect(Array.from(reserved.times ?? [])).toEqual(Array.from(plain.times ?? []));
      expect(Array.from(reserved.firstRecord)).toEqual(Array.from(plain.firstRecord));
    }
  });

  it('a steady file is reserved once and needs no join: the columns are views of the reservation', () => {
    let text = '';
    for (let i = 0; i < 40_000; i++) text += `${1_700_000_000 + i},${i % 97}\n`;
    const bytes = new TextEncoder().encode(text);
    const parts: Uint8Array[] = [];
    for (let at = 0; at < bytes.length; at += 65_536) parts.push(bytes.subarray(at, at + 65_536));
    const built = build(parts, bytes.length);
    expect(built.count).toBe(40_000);
    // A view with room to spare (the estimate's 5%), not an array joined to the exact size.
    expect(built.offsets.buffer.byteLength).toBeGreaterThan(built.offsets.byteLength);
    expect(built.times?.buffer.byteLength).toBeGreaterThan(built.times?.byteLength ?? 0);
    expect(Array.from(built.offsets)).toEqual(Array.from(build(parts, undefined).offsets));
  });
});
