/**
 * Writing Arrow IPC (file or stream format) batch by batch, atomically: apache-arrow's
 * `RecordBatchFileWriter` / `RecordBatchStreamWriter` serialise each batch into a sink of our own, and
 * the bytes go to a temporary file (created exclusively, `wx`, beside the target) before the next batch
 * is produced, so at most one batch's bytes wait in memory whatever the number of batches. The temporary
 * file is fsynced and renamed over the target at the end; on any error it is removed and the target is
 * left as it was.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { AsyncByteQueue, RecordBatchFileWriter, RecordBatchStreamWriter, type RecordBatch, type Schema } from 'apache-arrow';
import { SeekdataError } from '../errors.js';

/** `'file'`: the Arrow IPC file format (`.arrow`, random access to batches); `'stream'`: the IPC stream format (`.arrows`). */
export type ArrowIpcFormat = 'file' | 'stream';

export interface WrittenArrow {
  path: string;
  /** Size of the written file. */
  bytes: number;
  rows: number;
  batches: number;
}

/** The writer's sink: keeps the serialised pieces until we write them out (the writer's own queue would grow unread). */
class PieceSink extends AsyncByteQueue {
  pieces: Uint8Array[] = [];

  override write(value: Parameters<AsyncByteQueue['write']>[0]): void {
    if (!ArrayBuffer.isView(value)) throw new TypeError('Arrow writer produced a piece that is not bytes');
    // A view, no copy: the batch's buffers stay alive until the piece is written out.
    if (value.byteLength > 0) this.pieces.push(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
  }
}

/** An `IO_ERROR` naming the path and why it cannot be written. */
export function writeError(path: string, cause: unknown): SeekdataError {
  if (cause instanceof SeekdataError) return cause;
  const code = (cause as NodeJS.ErrnoException).code;
  const why =
    code === 'EISDIR'
      ? 'it is a directory (give a file name)'
      : code === 'ENOENT'
        ? `its directory ${dirname(resolve(path))} does not exist`
        : code === 'ENOTDIR'
          ? 'a part of its directory path is not a directory'
          : code === 'EACCES' || code === 'EPERM'
            ? 'permission denied'
            : code === 'ENOSPC'
              ? 'no space left on the device'
              : (code ?? String(cause));
  return new SeekdataError('IO_ERROR', `${path}: cannot write the Arrow file: ${why}`, { file: path, cause });
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done);
    done += bytesWritten;
  }
}

/**
 * Writes the batches (all with `schema`) to `path` as Arrow IPC, atomically. The parent directory must
 * exist; a path that is a directory, or cannot be written, is an `IO_ERROR` naming the path. An error
 * from the batches themselves is passed on unchanged (and nothing is left behind).
 */
export async function writeArrowBatches(
  schema: Schema,
  batches: AsyncIterable<RecordBatch> | Iterable<RecordBatch>,
  path: string,
  format: ArrowIpcFormat = 'file',
): Promise<WrittenArrow> {
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory() === true) throw writeError(path, Object.assign(new Error('is a directory'), { code: 'EISDIR' }));
  const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  let handle: FileHandle;
  try {
    handle = await open(temp, 'wx', 0o644);
  } catch (cause) {
    throw writeError(path, cause);
  }
  const sink = new PieceSink();
  const writer = format === 'file' ? new RecordBatchFileWriter() : new RecordBatchStreamWriter();
  let bytes = 0;
  const flush = async (): Promise<void> => {
    const pieces = sink.pieces;
    sink.pieces = [];
    for (const piece of pieces) {
      try {
        await writeAll(handle, piece);
      } catch (cause) {
        throw writeError(path, cause);
      }
      bytes += piece.byteLength;
    }
  };
  let rows = 0;
  let count = 0;
  try {
    writer.reset(sink, schema);
    await flush();
    for await (const batch of batches) {
      writer.write(batch);
      rows += batch.numRows;
      count++;
      await flush();
    }
    // Closing writes the footer (file format) or the end-of-stream marker.
    writer.close();
    await flush();
    try {
      await handle.sync();
    } catch (cause) {
      throw writeError(path, cause);
    }
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (cause) {
    await unlink(temp).catch(() => undefined);
    throw writeError(path, cause);
  }
  return { path, bytes, rows, batches: count };
}
