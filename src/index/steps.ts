/**
 * The index layer's worker step: `analyze` finds the records of a decoded chunk (and their timestamps and
 * statistics) in the same worker job that decodes it (records/analyze.ts). Registered when this module
 * loads; the worker entry imports it, and so does every module that builds an analyze job.
 */
import { defineStep } from '../workers/registry.js';
import { analyzeChunk, type AnalyzeSpec, type ChunkAnalysis } from './records/analyze.js';

export const analyzeStep = defineStep<AnalyzeSpec, ChunkAnalysis>('analyze', analyzeChunk);
