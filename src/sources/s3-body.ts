/**
 * Reads the body of an SDK answer (a Node stream) into exactly the bytes expected: never more (reading
 * stops and the connection is closed past that), a time limit on each piece (a stalled store is a retried
 * failure, not a hang; a slow but steady download is not cut), and every early end a failure.
 */

/** Makes the error for a failure; `transient` tells whether a retry may cure it. */
export type BodyFailure = (what: string, transient: boolean, cause?: unknown) => Error;

interface BodyStream extends AsyncIterable<Uint8Array> {
  destroy?: (error?: Error) => void;
}

function isBody(body: unknown): body is BodyStream {
  return typeof body === 'object' && body !== null && Symbol.asyncIterator in body;
}

export async function readExactly(body: unknown, expected: number, timeoutMs: number, fail: BodyFailure): Promise<Uint8Array> {
  if (!isBody(body)) {
    if (expected === 0) return new Uint8Array(0);
    throw fail(`the answer has no body, expected ${expected} bytes`, true);
  }
  const out = new Uint8Array(expected);
  let got = 0;
  let stalled = false;
  const timer = setTimeout(() => {
    stalled = true;
    body.destroy?.(new Error(`no data for ${timeoutMs} ms`));
  }, timeoutMs);
  try {
    for await (const piece of body) {
      if (got + piece.length > expected) {
        // Leaving the loop destroys the stream: the rest is not downloaded.
        throw fail(`the store sent more than the ${expected} bytes asked for`, false);
      }
      out.set(piece, got);
      got += piece.length;
      timer.refresh();
    }
  } catch (cause) {
    body.destroy?.();
    if (cause instanceof Error && isOurs(cause)) throw cause;
    if (stalled) throw fail(`the store stalled: no data for ${timeoutMs} ms after ${got} of ${expected} bytes`, true, cause);
    throw fail(`connection dropped after ${got} of ${expected} bytes (${cause instanceof Error ? cause.message : String(cause)})`, true, cause);
  } finally {
    clearTimeout(timer);
  }
  if (got < expected) throw fail(`the answer ended after ${got} of ${expected} bytes`, true);
  return out;
}

/** Errors made by `fail` carry a code (SeekdataError); stream errors from Node carry none or an errno one. */
function isOurs(error: Error): boolean {
  return error.name === 'SeekdataError';
}
