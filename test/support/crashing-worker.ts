/**
 * A worker entry for the failure tests: seekdata's own handler, except that the first parse job after
 * the flag file (SEEKDATA_CRASH_FLAG) appears kills its worker thread, once.
 */
import { existsSync, rmSync } from 'node:fs';
import handle from '../../src/workers/worker.js';
import type { WorkerJob } from '../../src/workers/jobs.js';

export default function crashing(job: WorkerJob): unknown {
  const flag = process.env.SEEKDATA_CRASH_FLAG;
  const parsing = job.step?.name === 'parse';
  if (parsing && flag !== undefined && existsSync(flag)) {
    rmSync(flag, { force: true });
    process.exit(3);
  }
  return handle(job);
}
