/**
 * One HTTP GET as `HttpSource` needs it: a time limit on every wait (for the answer's headers, then for each
 * piece of its body, so a large read over a slow link is not cut while a stalled one is), a body read into
 * exactly the bytes expected and never more, a body cancelled unread when its answer is rejected, and
 * every failure — refused, dropped, stalled, short, long — a typed `HTTP_ERROR` naming the (redacted) URL
 * and the range, marked transient (./retry.ts) when a retry may cure it (all but "longer than asked").
 * The real URL and headers are used here and nowhere shown.
 */
import { SeekdataError } from '../errors.js';
import type { SecretScrubber } from './redact.js';
import { transient } from './retry.js';

/** What a request needs to know about its source. */
export interface Target {
  /** The URL fetched (with its query string; without userinfo, which travels as an Authorization header). */
  readonly url: string;
  /** The redacted URL, used in every message. */
  readonly name: string;
  readonly headers: Record<string, string>;
  readonly timeoutMs: number;
  readonly scrubber: SecretScrubber;
}

/** The range a request is for, for messages: `[first, last]` inclusive, as in HTTP. */
export interface Asked {
  first: number;
  last: number;
}

export const describeRange = (asked: Asked): string => `bytes ${asked.first}-${asked.last}`;

/** An answer whose headers have arrived; its body is still unread. */
export class Answer {
  private released = false;

  constructor(
    readonly response: Response,
    private readonly controller: AbortController,
    readonly target: Target,
    readonly asked: Asked,
  ) {}

  get status(): number {
    return this.response.status;
  }

  header(name: string): string | undefined {
    return this.response.headers.get(name) ?? undefined;
  }

  /** Rejects the answer without reading its body: the connection is closed instead of downloading it. */
  async discard(): Promise<void> {
    if (this.released) return;
    this.released = true;
    try {
      await this.response.body?.cancel();
    } catch {
      // Already errored or closed: nothing left to cancel.
    }
    this.controller.abort();
  }

  /** The body, which must be exactly `expected` bytes; reading stops (and the body is cancelled) past that. */
  async body(expected: number): Promise<Uint8Array> {
    const { name, timeoutMs } = this.target;
    const range = describeRange(this.asked);
    const out = new Uint8Array(expected);
    let got = 0;
    let stalled = false;
    const fail = (what: string, cause?: unknown): SeekdataError =>
      new SeekdataError('HTTP_ERROR', `${name}: ${range}: ${what}`, {
        file: name,
        compressedOffset: this.asked.first + got,
        ...(cause === undefined ? {} : { cause: this.target.scrubber.scrubError(cause) }),
      });
    const stream = this.response.body;
    if (stream === null) {
      this.released = true;
      if (expected === 0) return out;
      throw transient(fail(`answer has no body, expected ${expected} bytes`));
    }
    const reader = stream.getReader();
    const timer = setTimeout(() => {
      stalled = true;
      this.controller.abort();
    }, timeoutMs);
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (got + value.length > expected) {
          throw fail(`the server sent more than the ${expected} bytes asked for`);
        }
        out.set(value, got);
        got += value.length;
        timer.refresh();
      }
    } catch (cause) {
      await this.discard();
      if (cause instanceof SeekdataError) throw cause;
      if (stalled) throw transient(fail(`the server stalled: no data for ${timeoutMs} ms after ${got} of ${expected} bytes`, cause));
      throw transient(fail(`connection dropped after ${got} of ${expected} bytes (${this.target.scrubber.scrub(describeCause(cause))})`, cause));
    } finally {
      clearTimeout(timer);
    }
    this.released = true;
    if (got < expected) throw transient(fail(`the answer ended after ${got} of ${expected} bytes`));
    return out;
  }
}

/** Sends a GET with these extra headers and waits (at most `timeoutMs`) for the answer's headers. */
export async function request(target: Target, extra: Record<string, string>, asked: Asked): Promise<Answer> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), target.timeoutMs);
  let response: Response;
  try {
    response = await fetch(target.url, { headers: { ...target.headers, ...extra }, signal: controller.signal });
  } catch (cause) {
    const what = controller.signal.aborted ? `no answer within ${target.timeoutMs} ms` : `request failed (${target.scrubber.scrub(describeCause(cause))})`;
    // Refused, reset, unreachable or unanswered: a retry may find the server again.
    throw transient(
      new SeekdataError('HTTP_ERROR', `${target.name}: ${describeRange(asked)}: ${what}`, {
        file: target.name,
        compressedOffset: asked.first,
        cause: target.scrubber.scrubError(cause),
      }),
    );
  } finally {
    clearTimeout(timer);
  }
  return new Answer(response, controller, target, asked);
}

/** "TypeError: fetch failed: connect ECONNREFUSED 127.0.0.1:1": the error and the causes fetch wraps. */
export function describeCause(cause: unknown): string {
  const parts: string[] = [];
  let at: unknown = cause;
  for (let depth = 0; depth < 4 && at !== undefined && at !== null; depth++) {
    if (at instanceof Error) {
      parts.push(depth === 0 ? `${at.name}: ${at.message}` : at.message);
      at = at.cause;
    } else {
      parts.push(String(at));
      break;
    }
  }
  return parts.join(': ');
}
