/**
 * The index loader fuzzed as data formats are (issue 13 item 2): sections of a real index are mutated
 * (values changed, swapped, bit-flipped, resized; metadata fields changed, dropped or retyped) and their
 * checksums RECOMPUTED, as a forger would. Every mutant must open and read records that equal the data,
 * or end in a typed CORRUPT_INDEX / STALE_INDEX / INDEX_MISMATCH (and a correct rebuild when allowed):
 * never wrong bytes, never an untyped error. Fixed seeds; a few thousand mutants.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { closeSharedPool, openIndexed, SeekdataError } from '../src/index.js';
import { bzip2, prng, tempDir, writeFixture, xz } from './support/fixtures.js';
import { entries, json, rechecksum, withJson, type Entry } from './support/sdx.js';

const tmp = tempDir();
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

/** CSV with a time column: unsorted, a few unparsable times, records of varied length (tails at every boundary). */
function makeCsv(rows: number, seed: number): Buffer {
  const rand = prng(seed);
  const lines = ['ts,v,label'];
  for (let i = 0; i < rows; i++) {
    const t = i % 97 === 5 ? 'never' : new Date(Date.UTC(2024, 0, 1) + Math.floor(rand() * 1e9)).toISOString();
    lines.push(`${t},${i},${'x'.repeat(Math.floor(rand() * 40))}`);
  }
  return Buffer.from(lines.join('\n') + '\n');
}

const WIDTH = [1, 8, 4, 4, 4, 1, 2];
const OUTCOME_CODES = ['CORRUPT_INDEX', 'STALE_INDEX', 'INDEX_MISMATCH'];

/** One mutation of the index bytes (checksums recomputed by the caller). */
function mutate(index: Uint8Array, rand: () => number): Uint8Array {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
  const all = entries(index);
  const target: Entry = pick(all);
  if (target.kind === 0) return mutateJson(index, target.name, rand);
  const view = new DataView(index.buffer, index.byteOffset, index.byteLength);
  const width = WIDTH[target.kind];
  const count = target.count;
  const op = Math.floor(rand() * 8);
  if (op === 7) {
    // Resize the section in the directory (count and length), as if elements were dropped or added.
    const delta = pick([-1, 1, -2]);
    view.setBigUint64(target.at + 40, BigInt(Math.max(0, count + delta)), true);
    view.setBigUint64(target.at + 56, BigInt(Math.max(0, count + delta) * width), true);
    return index;
  }
  if (count === 0) return index;
  const k = Math.floor(rand() * count);
  const at = target.offset + k * width;
  const get = (p: number): number => (target.kind === 1 ? view.getFloat64(p, true) : target.kind === 2 ? view.getUint32(p, true) : index[p]);
  const set = (p: number, v: number): void => {
    if (target.kind === 1) view.setFloat64(p, v, true);
    else if (target.kind === 2) view.setUint32(p, v >>> 0, true);
    else index[p] = v & 0xff;
  };
  const value = get(at);
  switch (op) {
    case 0:
      set(at, value + pick([1, -1, 2, -3, 7, 64, -64]));
      break;
    case 1:
      set(at, pick([0, 1, 2, 3, 0xffffffff, 2 ** 31, NaN, Infinity, -1, 2 ** 53, 1e300]));
      break;
    case 2: {
      const j = target.offset + Math.floor(rand() * count) * width;
      const other = get(j);
      set(j, value);
      set(at, other);
      break;
    }
    case 3:
      if (k > 0) set(at, get(at - width));
      break;
    case 4:
      index[target.offset + Math.floor(rand() * target.length)] ^= 1 << Math.floor(rand() * 8);
      break;
    case 5:
      set(at, Math.floor(rand() * Math.max(2, value * 2)));
      break;
    default:
      // Change the directory entry's offset instead (misaligned or overlapping payloads).
      view.setBigUint64(target.at + 48, BigInt(Math.max(0, target.offset + pick([-8, 8, 1, -16]))), true);
  }
  return index;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function mutateJson(index: Uint8Array, name: string, rand: () => number): Uint8Array {
  const root = json(index, name) as Json;
  const paths: Array<Array<string | number>> = [];
  const walk = (v: Json, path: Array<string | number>): void => {
    paths.push(path);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (v !== null && typeof v === 'object') for (const [key, x] of Object.entries(v)) walk(x, [...path, key]);
  };
  walk(root, []);
  const path = paths[Math.floor(rand() * paths.length)];
  if (path.length === 0) return withJson(index, name, rand() < 0.5 ? [] : 'meta');
  const parent = path.slice(0, -1).reduce<Json>((v, key) => (v as Record<string, Json>)[key as string], root) as Record<string | number, Json>;
  const key = path[path.length - 1];
  const old = parent[key];
  const choices: Json[] = [null, 'x', '', 0, -1, 1.5, true, [], {}, 1e300];
  if (typeof old === 'number') choices.push(old + 1, old - 1, old * 2);
  if (typeof old === 'string') choices.push(old + 'x', old.slice(1), 'lines', 'csv');
  if (typeof old === 'boolean') choices.push(!old);
  const r = rand();
  if (r < 0.15 && !Array.isArray(parent)) delete parent[key];
  else if (r < 0.2 && Array.isArray(old)) old.pop();
  else parent[key] = choices[Math.floor(rand() * choices.length)];
  return withJson(index, name, root);
}

interface Counts {
  correct: number;
  rejected: number;
  failedOnUse: number;
  rebuiltCorrect: number;
  codes: Record<string, number>;
}

async function fuzz(path: string, text: Buffer, mutants: number, seed: number): Promise<Counts> {
  const rows = text.toString().split('\n').slice(1, -1);
  const pristine = readFileSync(`${path}.sdx`);
  const rand = prng(seed);
  const counts: Counts = { correct: 0, rejected: 0, failedOnUse: 0, rebuiltCorrect: 0, codes: {} };
  const typed = (error: unknown, mutant: number): string => {
    if (!(error instanceof SeekdataError) || !OUTCOME_CODES.includes(error.code)) {
      throw new Error(`mutant ${mutant}: untyped or unexpected error: ${error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error)}`);
    }
    counts.codes[error.code] = (counts.codes[error.code] ?? 0) + 1;
    return error.code;
  };
  for (let m = 0; m < mutants; m++) {
    let index = mutate(Buffer.from(pristine), rand);
    if (rand() < 0.3) index = mutate(index, rand);
    rechecksum(index);
    writeFileSync(`${path}.sdx`, index);
    const rebuild = m % 40 === 0;
    let file;
    try {
      file = await openIndexed(path, { records: 'csv', timeColumn: 'ts', ifStale: rebuild ? 'rebuild' : 'error', parallelism: 1, onWarning: () => undefined });
    } catch (error) {
      typed(error, m);
      counts.rejected++;
      continue;
    }
    try {
      expect(file.records.count, `mutant ${m}: record count`).toBe(rows.length);
      const all = await file.records.getMany(Array.from({ length: rows.length }, (_, i) => i));
      for (let i = 0; i < rows.length; i++) if (Buffer.from(all[i]).toString() !== rows[i]) throw new Error(`mutant ${m}: record ${i} is wrong: ${Buffer.from(all[i]).toString()}`);
      for (let k = 0; k < 8; k++) {
        const i = Math.floor(rand() * rows.length);
        expect(await file.records.text(i), `mutant ${m}: get(${i})`).toBe(rows[i]);
      }
      const from = Math.floor(rand() * (rows.length - 40));
      expect((await file.records.slice(from, from + 40)).map((r) => Buffer.from(r).toString()), `mutant ${m}: slice`).toEqual(rows.slice(from, from + 40));
      const inRange = file.range(-8.64e15, 8.64e15);
      for (const r of inRange) if (r >= rows.length) throw new Error(`mutant ${m}: time range gave record ${r}`);
      if (file.report.status === 'rebuilt') counts.rebuiltCorrect++;
      else counts.correct++;
    } catch (error) {
      if (error instanceof SeekdataError) {
        typed(error, m);
        counts.failedOnUse++;
      } else throw error;
    } finally {
      await file.close();
    }
  }
  writeFileSync(`${path}.sdx`, pristine);
  return counts;
}

describe('index loader fuzz (recomputed checksums)', () => {
  it('xz CSV with an unsorted time column: 2,000 mutants end in correct records or a typed error', async () => {
    const text = makeCsv(3000, 3);
    const path = writeFixture(tmp.dir, 'fuzz.csv.xz', xz(text, '--block-size=16KiB'));
    const built = await openIndexed(path, { records: 'csv', timeColumn: 'ts', parallelism: 1 });
    expect(built.time?.order).toBeDefined();
    expect(built.reader.units.count).toBeGreaterThan(5);
    await built.close();
    const counts = await fuzz(path, text, 2000, 11);
    console.log('xz index fuzz:', JSON.stringify(counts));
    expect(counts.correct + counts.rejected + counts.failedOnUse + counts.rebuiltCorrect).toBe(2000);
    expect(counts.rejected).toBeGreaterThan(1000);
    expect(counts.correct).toBeGreaterThan(0);
  });

  it('multi-stream bzip2 (pbzip2-like) CSV: 1,000 mutants end in correct records or a typed error', async () => {
    const text = makeCsv(1500, 4);
    const parts: Buffer[] = [];
    for (let at = 0; at < text.length; at += 9000) parts.push(bzip2(text.subarray(at, at + 9000), 1));
    const path = writeFixture(tmp.dir, 'fuzz.csv.bz2', Buffer.concat(parts));
    const built = await openIndexed(path, { records: 'csv', timeColumn: 'ts', parallelism: 1 });
    expect(built.reader.units.count).toBe(parts.length);
    await built.close();
    const counts = await fuzz(path, text, 1000, 12);
    console.log('bzip2 index fuzz:', JSON.stringify(counts));
    expect(counts.correct + counts.rejected + counts.failedOnUse + counts.rebuiltCorrect).toBe(1000);
    expect(counts.rejected).toBeGreaterThan(500);
  });
});
