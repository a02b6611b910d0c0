/**
 * The fuzz child process: runs seekdata on one mutant at a time and reports what came out (hashes of the
 * bytes, or the error). A separate process, so that the parent can time out a hang and survive a crash.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { closeSharedPool, isSeekdataError, openReader, type ReaderOptions } from '../src/index.js';
import { sha1, type CatOutcome, type ChildMessage, type ErrorInfo, type ReadOutcome, type ResultMessage, type RunMessage } from './protocol.js';

function describe(error: unknown, file: string): ErrorInfo {
  if (isSeekdataError(error)) return { typed: true, code: error.code, message: error.message, namesFile: error.message.includes(file) };
  const message = error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error);
  return { typed: false, code: undefined, message, namesFile: message.includes(file) };
}

/** What `seekdata cat FILE --no-index` does: bzip2 without an index is written by the scan that opens it. */
async function cat(file: string, options: ReaderOptions): Promise<CatOutcome> {
  const hash = createHash('sha1');
  let length = 0;
  const parts: Buffer[] = [];
  const take = (bytes: Uint8Array): void => {
    hash.update(bytes);
    length += bytes.length;
    parts.push(Buffer.from(bytes));
  };
  try {
    const reader = await openReader(file, { ...options, onScanChunk: (chunk) => take(chunk.bytes) });
    try {
      // What the scan did not hand out (gzip spans before their member's CRC-32) is read through the reader.
      if (!reader.scannedOnOpen) for await (const bytes of reader.stream(reader.scannedBytes)) take(bytes);
    } finally {
      await reader.close();
    }
    return { ok: true, length, hash: hash.digest('hex') };
  } catch (error) {
    return { ok: false, error: describe(error, file), partial: Buffer.concat(parts) };
  }
}

/** Random reads, concurrently, on a fresh reader that opens a damaged bzip2 file up to the damage. */
async function reads(file: string, options: ReaderOptions, ranges: Array<[number, number]>): Promise<ReadOutcome[]> {
  let reader;
  try {
    reader = await openReader(file, { ...options, allowDamage: true });
  } catch (error) {
    const info = describe(error, file);
    return ranges.map(() => ({ ok: false, error: info }));
  }
  const opened = reader;
  try {
    return await Promise.all(
      ranges.map(([offset, length]) =>
        opened.read(offset, length).then(
          (bytes): ReadOutcome => ({ ok: true, hash: sha1(bytes), length: bytes.length }),
          (error: unknown): ReadOutcome => ({ ok: false, error: describe(error, file) }),
        ),
      ),
    );
  } finally {
    await opened.close();
  }
}

async function run(message: RunMessage): Promise<ResultMessage> {
  const warnings: string[] = [];
  const options: ReaderOptions = { index: false, parallelism: message.parallelism, ...message.readerOptions, onWarning: (w) => warnings.push(w) };
  const catOutcome = await cat(message.file, options);
  const readOutcomes = await reads(message.file, options, message.reads);
  return { id: message.id, cat: catOutcome, reads: readOutcomes, warnings };
}

function send(message: ChildMessage): void {
  process.send?.(message);
}

// Only as the entry of a forked child: imported anywhere else it must not take over the IPC channel.
if (process.send !== undefined && process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  // Anything escaping seekdata's promises is a defect the parent must see, not a silent exit.
  process.on('uncaughtException', (error) => {
    send({ type: 'fatal', message: `uncaught exception: ${error.stack ?? String(error)}` });
    process.exit(70);
  });
  process.on('unhandledRejection', (error) => {
    send({ type: 'fatal', message: `unhandled rejection: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}` });
    process.exit(70);
  });
  process.on('message', (message: RunMessage | 'exit') => {
    if (message === 'exit') {
      void closeSharedPool().then(() => process.exit(0));
      return;
    }
    void run(message).then(
      (result) => send({ type: 'result', result }),
      (error: unknown) => send({ type: 'fatal', message: `harness error: ${String(error)}` }),
    );
  });
}
