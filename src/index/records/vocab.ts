/**
 * Category vocabularies collected during the indexing pass: the distinct non-numeric values of each
 * column with their counts, up to a limit (a column with more distinct values is not categorical and
 * its vocabulary is dropped). CSV values are counted by their bytes in a small open-addressing hash
 * table per column (typed arrays, the bytes kept in an arena): a value already seen costs a hash and a
 * compare, no string; strings are made once per distinct value, when the vocabulary is exported.
 * A column whose distinct byte strings overflow is counted by text from then on (byte strings that are no
 * valid UTF-8 may decode alike), so the limit applies to distinct texts, as for JSON values.
 * JSON values arrive as strings and are counted in a Map.
 */
import { text } from './numbers.js';

export const MAX_CATEGORIES = 1000;

/** One column's distinct byte strings and their counts; the table doubles as it fills (at most half full). */
class ByteTable {
  /** Per slot: entry number + 1, 0 when empty; the length is a power of two. */
  private slots = new Int32Array(128);
  private hashes = new Int32Array(64);
  /** Entry e's bytes are arena[starts[e], starts[e + 1]). */
  private starts = new Int32Array(65);
  private counts = new Float64Array(64);
  private arena = new Uint8Array(1024);
  size = 0;
  /** Whether every value so far is ASCII (then distinct byte strings are distinct texts). */
  ascii = true;

  /** Counts bytes[a, b) (`times` times); false when that would make more than MAX_CATEGORIES distinct values. */
  add(bytes: Uint8Array, a: number, b: number, times = 1): boolean {
    // FNV-1a over the bytes, 32-bit.
    let h = 0x811c9dc5 | 0;
    for (let i = a; i < b; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
    const n = b - a;
    const arena = this.arena;
    const slots = this.slots;
    const mask = slots.length - 1;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const e = slots[s] - 1;
      if (e < 0) return this.insert(s, h, bytes, a, b, times);
      if (this.hashes[e] !== h) continue;
      const from = this.starts[e];
      if (this.starts[e + 1] - from !== n) continue;
      let same = true;
      for (let k = 0; k < n; k++) {
        if (arena[from + k] !== bytes[a + k]) {
          same = false;
          break;
        }
      }
      if (same) {
        this.counts[e] += times;
        return true;
      }
    }
  }

  private insert(slot: number, h: number, bytes: Uint8Array, a: number, b: number, times: number): boolean {
    const e = this.size;
    if (e >= MAX_CATEGORIES) return false;
    if (e === this.hashes.length) this.growEntries();
    const from = this.starts[e];
    const to = from + (b - a);
    if (to > this.arena.length) this.arena = grown(this.arena, Math.max(to, this.arena.length * 2), from);
    // Copied byte by byte: a value is short, and a view of it (subarray) for `set` would be an object made per value.
    const arena = this.arena;
    let high = 0;
    for (let i = a, k = from; i < b; i++, k++) {
      const byte = bytes[i];
      arena[k] = byte;
      high |= byte;
    }
    if (high >= 0x80) this.ascii = false;
    this.starts[e + 1] = to;
    this.hashes[e] = h;
    this.counts[e] = times;
    this.slots[slot] = e + 1;
    this.size++;
    if (this.size * 2 > this.slots.length) this.rehash();
    return true;
  }

  private growEntries(): void {
    const n = this.hashes.length * 2;
    this.hashes = grown(this.hashes, n, this.size);
    this.counts = grown(this.counts, n, this.size);
    this.starts = grown(this.starts, n + 1, this.size + 1);
  }

  /** Doubles the slots and puts every entry back by its stored hash. */
  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let e = 0; e < this.size; e++) {
      let s = this.hashes[e] & mask;
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = e + 1;
    }
    this.slots = slots;
  }

  /** The values as strings with their counts (byte strings that decode alike are merged). */
  export(): Array<[string, number]> {
    const out = new Map<string, number>();
    for (let e = 0; e < this.size; e++) {
      const value = text(this.arena, this.starts[e], this.starts[e + 1]);
      out.set(value, (out.get(value) ?? 0) + this.counts[e]);
    }
    return [...out];
  }
}

/** A copy of `array`'s first `keep` elements in a new array of `length` elements. */
function grown<T extends Int32Array | Float64Array | Uint8Array>(array: T, length: number, keep: number): T {
  const out = new (array.constructor as new (n: number) => T)(length);
  out.set(array.subarray(0, keep));
  return out;
}

type Column = ByteTable | Map<string, number>;

export class VocabCollector {
  /** Per column: its table (absent: nothing seen yet), or null once it overflowed. */
  private readonly columns: Array<Column | null | undefined> = [];

  /** `columns`: how many columns to make room for now (more are added as values arrive). */
  constructor(columns = 0) {
    // Room made at once, as one kind of array from the start: its type does not change under code
    // optimized for it when the first values of the first chunk arrive.
    this.grow(columns - 1);
  }

  /** Counts the value bytes[start, end) of a CSV column. */
  add(column: number, bytes: Uint8Array, start: number, end: number): void {
    let table = this.columns[column];
    if (table === null) return;
    if (table === undefined) {
      this.grow(column);
      table = new ByteTable();
      this.columns[column] = table;
    }
    if (table instanceof Map) {
      // A column counted by text since its byte strings overflowed (see below).
      this.addString(column, text(bytes, start, end));
      return;
    }
    if (table.add(bytes, start, end)) return;
    // More distinct byte strings than a vocabulary holds: but byte strings that are no valid UTF-8 may decode
    // alike (the exported vocabulary merges them). Count by text from here on, dropped only when the texts overflow.
    // Not when all were ASCII: those are as many distinct texts, and the new value's text (ASCII or not) is one
    // more, so the texts overflow now (without making a string of each value, as a column of ids would per chunk).
    if (table.ascii) {
      this.columns[column] = null;
      return;
    }
    this.columns[column] = new Map(table.export());
    this.addString(column, text(bytes, start, end));
  }

  /**
   * Counts the value bytes[start, end) of a CSV column `n` times, as `n` calls of `add` would (the WebAssembly
   * scanner's counts of values the vocabulary already holds).
   */
  addRepeat(column: number, bytes: Uint8Array, start: number, end: number, n: number): void {
    const table = this.columns[column];
    if (table instanceof ByteTable && table.add(bytes, start, end, n)) return;
    // Not a byte table (text counting, or none), or one that would overflow (it changed nothing): one by one.
    for (let k = 0; k < n; k++) this.add(column, bytes, start, end);
  }

  /** Drops a column's vocabulary (known to overflow: see `overflowedInPass`). */
  drop(column: number): void {
    this.grow(column);
    this.columns[column] = null;
  }

  /** Whether a column has overflowed (its values need not be looked at any more). */
  dropped(column: number): boolean {
    // Never read past the end: the optimized caller would be thrown away the first time it did.
    return column < this.columns.length && this.columns[column] === null;
  }

  /** Counts a value given as a string (JSON values). */
  addString(column: number, value: string): void {
    let map = this.columns[column];
    if (map === null) return;
    if (map === undefined) {
      this.grow(column);
      map = new Map();
      this.columns[column] = map;
    }
    if (!(map instanceof Map)) throw new Error('internal: a vocabulary column got both bytes and strings');
    const count = map.get(value);
    if (count !== undefined) map.set(value, count + 1);
    else if (map.size >= MAX_CATEGORIES) this.columns[column] = null;
    else map.set(value, 1);
  }

  private grow(column: number): void {
    while (this.columns.length <= column) this.columns.push(undefined);
  }

  /** Plain form for transfer: per column, the values and counts, or null when it overflowed. */
  export(): Array<Array<[string, number]> | null> {
    const out: Array<Array<[string, number]> | null> = [];
    for (const c of this.columns) out.push(c === null ? null : c === undefined ? [] : c instanceof ByteTable ? c.export() : [...c]);
    return out;
  }
}

/**
 * Per thread: the columns whose vocabulary overflowed in a chunk of the indexing pass `pass` (the last
 * pass seen). A vocabulary that overflowed in one chunk is null after the merge whatever the other chunks
 * hold (`mergeVocab`), so the chunks of the same pass analysed after it need not collect theirs (a time
 * column filled a table of 1,000 distinct values in every chunk before it overflowed). Passes are told
 * apart by `AnalyzeSpec.pass`, unique in the process; without it nothing is remembered.
 */
let overflowPass: number | undefined;
let overflowColumns: number[] = [];

/** Columns known to overflow in pass `pass`: drop them in a new chunk's vocabulary. */
export function overflowedInPass(pass: number | undefined): readonly number[] {
  return pass !== undefined && pass === overflowPass ? overflowColumns : [];
}

/** Remembers the columns that overflowed in a chunk of pass `pass` (see `overflowedInPass`). */
export function noteOverflows(pass: number | undefined, vocab: VocabCollector, columns: number): void {
  if (pass === undefined) return;
  if (pass !== overflowPass) {
    overflowPass = pass;
    overflowColumns = [];
  }
  for (let c = 0; c < columns; c++) if (vocab.dropped(c) && !overflowColumns.includes(c)) overflowColumns.push(c);
}

/** Merges exported vocabularies (by column position) into `into`. */
export function mergeVocab(into: Array<Map<string, number> | null>, part: Array<Array<[string, number]> | null>): void {
  part.forEach((values, c) => {
    while (into.length <= c) into.push(new Map());
    const target = into[c];
    if (target === null) return;
    if (values === null) {
      into[c] = null;
      return;
    }
    for (const [value, count] of values) target.set(value, (target.get(value) ?? 0) + count);
    if (target.size > MAX_CATEGORIES) into[c] = null;
  });
}

/** A column's categories, sorted (stable ids), with their counts; null when it has too many. */
export function finalizeVocab(map: Map<string, number> | null | undefined): Array<[string, number]> | null {
  if (map === null || map === undefined || map.size === 0) return null;
  return [...map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}
