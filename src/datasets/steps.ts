/**
 * The datasets' worker step: `parse` turns the records of a chunk into rows of features and labels in the
 * same worker job that decodes the chunk (parse.ts), then runs the dataset's user `map` on them when it has
 * one (map-run.ts). Registered when this module loads; the worker entry imports it, and so does every
 * module that builds a parse job.
 */
import { endsLine, startsLine } from '../index/record-index.js';
import { RecordEnds } from '../index/records/record-ends.js';
import { concatBytes } from '../util.js';
import { defineStep } from '../workers/registry.js';
import { runMap } from './map-run.js';
import { emptyRows, parseRecords, type ParsedRows, type ParseSpec } from './parse.js';

/** Records of a decoded chunk to parse: spans relative to the chunk's bytes followed by `tail`. */
export interface ChunkParse {
  spec: ParseSpec;
  spans: Uint32Array;
  records: Float64Array;
  /** The bytes past the chunk's end that complete its last record (empty when none is needed). */
  tail: Uint8Array;
  /** Each record's time (from the time index), when the spec has time features or a map and the file a time index. */
  times?: Float64Array | undefined;
  /** The job's clock, when its map has a time limit (map-clock.ts). */
  clock?: SharedArrayBuffer | undefined;
  /**
   * Bytes of the chunk's start to send back with the rows (`ParsedChunk.head`), to check the previous
   * chunk's stored tail with (RecordIndex.headComing); 0 or absent: none.
   */
  head?: number | undefined;
  /**
   * Check that every record's span starts a line, ends one, and holds one record (records/record-ends.ts: an
   * offset left out merges two; spans from a loaded index are untrusted): the first that does not is sent back as `ParsedChunk.misplaced`, and no record is parsed. `startsFile`: the
   * chunk is its file's first (a byte-order mark may come before its first record); `fileEnd`: where the file
   * ends in the spans' coordinates (a last line may lack its newline). Both from ChunkSpans.
   */
  lineStarts?: boolean | undefined;
  startsFile?: boolean | undefined;
  fileEnd?: number | undefined;
}

/** What a parse job returns: the rows, and the chunk's first bytes when asked for (`ChunkParse.head`). */
export interface ParsedChunk {
  rows: ParsedRows;
  head?: Uint8Array | undefined;
  /** With `lineStarts`: the first record whose span does not start or end a line or holds more than one record (a damaged or crafted index). */
  misplaced?: number | undefined;
}

/** What a map's input is parsed with: its input fields, labels as values or class ids (never one-hot). */
export function mapInputSpec(spec: ParseSpec): ParseSpec {
  if (spec.map === undefined) return spec;
  const input = spec.map.input;
  return { ...spec, features: input.features, labels: input.labels, labelType: input.labelType, oneHot: 0, map: undefined };
}

/** Parses a chunk's records (the chunk's bytes joined to its tail), and maps them when the spec has a map. */
export function parseChunk(bytes: Uint8Array, parse: ChunkParse): ParsedChunk | Promise<ParsedChunk> {
  // A copy, taken before anything else: `bytes` may be a decoder's lent buffer, given back once the step
  // has returned, and a view would also post (or move) the whole chunk back.
  const head = parse.head !== undefined && parse.head > 0 ? new Uint8Array(bytes.subarray(0, parse.head)) : undefined;
  const all = parse.tail.length > 0 ? concatBytes([bytes, parse.tail]) : bytes;
  const { spec, spans, records, times, clock } = parse;
  if (parse.lineStarts === true) {
    const ends = new RecordEnds(all, spec.kind, spec.quoting ?? 'rfc4180');
    for (let k = 0; k < records.length; k++) {
      const a = spans[2 * k];
      const e = spans[2 * k + 1];
      if (!startsLine(all, a, parse.startsFile === true) || !endsLine(all, a, e, parse.fileEnd ?? -1) || ends.extra(a, e) >= 0) {
        return { rows: emptyRows(), head, misplaced: records[k] };
      }
    }
  }
  if (spec.map === undefined) return { rows: parseRecords(all, spans, records, spec, times), head };
  const inner = parseRecords(all, spans, records, mapInputSpec(spec), times);
  const byRecord = times === undefined ? undefined : new Map(Array.from(records, (r, k) => [r, times[k]] as const));
  return runMap(inner, spec, byRecord, clock).then((rows) => ({ rows, head }));
}

export const parseStep = defineStep<ChunkParse, ParsedChunk>('parse', parseChunk);
