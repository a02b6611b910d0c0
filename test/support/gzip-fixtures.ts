/**
 * gzip fixtures made at test time with the real tools (gzip, pigz, bgzip, cat), a member built by hand
 * from RFC 1952 with every optional header field, and helpers that run the gzip passes and decode a unit
 * alone from the file's bytes. The truth for every fixture is `gzip -dc` of the fixture.
 */
import { deflateRawSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { crc32 } from '../../src/readers/gzip/crc.js';
import {
  decodeGzipUnit,
  GzipTableBuilder,
  gzipUnitTask,
  scanGzip,
  unitByteRange,
  type GzipScannedUnit,
  type GzipScanOptions,
  type GzipScanSummary,
  type GzipUnitTable,
  type GzipWarning,
} from '../../src/readers/gzip/index.js';
import type { ByteSource } from '../../src/sources/source.js';
import type { SeekableReader } from '../../src/index.js';
import { KIND_SPAN } from '../../src/readers/gzip/units.js';
import { expect } from 'vitest';
import { makeText, prng, run } from './fixtures.js';

export const gzip = (data: Uint8Array, ...args: string[]): Buffer => run('gzip', ['-c', ...args], data);
export const pigz = (data: Uint8Array, ...args: string[]): Buffer => run('pigz', ['-c', ...args], data);
export const bgzip = (data: Uint8Array, ...args: string[]): Buffer => run('bgzip', ['-c', ...args], data);

/** `gzip -dc` of `bytes` (status 2, a warning such as trailing garbage, still gives the data). */
export function gunzipTruth(bytes: Uint8Array): Buffer {
  const result = spawnSync('gzip', ['-dc'], { input: bytes, maxBuffer: 1 << 30 });
  if (result.status !== 0 && result.status !== 2) throw new Error(`gzip -dc failed: ${result.stderr.toString()}`);
  return result.stdout;
}

/** Text with stretches of random bytes, so gzip writes stored blocks between Huffman blocks. */
export function mixedData(bytes: number, seed: number): Buffer {
  const rand = prng(seed);
  const text = makeText(bytes, seed);
  for (let at = 0; at + 70_000 < text.length; at += 250_000 + Math.floor(rand() * 100_000)) {
    const n = 20_000 + Math.floor(rand() * 50_000);
    for (let i = 0; i < n; i++) text[at + i] = Math.floor(rand() * 256);
  }
  return text;
}

/** A member built by hand (RFC 1952) with FTEXT, FEXTRA (one 'AB' subfield), FNAME, FCOMMENT and FHCRC. */
export function handBuiltMember(data: Uint8Array): Buffer {
  const extra = Buffer.from([0x41, 0x42, 3, 0, 0x78, 0x79, 0x7a]);
  const header = Buffer.concat([
    Buffer.from([0x1f, 0x8b, 8, 0x01 | 0x02 | 0x04 | 0x08 | 0x10, 0x10, 0x20, 0x30, 0x40, 0, 3]),
    Buffer.from([extra.length, 0]),
    extra,
    Buffer.from('hand-made.csv\0', 'latin1'),
    Buffer.from('a comment, built from RFC 1952\0', 'latin1'),
  ]);
  const hcrc = Buffer.alloc(2);
  hcrc.writeUInt16LE(crc32(header) & 0xffff);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data), 0);
  trailer.writeUInt32LE(data.length % 2 ** 32, 4);
  return Buffer.concat([header, hcrc, deflateRawSync(data), trailer]);
}

export interface ScanResult {
  units: GzipScannedUnit[];
  summary: GzipScanSummary;
  warnings: GzipWarning[];
  table: GzipUnitTable;
}

export async function scanAll(source: ByteSource, options: GzipScanOptions = {}): Promise<ScanResult> {
  const warnings: GzipWarning[] = [];
  const units: GzipScannedUnit[] = [];
  const builder = new GzipTableBuilder();
  const generator = scanGzip(source, { ...options, onWarning: (w) => warnings.push(w) });
  for (let r = await generator.next(); ; r = await generator.next()) {
    if (r.done === true) {
      return { units, summary: r.value, warnings, table: builder.build(r.value.bgzf) };
    }
    units.push(r.value);
    builder.add(r.value);
  }
}

/** Decodes table unit i alone from the file's bytes, as a random read would. */
export function decodeUnit(table: GzipUnitTable, i: number, file: Uint8Array, name = 'fixture.gz'): Uint8Array {
  const { offset, length } = unitByteRange(table, i);
  return decodeGzipUnit(gzipUnitTask(table, i, file.subarray(offset, offset + length), name));
}

/** Resolves to the error a promise rejects with, or fails when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

/** The units of a reader's chunk map that are spans between checkpoints (not runs of members). */
export function spanUnits(reader: SeekableReader): number[] {
  const out: number[] = [];
  for (let u = 0; u < reader.units.count; u++) if (reader.units.kind[u] === KIND_SPAN) out.push(u);
  return out;
}

/** `reader.read(offset, length)` equals the truth's bytes there. */
export async function expectRead(reader: SeekableReader, truth: Uint8Array, offset: number, length: number): Promise<void> {
  const got = await reader.read(offset, length);
  expect(Buffer.compare(Buffer.from(got), truth.subarray(offset, offset + length)), `read(${offset}, ${length})`).toBe(0);
}
