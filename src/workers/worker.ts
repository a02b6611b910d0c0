/** Piscina worker entry: runs one job, returns the result with its typed arrays moved, not copied. */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { runJob, toResponse, transferables, type JobResponse, type WorkerJob } from './jobs.js';

export default function handle(job: WorkerJob): unknown {
  const response: JobResponse = toResponse(() => runJob(job));
  if (!response.ok) return response;
  return move({ [transferableSymbol]: transferables(response.result), [valueSymbol]: response });
}
