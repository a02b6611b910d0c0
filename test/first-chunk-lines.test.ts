/**
 * The layout reads the first lines of the first chunk (the CSV header, a sample record) in windows that
 * double from FIRST_WINDOW bytes instead of scanning the whole chunk: the lines must be exactly those a
 * whole-chunk terminator scan gives, wherever quotes, CRLF, blank lines and long lines fall against the
 * windows' ends.
 */
import { describe, expect, it } from 'vitest';
import { forEachTerminator, contentEnd } from '../src/index/records/analyze.js';
import { describeLayout, FIRST_WINDOW, lines } from '../src/index/records/first-chunk.js';
import type { Quoting } from '../src/index/records/csv.js';
import { resolveRecordOptions } from '../src/index/records/options.js';
import { prng } from './support/fixtures.js';

type Kind = 'csv' | 'jsonl' | 'lines';

/** The lines of a whole-chunk scan (what `lines` returned before it scanned in windows). */
function reference(bytes: Uint8Array, from: number, kind: Kind, quoting: Quoting, isWholeFile: boolean): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  let start = from;
  forEachTerminator(bytes, { kind, delimiter: 44, quoting, begin: from, inQuote: false, statColumns: 0, maxBad: 0 }, (t) => {
    out.push([start, contentEnd(bytes, start, t), t + 1]);
    start = t + 1;
  });
  if (isWholeFile && start < bytes.length) out.push([start, bytes.length, bytes.length]);
  return out;
}

/** Text of lines of random lengths around the window sizes, with quotes (some spanning newlines), CRLF and blank lines. */
function chunk(random: () => number): Uint8Array {
  const sizes = [0, 1, 7, FIRST_WINDOW - 2, FIRST_WINDOW - 1, FIRST_WINDOW, FIRST_WINDOW + 1, 2 * FIRST_WINDOW + 3, 5 * FIRST_WINDOW, 40];
  let s = '';
  const count = 1 + Math.floor(random() * 8);
  for (let i = 0; i < count; i++) {
    const length = sizes[Math.floor(random() * sizes.length)] + Math.floor(random() * 3);
    let line = '';
    while (line.length < length) {
      const r = random();
      line += r < 0.05 ? '"' : r < 0.08 ? '\n' : r < 0.1 ? ',' : r < 0.11 ? '\r' : 'x';
    }
    s += line + (random() < 0.3 ? '\r\n' : '\n');
    if (random() < 0.2) s += '\n';
  }
  // Sometimes an unterminated last line.
  if (random() < 0.5) s += 'tail"x';
  return new TextEncoder().encode(s);
}

describe('the layout reads the first lines in doubling windows', () => {
  it('gives exactly the lines of a whole-chunk scan (random chunks around the window ends)', () => {
    const random = prng(20261201);
    let checked = 0;
    for (let n = 0; n < 400; n++) {
      const bytes = chunk(random);
      for (const kind of ['csv', 'jsonl', 'lines'] as Kind[]) {
        for (const quoting of ['rfc4180', 'none'] as Quoting[]) {
          for (const isWholeFile of [false, true]) {
            const from = random() < 0.2 ? Math.min(bytes.length, 3) : 0;
            expect([...lines(bytes, from, kind, 44, quoting, isWholeFile)]).toEqual(reference(bytes, from, kind, quoting, isWholeFile));
            checked++;
          }
        }
      }
    }
    expect(checked).toBe(400 * 12);
  });

  it('stops scanning once the caller has what it needs (the rest of a large chunk is not scanned)', () => {
    // A header and a sample, then 4 MiB of unterminated quoted text: a whole-chunk scan would walk it all.
    const head = 'a,b\n1,2\n';
    const bytes = new Uint8Array(head.length + (4 << 20));
    bytes.set(new TextEncoder().encode(head));
    bytes.fill(0x22, head.length, head.length + 1);
    bytes.fill(0x78, head.length + 1);
    const it = lines(bytes, 0, 'csv', 44, 'rfc4180', false);
    expect(it.next().value).toEqual([0, 3, 4]);
    expect(it.next().value).toEqual([4, 7, 8]);
  });

  it('describes a layout whose header is longer than several windows, after blank lines and a byte-order mark', () => {
    const names = Array.from({ length: 2000 }, (_, i) => `"column ${i}, quoted\nwith a newline"`);
    names[5] = 'time';
    const sample = Array.from({ length: 2000 }, () => '1');
    sample[5] = '2024-01-01T00:00:00Z';
    const text = `\uFEFF\n\n${names.join(',')}\r\n\n${sample.join(',')}\n`;
    const bytes = new TextEncoder().encode(text);
    expect(bytes.length).toBeGreaterThan(8 * FIRST_WINDOW);
    const options = resolveRecordOptions({ records: 'csv', timeColumn: 'time' });
    const layout = describeLayout('x.csv', bytes, true, options);
    expect(layout.columns.length).toBe(2000);
    expect(layout.columns[0]).toBe('column 0, quoted\nwith a newline');
    expect(layout.timeField).toBe(5);
    expect(layout.timeFormat).toBe('iso');
    expect(layout.begin).toBe(bytes.indexOf(0x0a, bytes.lastIndexOf(0x22)) + 1);
  });
});
