/**
 * Piscina worker entry, and a composition root: it loads the modules that register what jobs name (the
 * formats' decoders, the readers' `compress` step, the index's `analyze` step, the datasets' `parse`
 * step), prepares the decoders (a WebAssembly module compiled, native addons loaded) as the thread starts,
 * then runs jobs and returns each result with its owned typed arrays moved, not copied.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import '../readers/formats.js';
import '../readers/write/steps.js';
import '../index/steps.js';
import '../datasets/steps.js';
import { runJobNow, toResponse, transferables, type JobResponse, type WorkerJob } from './jobs.js';
import { applyThreadPriority } from './priority.js';
import { prepareDecoders } from './registry.js';

// Started now, not awaited at the top level: Piscina require()s the entry first, which a module with a
// top-level await cannot be. The first jobs wait for it (runJobNow); later ones run synchronously.
void prepareDecoders();

function reply(response: JobResponse): unknown {
  if (!response.ok) return response;
  return move({ [transferableSymbol]: transferables(response.result), [valueSymbol]: response });
}

/**
 * Handles one job. Synchronous once the job's decoder is prepared (and decodes synchronously): the pool
 * queues a second job on a busy worker (concurrentTasksPerWorker), and a synchronous handler posts each
 * result before that next job starts.
 */
export default function handle(job: WorkerJob): unknown {
  applyThreadPriority(job.priority);
  const response = toResponse(() => runJobNow(job));
  return response instanceof Promise ? response.then(reply) : reply(response);
}
