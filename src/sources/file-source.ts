/** A byte source over a local file: positional reads on one file handle, never the whole file. */
import { open, type FileHandle } from 'node:fs/promises';
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
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new SeekdataError('NOT_FOUND', `${path}: no such file`, { file: path, cause });
      throw new SeekdataError('IO_ERROR', `${path}: cannot open (${code ?? String(cause)})`, { file: path, cause });
    }
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new SeekdataError('IO_ERROR', `${path}: not a regular file`, { file: path });
      return new FileSource(handle, path, stat.size, String(Math.trunc(stat.mtimeMs)));
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
