/**
 * Bytes to post to a worker, and the buffers to move with them. Posting a view clones its whole buffer (a
 * view into a MemorySource's file or a loaded index would drag all of it along), so a view into a larger
 * buffer is copied out and the copy moved. An array that owns its buffer is moved when `owned` (a fresh
 * array of ours that nobody else holds), else cloned: a source's arrays may be shared (MemorySource), and
 * a cached chunk stays in the cache.
 */
export function postable(bytes: Uint8Array, owned: boolean): { bytes: Uint8Array; transfer: ArrayBuffer[] } {
  const whole = viewsWhole(bytes);
  if (!(bytes.buffer instanceof ArrayBuffer) || (whole && !owned)) return { bytes, transfer: [] };
  if (whole) return { bytes, transfer: [bytes.buffer] };
  // `new Uint8Array(view)` copies (a Buffer's `slice` would return another view of the same memory).
  const copy = new Uint8Array(bytes);
  return { bytes: copy, transfer: [copy.buffer] };
}

/** Whether `bytes` views the whole of its buffer (an ArrayBuffer, not shared): then the buffer can be moved. */
export function viewsWhole(bytes: Uint8Array): boolean {
  return bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
}

/** Bytes that view their whole buffer (a copy when they do not), so a worker can move them back. */
export function ownedBytes(bytes: Uint8Array): Uint8Array {
  // `new Uint8Array(view)` copies, whatever the view's class.
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
}
