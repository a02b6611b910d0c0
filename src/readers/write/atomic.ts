/**
 * An output file written atomically: the bytes go to a temporary file beside the target, created
 * exclusively (`wx`: a file or symlink planted at that name makes it fail instead of being followed),
 * mode 0644 masked by the umask; `commit` fsyncs it and puts it in place, `discard` removes it. Until
 * `commit` the target is untouched (an old file there stays as it was), and after a failure nothing is
 * left behind. Without `overwrite` an existing target (any kind of file, a dangling symlink too) is an
 * IO_ERROR, both when the output is created and at `commit`: there the file is linked to the target's
 * name (`link` fails if the name exists, so a file that appeared meanwhile is not replaced either);
 * with `overwrite` it is renamed over the target. Node-only (fs): used by `recompress`, never by the readers' decoding paths.
 */
import { randomBytes } from 'node:crypto';
import { link, lstat, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SeekdataError } from '../../errors.js';

function ioError(path: string, what: string, cause: unknown): SeekdataError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const why = code ?? (cause instanceof Error ? cause.message : String(cause));
  return new SeekdataError('IO_ERROR', `${path}: ${what} (${why})`, { file: path, cause });
}

/** The error for an output that exists and may not be replaced. */
function exists(path: string): SeekdataError {
  const cause = Object.assign(new Error('file exists'), { code: 'EEXIST' });
  return new SeekdataError('IO_ERROR', `${path}: the output exists; it is replaced only when asked (overwrite: true; --force on the command line)`, { file: path, cause });
}

export class AtomicOutput {
  /** Bytes written so far. */
  bytes = 0;
  private finished = false;

  private constructor(
    readonly path: string,
    readonly tempPath: string,
    private readonly handle: FileHandle,
    private readonly overwrite: boolean,
  ) {}

  /**
   * Creates the temporary file for `path` (IO_ERROR naming `path` when its directory cannot take it, when
   * it is a directory, or when it exists and `overwrite` is not set).
   */
  static async create(path: string, options: { overwrite?: boolean } = {}): Promise<AtomicOutput> {
    const overwrite = options.overwrite === true;
    const existing = await stat(path).catch(() => undefined);
    if (existing?.isDirectory() === true) throw ioError(path, 'cannot write the output', Object.assign(new Error('is a directory'), { code: 'EISDIR' }));
    if (!overwrite && (await lstat(path).catch(() => undefined)) !== undefined) throw exists(path);
    const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    let handle: FileHandle;
    try {
      handle = await open(temp, 'wx', 0o644);
    } catch (cause) {
      throw ioError(path, 'cannot create the output (a temporary file in its directory)', cause);
    }
    return new AtomicOutput(path, temp, handle, overwrite);
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
      if (this.overwrite) await rename(this.tempPath, this.path);
      else await this.linkInPlace();
    } catch (cause) {
      await unlink(this.tempPath).catch(() => undefined);
      if (cause instanceof SeekdataError) throw cause;
      throw ioError(this.path, 'cannot put the output in place', cause);
    }
  }

  /**
   * Puts the file in place only if the target's name is free: `link` refuses an existing name. On a file
   * system without hard links, a last check and a rename (a file appearing between them is replaced).
   */
  private async linkInPlace(): Promise<void> {
    try {
      await link(this.tempPath, this.path);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw exists(this.path);
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw cause;
      if ((await lstat(this.path).catch(() => undefined)) !== undefined) throw exists(this.path);
      await rename(this.tempPath, this.path);
      return;
    }
    await unlink(this.tempPath).catch((cause: unknown) => {
      throw ioError(this.path, `the output is in place, but its temporary name ${this.tempPath} could not be removed`, cause);
    });
  }

  /** Removes the temporary file; the target stays as it was. Safe to call after a failed commit. */
  async discard(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await this.handle.close().catch(() => undefined);
    await unlink(this.tempPath).catch(() => undefined);
  }
}
