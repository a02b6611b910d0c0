/** A fingerprint of a data source, stored in its index so a changed file is never read through an old index. */
import { createHash } from 'node:crypto';
import type { ByteSource } from '../sources/source.js';

export interface Fingerprint {
  size: number;
  /** mtime (files) or ETag / Last-Modified (HTTP); null when the source has none. */
  version: string | null;
  /** SHA-256 (hex, first 32 digits) of the first and the last 64 KiB. */
  head: string;
  tail: string;
}

const SPAN = 64 << 10;

export async function fingerprint(source: ByteSource): Promise<Fingerprint> {
  const hash = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex').slice(0, 32);
  const headLength = Math.min(SPAN, source.size);
  const tailLength = Math.min(SPAN, source.size);
  return {
    size: source.size,
    version: source.version ?? null,
    head: hash(await source.read(0, headLength)),
    tail: hash(await source.read(source.size - tailLength, tailLength)),
  };
}

/** Why two fingerprints differ, or undefined when they agree. */
export function fingerprintDifference(stored: Fingerprint, actual: Fingerprint): string | undefined {
  if (stored.size !== actual.size) return `size changed from ${stored.size} to ${actual.size} bytes`;
  if (stored.head !== actual.head) return 'the first 64 KiB changed';
  if (stored.tail !== actual.tail) return 'the last 64 KiB changed';
  if (stored.version !== actual.version) return `modification stamp changed (${stored.version ?? 'none'} → ${actual.version ?? 'none'})`;
  return undefined;
}
