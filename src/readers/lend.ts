/**
 * The thread's scratch buffer for decoded bytes that are lent instead of handed out (DecodeOutput.release):
 * a decoder writes a unit into it (xz: node-liblzma; bzip2: copied out of its WebAssembly decoder's memory) and lends a view
 * to the job, which copies what it keeps and gives the buffer back once its step has returned. A fresh
 * array per unit would cost its first writes: a page fault per 4 KiB, 1-15 µs each on this machine class,
 * 0.3-4 ms per MiB decoded.
 */
import { once } from '../util.js';

/** Units up to this size are decoded into the scratch buffer; larger ones into arrays of their own. */
export const SCRATCH_MAX_BYTES = 16 << 20;
let scratch = new Uint8Array(0);
let lent = false;

/**
 * This thread's scratch buffer, at least `size` bytes, lent until `releaseScratch`; undefined when it is lent
 * already (two jobs interleaved in one thread) or `size` is over SCRATCH_MAX_BYTES. (A buffer that was
 * moved away, and so detached, has length 0 and is replaced.)
 */
export function borrowScratch(size: number): Uint8Array | undefined {
  if (lent || size > SCRATCH_MAX_BYTES) return undefined;
  if (scratch.length < size) scratch = new Uint8Array(Math.min(SCRATCH_MAX_BYTES, Math.max(size, scratch.length * 2)));
  lent = true;
  return scratch;
}

export function releaseScratch(): void {
  lent = false;
}

/** A release of the scratch buffer that acts at its first call only (a late second call must not free a later lending). */
export function releaseOnce(): () => void {
  return once(releaseScratch);
}

/**
 * A copy of `bytes` lent from the thread's scratch buffer (with its `release`), or an array of its own when
 * the scratch is lent already or too small for them.
 */
export function lendCopy(bytes: Uint8Array): { bytes: Uint8Array; release?: () => void } {
  const scratch = borrowScratch(bytes.length);
  if (scratch === undefined) return { bytes: bytes.slice() };
  scratch.set(bytes);
  return { bytes: scratch.subarray(0, bytes.length), release: releaseOnce() };
}
