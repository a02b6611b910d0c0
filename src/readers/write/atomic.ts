/**
 * An output file written atomically: the bytes go to a temporary file beside the target, created
 * exclusively (`wx`: a file or symlink planted at that name makes it fail instead of being followed),
 * mode 0644 masked by the umask; `commit` fsyncs it and renames it over the target, `discard` removes
 * it. Until `commit` the target is untouched (an old file there stays as it was), and after a failure
 * nothing is left behind. Node-only (fs): used by `recompress`, never by the readers' decoding paths.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SeekdataError } from '../../errors.js';

function ioError(path: string, what: string, cause: unknown): SeekdataError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const why = code ?? (cause instanceof Error ? cause.message : String(cause));
  return new SeekdataError('IO_ERROR', `${path}: ${what} (${why})`, { file: path, cause });
}

export class AtomicOutput {
  /** Bytes written so far. */
  bytes = 0;
  private finished = false;

  private constructor(
    readonly path: string,
    readonly tempPath: string,
    private readonly handle: FileHandle,
  ) {}

  /** Creates the temporary file for `path` (IO_ERROR naming `path` when its directory cannot take it). */
  static async create(path: string): Promise<AtomicOutput> {
    const existing = await stat(path).catch(() => undefined);
    if (existing?.isDirectory() === true) throw ioError(path, 'cannot write the output', Object.assign(new Error('is a directory'), { code: 'EISDIR' }));
    const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    let handle: FileHandle;
    try {
      handle = await open(temp, 'wx', 0o644);
    } catch (cause) {
      throw ioError(path, 'cannot create the output (a temporary file in its directory)', cause);
    }
    return new AtomicOutput(path, temp, handle);
  }

  async write(bytes: Uint8Array): Promise<void> {
    let done = 0;
    try {
      while (done < bytes.length) {
        const { bytesWritten } = await this.handle.write(bytes, done, bytes.length - done);
        done += bytesWritten;
      }
    } catch (cause) {
      throw ioError(this.path, `cannot write the output at byte ${this.bytes + done}`, cause);
    }
    this.bytes += bytes.length;
  }

  /** Flushes the file to disk and puts it in place of the target. On failure the temporary file is removed. */
  async commit(): Promise<void> {
    if (this.finished) throw new SeekdataError('CLOSED', `${this.path}: output already finished`, { file: this.path });
    this.finished = true;
    try {
      await this.handle.sync();
      await this.handle.close();
    } catch (cause) {
      await this.handle.close().catch(() => undefined);
      await unlink(this.tempPath).catch(() => undefined);
      throw ioError(this.path, 'cannot flush the output to disk', cause);
    }
    try {
      await rename(this.tempPath, this.path);
    } catch (cause) {
      await unlink(this.tempPath).catch(() => undefined);
      throw ioError(this.path, 'cannot put the output in place', cause);
    }
  }

  /** Removes the temporary file; the target stays as it was. Safe to call after a failed commit. */
  async discard(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await this.handle.close().catch(() => undefined);
    await unlink(this.tempPath).catch(() => undefined);
  }
}
