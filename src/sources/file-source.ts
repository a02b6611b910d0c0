/** A byte source over a local file: positional reads on one file handle, never the whole file. */
import { constants, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { SeekdataError } from '../errors.js';
import { checkRange, type ByteSource } from './source.js';

export class FileSource implements ByteSource {
  private closed = false;

  private constructor(
    private readonly handle: FileHandle,
    readonly name: string,
    readonly size: number,
    readonly version: string,
  ) {}

  static async open(path: string): Promise<FileSource> {
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
      return new FileSource(handle, path, opened.size, String(Math.trunc(opened.mtimeMs)));
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (this.closed) throw new SeekdataError('CLOSED', `${this.name}: source is closed`, { file: this.name });
    checkRange(this, offset, length);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await this.handle.read(out, done, length - done, offset + done));
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
    return out;
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
