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
 * No clock is read in the worker: each call costs two atomic additions. When the pool closes, the data set
 * closes or the epoch the job reads for is left with such a job in flight, the job is stopped at the first
 * look that sees it in a call (CLOSED, or ABORTED for a left epoch: errors nobody may be waiting for), so
 * none of them waits for the limit of a call that may never end, nor leaves it spinning on a core.
 */
import { SeekdataError } from '../errors.js';
import type { JobStop } from '../workers/pool.js';
import { callPlace, mapFailure, type MapSpec } from './map-spec.js';

/**
 * A clock's bytes: Int32 at 0, the calls begun + ended (odd: one runs); at 4, 1 while the module loads;
 * Float64s at 8: the call's first and last record and its rows; Int32 at 32, 1 once the job is dropped.
 */
const CLOCK_BYTES = 40;
/** The worker's error for a call not made because its job was dropped (the calling thread names the place). */
const DROPPED = 'map call not made: its job was dropped';

/** The worker's side: marks a map call's start and end in the job's clock. */
export class CallClock {
  private readonly state: Int32Array;
  private readonly place: Float64Array;
  private readonly dropped: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.state = new Int32Array(buffer, 0, 2);
    this.place = new Float64Array(buffer, 8, 3);
    this.dropped = new Int32Array(buffer, 32, 1);
  }

  /**
   * A call on records `first`..`last` (`rows` rows; `loading`: the module's import) starts; or, when the
   * calling thread has dropped the job (its data set closed, its epoch left), throws instead of starting it.
   */
  begin(first: number, last: number, rows: number, loading = false): void {
    this.place[0] = first;
    this.place[1] = last;
    this.place[2] = rows;
    if (Atomics.load(this.dropped, 0) === 1) throw new SeekdataError('ABORTED', DROPPED);
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
  /** The error to give for the job's failure: the reason it was dropped when it failed for that. */
  failure(error: unknown): unknown;
}

interface Watched {
  file: string;
  map: MapSpec;
  limit: number;
  state: Int32Array;
  place: Float64Array;
  /** Set once it is to be cut: its next call is not made (the worker throws DROPPED instead). */
  dropped: Int32Array;
  controller: AbortController;
  /** The count last seen, and when (performance.now()) it was first seen. */
  seen: number;
  since: number;
  /** Why it is to be stopped in its next call (its pool closes, its data set closes, its epoch was left). */
  cut: ((where: string) => SeekdataError) | undefined;
  /** What else cuts it, looked at with its clock (no listener: a data set may have hundreds of jobs in flight). */
  cutters: MapCutters;
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
    w.cut ??= cutFor(w);
    if (w.cut !== undefined) Atomics.store(w.dropped, 0, 1);
    if (w.cut !== undefined && (count & 1) === 1) {
      // In a call (or the module's load) once it is to be cut: now (only JavaScript runs in a call).
      watched.delete(w);
      w.controller.abort(w.cut(callPlace(w.place[0], w.place[1], w.place[2])));
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

/** The error that stops a call of `w`, once its data set is closing or its epoch was left. */
function cutFor(w: Watched): ((where: string) => SeekdataError) | undefined {
  if (w.cutters.closing?.aborted === true) return stopped(w, 'CLOSED', 'its data set was closed');
  if (w.cutters.left?.aborted === true) return stopped(w, 'ABORTED', 'the epoch it read for was left');
  return undefined;
}

function stopped(w: Watched, code: 'CLOSED' | 'ABORTED', why: string): (where: string) => SeekdataError {
  return (where) => new SeekdataError(code, `${w.file}: map ${w.map.module} was stopped on ${where}: ${why} while it ran`, { file: w.file, record: w.place[0] });
}

/** Jobs with a timed map in flight (watched): 0 once every such job has settled or been stopped. */
export function watchedMapJobs(): number {
  return watched.size;
}

const NOT_WATCHED: MapWatch = { clock: undefined, stop: undefined, done: () => {}, failure: (error) => error };

/**
 * What stops a watched job early, beside its pool's closing: its data set's closing and its epoch's end
 * (seen at the watcher's next look: within a tenth of the limit, at most 250 ms).
 */
export interface MapCutters {
  /** Aborted when the data set closes (Indexed.closing). */
  closing?: AbortSignal | undefined;
  /** Aborted when the consumer leaves the epoch the job reads for (its result would be dropped). */
  left?: AbortSignal | undefined;
}

/**
 * Watches a job that runs `map` on records of `file` (the name its MAP_ERRORs give): a clock to send with
 * the job and the signal to run it with, or nothing when the map has no limit. Call `done` when the job
 * has settled.
 */
export function watchMap(file: string, map: MapSpec | undefined, cutters: MapCutters = {}): MapWatch {
  const limit = map?.timeoutMs;
  if (map === undefined || limit === undefined) return NOT_WATCHED;
  const clock = new SharedArrayBuffer(CLOCK_BYTES);
  const entry: Watched = {
    file,
    map,
    limit,
    state: new Int32Array(clock, 0, 2),
    place: new Float64Array(clock, 8, 3),
    dropped: new Int32Array(clock, 32, 1),
    controller: new AbortController(),
    seen: 0,
    since: performance.now(),
    cut: undefined,
    cutters,
  };
  watched.add(entry);
  arm();
  return {
    clock,
    stop: {
      signal: entry.controller.signal,
      closing: () => {
        if (!watched.has(entry)) return;
        entry.cut ??= stopped(entry, 'CLOSED', 'the worker pool closed');
        // Look now (a call in progress is cut at once), and keep looking as before.
        if (timer !== undefined) clearTimeout(timer);
        look();
      },
    },
    failure: (error) => {
      const cut = entry.cut;
      if (cut === undefined || !(error instanceof SeekdataError) || error.code !== 'ABORTED' || error.message !== DROPPED) return error;
      return cut(callPlace(entry.place[0], entry.place[1], entry.place[2]));
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
