/**
 * The datasets' worker step: `parse` turns the records of a chunk into rows of features and labels in the
 * same worker job that decodes the chunk (parse.ts). Registered when this module loads; the worker entry
 * imports it, and so does every module that builds a parse job.
 */
import { concatBytes } from '../util.js';
import { defineStep } from '../workers/registry.js';
import { parseRecords, type ParsedRows, type ParseSpec } from './parse.js';

/** Records of a decoded chunk to parse: spans relative to the chunk's bytes followed by `tail`. */
export interface ChunkParse {
  spec: ParseSpec;
  spans: Uint32Array;
  records: Float64Array;
  /** The bytes past the chunk's end that complete its last record (empty when none is needed). */
  tail: Uint8Array;
}

/** Parses a chunk's records (the chunk's bytes joined to its tail). */
export function parseChunk(bytes: Uint8Array, parse: ChunkParse): ParsedRows {
  return parseRecords(parse.tail.length > 0 ? concatBytes([bytes, parse.tail]) : bytes, parse.spans, parse.records, parse.spec);
}

export const parseStep = defineStep<ChunkParse, ParsedRows>('parse', parseChunk);
