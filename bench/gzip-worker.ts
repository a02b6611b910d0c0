/** Piscina worker for bench/gzip.ts: decodes one gzip unit (a plain-data task) and moves the bytes back. */
import { move } from 'piscina';
import { decodeGzipUnit, type GzipDecodeTask } from '../src/readers/gzip/index.js';

export default function decode(task: GzipDecodeTask): Uint8Array {
  return move(decodeGzipUnit(task)) as Uint8Array;
}
