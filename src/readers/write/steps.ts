/**
 * The readers layer's compression step: `compress` turns a unit of bytes (a job's `bytes` input) into the
 * unit of an output format (writers.ts), in the worker that runs the job. Registered when this module
 * loads; the worker entry imports it, and so does the module that builds compress jobs (pipeline.ts).
 */
import { defineStep } from '../../workers/registry.js';
import { writerOf, type CompressedUnit, type WriteFormat } from './writers.js';

export interface CompressArgs {
  format: WriteFormat;
  level: number;
}

export const compressStep = defineStep<CompressArgs, CompressedUnit>('compress', (bytes, args) => writerOf(args.format).unit(bytes, args.level));
