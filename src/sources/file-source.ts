/**
 * A byte source over a local file: positional reads on one file handle, never the whole file.
 *
 * Reads of up to `syncReadBytes` (default 4 MiB) are synchronous positional reads (`pread`): from the page
 * cache that is faster than a round trip through libuv's thread pool, and — what matters more — its bytes
 * are there without a turn of the event loop. A thread that trains a model (tfjs' `fitDataset` awaits only
 * promises that are already resolved between batches) turns the event loop only when it waits for something,
 * so an asynchronous read of the next chunk's compressed bytes completed only when training already waited
 * for that chunk, and the chunk's decode in a worker started only then. Larger reads go through the pool.
 */
import { constants, readSync, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { invalidOption, SeekdataError } from '../errors.js';
import { checkRange, type ByteSource } from './source.js';

/** Reads of up to this many bytes are synchronous by default (see the module comment). */
export const SYNC_READ_BYTES = 4 << 20;

export interface FileSourceOptions {
  /**
   * Reads of up to this many bytes are synchronous positional reads (no thread-pool round trip, no event-loop
   * turn needed); larger ones asynchronous. Default 4 MiB; 0: every read asynchronous (say, for files on a
   * slow network file system, where a synchronous read would hold up the calling thread).
   */
  syncReadBytes?: number | undefined;
}

export class FileSource implements ByteSource {
  private closed = false;

  private constructor(
    private readonly handle: FileHandle,
    readonly name: string,
    readonly size: number,
    readonly version: string,
    private readonly syncReadBytes: number,
  ) {}

  /**
   * Every read is a new array of its own (see `ByteSource.ownsReads`). A getter on the class, not a field:
   * an object spread from a FileSource (a wrapper with its own `read`) does not inherit the promise; one made
   * with `Object.create(fileSource)` does, and must say `ownsReads: false` if its `read` shares arrays.
   */
  get ownsReads(): boolean {
    return true;
  }

  static async open(path: string, options: FileSourceOptions = {}): Promise<FileSource> {
    const syncReadBytes = options.syncReadBytes ?? SYNC_READ_BYTES;
    if (!Number.isSafeInteger(syncReadBytes) || syncReadBytes < 0) throw invalidOption('syncReadBytes', 'a whole number of bytes, 0 or more', options.syncReadBytes);
    // The type is checked before opening: open() of a FIFO waits for a writer, forever if none comes.
    let info: Stats;
    try {
      info = await stat(path);
    } catch (cause) {
      throw openError(path, cause);
    }
    if (!info.isFile()) throw notRegular(path, info);
    let handle: FileHandle;
    try {
      // Non-blocking, in case the path became a FIFO since stat(): the fstat below then rejects it.
      handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    } catch (cause) {
      throw openError(path, cause);
    }
    try {
      const opened = await handle.stat();
      if (!opened.isFile()) throw notRegular(path, opened);
      return new FileSource(handle, path, opened.size, String(Math.trunc(opened.mtimeMs)), syncReadBytes);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    await this.readInto(offset, out);
    return out;
  }

  async readInto(offset: number, out: Uint8Array): Promise<void> {
    const length = out.length;
    if (this.closed) throw new SeekdataError('CLOSED', `${this.name}: source is closed`, { file: this.name });
    checkRange(this, offset, length);
    const sync = length <= this.syncReadBytes;
    let done = 0;
    while (done < length) {
      let bytesRead: number;
      try {
        bytesRead = sync ? readSync(this.handle.fd, out, done, length - done, offset + done) : (await this.handle.read(out, done, length - done, offset + done)).bytesRead;
      } catch (cause) {
        throw new SeekdataError('IO_ERROR', `${this.name}: read failed at offset ${offset + done}`, {
          file: this.name,
          compressedOffset: offset + done,
          cause,
        });
      }
      if (bytesRead === 0) {
        throw new SeekdataError(
          'TRUNCATED',
          `${this.name}: file ended at offset ${offset + done} while reading ${length} bytes at ${offset} (did it shrink?)`,
          { file: this.name, compressedOffset: offset + done },
        );
      }
      done += bytesRead;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }
}

function openError(path: string, cause: unknown): SeekdataError {
  const code = (cause as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new SeekdataError('NOT_FOUND', `${path}: no such file`, { file: path, cause });
  return new SeekdataError('IO_ERROR', `${path}: cannot open (${code ?? String(cause)})`, { file: path, cause });
}

/** A data file must be a regular file (a symlink to one is fine): a FIFO, socket, device or directory is refused. */
function notRegular(path: string, info: Stats): SeekdataError {
  const kind = info.isDirectory()
    ? 'a directory'
    : info.isFIFO()
      ? 'a FIFO (named pipe)'
      : info.isSocket()
        ? 'a socket'
        : info.isCharacterDevice()
          ? 'a character device'
          : info.isBlockDevice()
            ? 'a block device'
            : 'not a regular file';
  return new SeekdataError('IO_ERROR', `${path}: is ${kind}; seekdata reads regular files (it needs their size and positional reads)`, { file: path });
}
