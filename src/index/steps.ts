/**
 * The index layer's worker step: `analyze` finds the records of a decoded chunk (and their timestamps and
 * statistics) in the same worker job that decodes it (records/analyze.ts), and for formats that read
 * verified prefixes the CRC-32s of its 64 KiB sub-spans. Registered when this module
 * loads; the worker entry imports it, and so does every module that builds an analyze job.
 */
import { subCrcsOfBytes } from '../readers/sub-crcs.js';
import { defineStep } from '../workers/registry.js';
import { analyzeChunk, type AnalyzeSpec, type ChunkAnalysis, type ChunkEdges } from './records/analyze.js';

export const analyzeStep = defineStep<AnalyzeSpec, ChunkAnalysis>('analyze', (bytes, spec) => {
  const analysis = analyzeChunk(bytes, spec);
  if (spec.edges === true) analysis.edges = edgesOf(bytes, spec, analysis);
  if (spec.subCrcBytes !== undefined) analysis.subCrcs = subCrcsOfBytes(bytes, spec.subCrcBytes);
  return analysis;
});

/** The bytes of a chunk the join reads (ChunkEdges), copied: `bytes` may be a decoder's lent buffer. */
function edgesOf(bytes: Uint8Array, spec: AnalyzeSpec, analysis: ChunkAnalysis): ChunkEdges {
  if (analysis.first < 0 || analysis.tooLong >= 0 || spec.begin !== 0) return { whole: copyOf(bytes, 0, bytes.length) };
  return { length: bytes.length, head: copyOf(bytes, 0, analysis.first + 1), tail: copyOf(bytes, analysis.last + 1, bytes.length) };
}

function copyOf(bytes: Uint8Array, from: number, to: number): Uint8Array {
  const out = new Uint8Array(to - from);
  out.set(bytes.subarray(from, to));
  return out;
}
