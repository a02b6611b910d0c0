/**
 * Piscina worker entry, and a composition root: it loads the modules that register what jobs name (the
 * formats' decoders, the readers' `compress` step, the index's `analyze` step, the datasets' `parse`
 * step), then runs one job and returns the result with its owned typed arrays moved, not copied.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import '../readers/formats.js';
import '../readers/write/steps.js';
import '../index/steps.js';
import '../datasets/steps.js';
import { runJob, toResponse, transferables, type JobResponse, type WorkerJob } from './jobs.js';

export default async function handle(job: WorkerJob): Promise<unknown> {
  const response: JobResponse = await toResponse(() => runJob(job));
  if (!response.ok) return response;
  return move({ [transferableSymbol]: transferables(response.result), [valueSymbol]: response });
}
