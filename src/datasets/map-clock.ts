/**
 * The time limit of a user `map` (`map.timeoutMs`). A job whose map has a limit carries a small
 * SharedArrayBuffer, its clock: the worker counts the map's calls in it (the count is odd while a call —
 * or the module's first load — runs, until its promise settles) and writes the records of the call before
 * it starts. The calling thread keeps the time: one watcher looks at the clocks of the jobs in flight a few
 * times per limit (an unref'd timer, armed only while such jobs are in flight), and a call it has seen
 * running for longer than the limit — counted from the first look that saw that call, so a job's time in
 * the pool's queue, its decoding and parsing, and its other calls never count, and a call is never stopped
 * early — fires the job's `stop` signal with the MAP_ERROR: the pool then terminates the thread running
 * the job (a synchronous endless loop cannot be stopped otherwise) and rejects the job with that error.
 * No clock is read in the worker: each call costs two atomic additions. When the pool closes with such a
 * job in flight, the job is stopped at the first look that sees it in a call (a CLOSED error), so a close
 * never waits for the limit of a call that may never end.
 */
import { SeekdataError } from '../errors.js';
import type { JobStop } from '../workers/pool.js';
import { callPlace, mapFailure, type MapSpec } from './map-spec.js';

/** A clock's bytes: Int32 at 0, the calls begun + ended (odd: one runs); at 4, 1 while the module loads; Float64s at 8: the call's first and last record and its rows. */
const CLOCK_BYTES = 32;

/** The worker's side: marks a map call's start and end in the job's clock. */
export class CallClock {
  private readonly state: Int32Array;
  private readonly place: Float64Array;

  constructor(buffer: SharedArrayBuffer) {
    this.state = new Int32Array(buffer, 0, 2);
    this.place = new Float64Array(buffer, 8, 3);
  }

  /** A call on records `first`..`last` (`rows` rows; `loading`: the module's import) starts. */
  begin(first: number, last: number, rows: number, loading = false): void {
    this.place[0] = first;
    this.place[1] = last;
    this.place[2] = rows;
    this.state[1] = loading ? 1 : 0;
    // The addition publishes the writes above to the thread that loads the count (Atomics are ordered).
    Atomics.add(this.state, 0, 1);
  }

  /** The call has returned, thrown, or its promise settled. */
  end(): void {
    Atomics.add(this.state, 0, 1);
  }
}

/** What the calling thread gives a map job: its clock and the signal that stops it (none without a limit). */
export interface MapWatch {
  clock: SharedArrayBuffer | undefined;
  stop: JobStop | undefined;
  /** The job has settled: stop watching it. */
  done(): void;
}

interface Watched {
  file: string;
  map: MapSpec;
  limit: number;
  state: Int32Array;
  place: Float64Array;
  controller: AbortController;
  /** The count last seen, and when (performance.now()) it was first seen. */
  seen: number;
  since: number;
  /** Its pool is closing: stop it in its next call. */
  closing: boolean;
}

const watched = new Set<Watched>();
let timer: ReturnType<typeof setTimeout> | undefined;

/** How often the watcher looks: a tenth of the smallest limit in flight, between 5 ms and 250 ms. */
function interval(): number {
  let least = Infinity;
  for (const w of watched) least = Math.min(least, w.limit);
  return Math.min(250, Math.max(5, least / 10));
}

function arm(): void {
  if (timer !== undefined || watched.size === 0) return;
  timer = setTimeout(look, interval());
  timer.unref();
}

function look(): void {
  timer = undefined;
  const now = performance.now();
  for (const w of watched) {
    const count = Atomics.load(w.state, 0);
    if (w.closing && (count & 1) === 1) {
      // In a call (or the module's load) while its pool closes: cut now (only JavaScript runs in a call).
      watched.delete(w);
      const where = callPlace(w.place[0], w.place[1], w.place[2]);
      w.controller.abort(new SeekdataError('CLOSED', `${w.file}: map ${w.map.module} was stopped on ${where}: the worker pool closed while it ran`, { file: w.file, record: w.place[0] }));
    } else if ((count & 1) === 0 || count !== w.seen) {
      w.seen = count;
      w.since = now;
    } else if (now - w.since >= w.limit) {
      watched.delete(w);
      const what = Atomics.load(w.state, 1) === 1 ? 'did not load' : 'did not return';
      w.controller.abort(mapFailure(w.file, w.map, `${what} within ${w.limit} ms`, w.place[0], w.place[1], w.place[2]));
    }
  }
  arm();
}

const NOT_WATCHED: MapWatch = { clock: undefined, stop: undefined, done: () => {} };

/**
 * Watches a job that runs `map` on records of `file` (the name its MAP_ERRORs give): a clock to send with
 * the job and the signal to run it with, or nothing when the map has no limit. Call `done` when the job
 * has settled.
 */
export function watchMap(file: string, map: MapSpec | undefined): MapWatch {
  const limit = map?.timeoutMs;
  if (map === undefined || limit === undefined) return NOT_WATCHED;
  const clock = new SharedArrayBuffer(CLOCK_BYTES);
  const entry: Watched = {
    file,
    map,
    limit,
    state: new Int32Array(clock, 0, 2),
    place: new Float64Array(clock, 8, 3),
    controller: new AbortController(),
    seen: 0,
    since: performance.now(),
    closing: false,
  };
  watched.add(entry);
  arm();
  return {
    clock,
    stop: {
      signal: entry.controller.signal,
      closing: () => {
        entry.closing = true;
        // Look now (a call in progress is cut at once), and keep looking as before.
        if (timer !== undefined) clearTimeout(timer);
        look();
      },
    },
    done: () => {
      watched.delete(entry);
      if (watched.size === 0 && timer !== undefined) {
        clearTimeout(timer);
        timer = undefined;
      }
    },
  };
}
