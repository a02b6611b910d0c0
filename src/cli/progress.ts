/**
 * Progress of the CLI's long tasks, on stderr, with rate and ETA. On a terminal a bar redrawn in place
 * (at most 10 times a second); elsewhere (CI logs, `nohup`, a file) a plain line every few seconds, so
 * that a long run shows life without flooding the log: the first one only after the interval, so quick
 * commands print none, and a closing line for a task that printed any. Labels are fixed words chosen by
 * the commands: they never carry a file name, a URL or anything else a user gave.
 */

/** One task's progress. */
export interface ProgressBar {
  /**
   * Work done so far, and the total when it is known (or has changed); `decoded`: decompressed bytes
   * produced so far, for a task counted in compressed bytes that decodes (shown beside them).
   */
  update(done: number, total?: number, decoded?: number): void;
  /** The task is over: a terminal keeps its last line; a log gets a closing line if it got any line. */
  done(): void;
}

export interface TaskOptions {
  /** Total work, when known: with it come a percentage and an ETA. */
  total?: number;
  /**
   * `bytes` (shown in MB, rate in MB/s) or the plural noun of what is counted (`records`, `rows`,
   * `reads`). Required: a count shown in the wrong unit (rows as MB) would mislead.
   */
  unit: string;
}

export interface ReporterOptions {
  /** Draw a bar (a terminal) or print plain lines (anything else). */
  tty: boolean;
  /** Off a terminal: at most one line per this many ms. */
  intervalMs: number;
  /** The clock, in ms (tests give their own). Default `performance.now`. */
  now?: () => number;
}

/** Makes the progress tasks of one command; off a terminal they share one clock, so lines stay sparse. */
export class ProgressReporter {
  private readonly now: () => number;
  /** When the last plain line was written (or the reporter made): the next is due an interval later. */
  private lastLine: number;
  /** A bar is drawn on the terminal's current line, without its newline yet. */
  private open = false;

  constructor(
    private readonly stream: { write(text: string): unknown },
    private readonly options: ReporterOptions,
  ) {
    this.now = options.now ?? (() => performance.now());
    this.lastLine = this.now();
  }

  /** Ends a bar left drawn by a task that did not finish (the command failed), so a message starts on a line of its own. */
  endLine(): void {
    if (!this.open) return;
    this.stream.write('\n');
    this.open = false;
  }

  task(label: string, options: TaskOptions): ProgressBar {
    const unit = options.unit;
    const started = this.now();
    let total = options.total;
    let done = 0;
    let decoded: number | undefined;
    let drawnAt = -Infinity;
    let lines = 0;
    const line = (withBar: boolean): string => describe(label, withBar ? bar(done, total) : '', done, total, unit, (this.now() - started) / 1000) + decodedText(decoded);
    return {
      update: (value, newTotal, newDecoded) => {
        done = value;
        if (newDecoded !== undefined) decoded = newDecoded;
        if (newTotal !== undefined) total = newTotal;
        const now = this.now();
        if (this.options.tty) {
          const finished = total !== undefined && done >= total;
          if (now - drawnAt < 100 && !finished) return;
          drawnAt = now;
          // \x1b[K clears what a longer previous line left on the right.
          this.stream.write(`\r${line(true)}\x1b[K`);
          this.open = true;
          lines++;
        } else if (now - this.lastLine >= this.options.intervalMs) {
          this.lastLine = now;
          this.stream.write(`seekdata: ${line(false)}\n`);
          lines++;
        }
      },
      done: () => {
        if (lines === 0) return;
        lines = 0;
        if (this.options.tty) {
          this.stream.write(`\r${line(true)}\x1b[K\n`);
          this.open = false;
        } else {
          const seconds = (this.now() - started) / 1000;
          this.stream.write(`seekdata: ${label} done: ${amount(done, undefined, unit)} in ${duration(seconds)}${rate(done, seconds, unit)}${decodedText(decoded)}\n`);
        }
      },
    };
  }
}

const silent: ProgressBar = { update() {}, done() {} };

/** A task that shows nothing (`-q`). */
export function silentProgress(): ProgressBar {
  return silent;
}

/** Seconds between plain lines when $SEEKDATA_PROGRESS_SECONDS does not say otherwise. */
export const DEFAULT_PROGRESS_SECONDS = 5;

/**
 * $SEEKDATA_PROGRESS_SECONDS: seconds between plain progress lines off a terminal (0: none); the default
 * when it is unset, `invalid` when it is not a number of seconds.
 */
export function progressSecondsFromEnv(): number | 'invalid' {
  const raw = process.env.SEEKDATA_PROGRESS_SECONDS;
  if (raw === undefined || raw.trim() === '') return DEFAULT_PROGRESS_SECONDS;
  const seconds = Number(raw);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : 'invalid';
}

/**
 * One task on its own stream (the examples use it): a bar on a terminal, else a plain line every
 * `intervalMs` (default: $SEEKDATA_PROGRESS_SECONDS, else 5 s; 0: none).
 */
export function progressBar(label: string, enabled = true, stream: { write(text: string): unknown; isTTY?: boolean } = process.stderr, options: TaskOptions & { intervalMs?: number } = { unit: 'bytes' }): ProgressBar {
  const fromEnv = progressSecondsFromEnv();
  const { intervalMs = (fromEnv === 'invalid' ? DEFAULT_PROGRESS_SECONDS : fromEnv) * 1000, ...task } = options;
  const tty = stream.isTTY === true;
  if (!enabled || (!tty && intervalMs === 0)) return silent;
  return new ProgressReporter(stream, { tty, intervalMs }).task(label, task);
}

const count = new Intl.NumberFormat('en-US');
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

/** `, 2147.5 MB decoded` when the task reports decompressed bytes, else nothing. */
function decodedText(decoded: number | undefined): string {
  return decoded === undefined ? '' : `, ${(decoded / 1e6).toFixed(1)} MB decoded`;
}

/** `[#########.....................]` for a known total, else nothing. */
function bar(done: number, total: number | undefined): string {
  if (total === undefined || total <= 0) return '';
  const width = 30;
  const filled = Math.round(Math.min(1, Math.max(0, done / total)) * width);
  return ` [${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

function amount(done: number, total: number | undefined, unit: string): string {
  if (unit === 'bytes') return total === undefined ? `${(done / 1e6).toFixed(1)} MB` : `${(done / 1e6).toFixed(1)}/${(total / 1e6).toFixed(1)} MB`;
  return total === undefined ? `${count.format(done)} ${unit}` : `${count.format(done)}/${count.format(total)} ${unit}`;
}

function rate(done: number, seconds: number, unit: string): string {
  if (seconds < 0.5 || done <= 0) return '';
  const perSecond = done / seconds;
  return unit === 'bytes' ? `, ${(perSecond / 1e6).toFixed(1)} MB/s` : `, ${compact.format(perSecond)} ${unit}/s`;
}

/** 7 s, 4m 05s, 2h 03m. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** `label [bar] 45% 47.5/106.0 MB, 12.3 MB/s, ETA 5 s` (the parts known so far). */
function describe(label: string, barText: string, done: number, total: number | undefined, unit: string, seconds: number): string {
  const known = total !== undefined && total > 0;
  const percent = known ? ` ${Math.floor(Math.min(1, done / total) * 100)}%` : '';
  let eta = '';
  if (known && seconds >= 0.5 && done > 0 && done < total) eta = `, ETA ${duration(((total - done) * seconds) / done)}`;
  return `${label}${barText}${percent} ${amount(done, known ? total : undefined, unit)}${rate(done, seconds, unit)}${eta}`;
}
