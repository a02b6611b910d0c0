/** Messages between the fuzz harness and its seekdata child process (worker.ts). */
import { createHash } from 'node:crypto';
import type { ReaderOptions } from '../src/index.js';

export interface RunMessage {
  id: number;
  file: string;
  parallelism: number;
  reads: Array<[number, number]>;
  readerOptions: Partial<ReaderOptions>;
}

export interface ErrorInfo {
  typed: boolean;
  code: string | undefined;
  message: string;
  /** Whether the message names the file. */
  namesFile: boolean;
}

/** A failed cat keeps the bytes it wrote before the error (at most the size of a mutant's decoded data). */
export type CatOutcome = { ok: true; length: number; hash: string } | { ok: false; error: ErrorInfo; partial: Buffer };
export type ReadOutcome = { ok: true; hash: string; length: number } | { ok: false; error: ErrorInfo };

export interface ResultMessage {
  id: number;
  cat: CatOutcome;
  reads: ReadOutcome[];
  warnings: string[];
}

export type ChildMessage = { type: 'result'; result: ResultMessage } | { type: 'fatal'; message: string };

export function sha1(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('hex');
}

