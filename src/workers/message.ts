/**
 * What a job message costs to post. Posting a typed array to a worker clones its whole ArrayBuffer, not
 * just the bytes it views: a 21-byte view into the 265 MB buffer of a loaded index file drags all of it
 * into every job. `footprint` measures a message (the distinct ArrayBuffers it reaches against the bytes
 * its views cover); `leanCopy` rebuilds a message with each oversized view copied out, which the pool
 * does as a safety net (callers are expected never to need it: they post owned arrays or small copies).
 */

export interface MessageFootprint {
  /** Bytes the message's own typed arrays view (what the worker needs). */
  own: number;
  /** Bytes of the distinct ArrayBuffers behind those views (what posting copies, or moves). */
  carried: number;
  /** Views whose buffer is larger than they are by more than `OVERSIZE_SLACK`. */
  oversized: number;
}

/**
 * A view may carry this many bytes beyond its own without being copied out: small arrays share Node's
 * 8 KiB allocation pool, and copying them would cost more than it saves.
 */
export const OVERSIZE_SLACK = 64 << 10;

/** Messages are plain data a few levels deep (a job, its task or spec, their fields). */
const MAX_DEPTH = 8;

function isView(value: unknown): value is ArrayBufferView {
  return ArrayBuffer.isView(value);
}

function oversizedView(view: ArrayBufferView): boolean {
  return view.buffer instanceof ArrayBuffer && view.buffer.byteLength - view.byteLength > OVERSIZE_SLACK;
}

function visit(value: unknown, depth: number, onView: (view: ArrayBufferView) => void): void {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return;
  if (isView(value)) {
    onView(value);
    return;
  }
  if (value instanceof ArrayBuffer) {
    onView(new Uint8Array(value));
    return;
  }
  if (Array.isArray(value)) {
    // Arrays of primitives (vocabularies, names) hold no views: stop at the first primitive.
    for (const item of value) {
      if (item === null || typeof item !== 'object') return;
      visit(item, depth + 1, onView);
    }
    return;
  }
  for (const key of Object.keys(value)) visit((value as Record<string, unknown>)[key], depth + 1, onView);
}

/** Measures what posting `message` would copy or move. */
export function footprint(message: unknown): MessageFootprint {
  const buffers = new Set<ArrayBufferLike>();
  let own = 0;
  let carried = 0;
  let oversized = 0;
  visit(message, 0, (view) => {
    own += view.byteLength;
    if (oversizedView(view)) oversized++;
    if (!buffers.has(view.buffer)) {
      buffers.add(view.buffer);
      // A SharedArrayBuffer is shared, not copied: it carries nothing but the view.
      carried += view.buffer instanceof ArrayBuffer ? view.buffer.byteLength : view.byteLength;
    }
  });
  return { own, carried, oversized };
}

function copyView(view: ArrayBufferView): ArrayBufferView {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
  if (view instanceof DataView) return new DataView(bytes.buffer);
  const Ctor = (view as unknown as { constructor: new (buffer: ArrayBuffer) => ArrayBufferView }).constructor;
  return new Ctor(bytes.buffer);
}

function rebuild(value: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return value;
  if (isView(value)) return oversizedView(value) ? copyView(value) : value;
  if (value instanceof ArrayBuffer) return value;
  if (Array.isArray(value)) {
    if (value.length === 0 || value[0] === null || typeof value[0] !== 'object') return value;
    return value.map((item: unknown) => rebuild(item, depth + 1));
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = rebuild((value as Record<string, unknown>)[key], depth + 1);
  return out;
}

/**
 * The ArrayBuffers a message (a job's result) can move instead of copy: those of typed arrays that view
 * their whole buffer. A view into part of a buffer is left to be cloned: its buffer may be Node's shared
 * pool of small Buffers (which cannot be moved) or hold bytes the message does not own.
 */
export function ownedBuffers(message: unknown): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  visit(message, 0, (view) => {
    const buffer = view.buffer;
    if (buffer instanceof ArrayBuffer && view.byteOffset === 0 && view.byteLength === buffer.byteLength) out.add(buffer);
  });
  return [...out];
}

/** The message with every oversized view replaced by a copy of its bytes (other values shared, not copied). */
export function leanCopy<T>(message: T): T {
  return rebuild(message, 0) as T;
}
