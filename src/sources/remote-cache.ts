/**
 * An optional disk cache of downloaded ranges of remote objects, so a second epoch does not download again.
 *
 * - Keyed by the object's identity (`s3://bucket/key`, or scheme + host + path of a URL: never credentials
 *   or a signed query string), its version (ETag, or Last-Modified) and the range: a new version of the
 *   object never meets the old bytes. A source without a version is not cached.
 * - Safe when several processes share the directory: an entry is written to a temporary file created with
 *   `wx` (exclusive: a planted file or symlink at that name is not followed) and renamed into place, so a
 *   reader sees a whole entry or none; each entry carries its length and a SHA-256 of its bytes, checked on
 *   every read (a damaged or partial entry is deleted and counts as a miss, never served).
 * - Bounded: least recently used entries (by modification time, refreshed on every hit) are deleted when the
 *   directory holds more than `remoteCacheBytes`. Eviction by another process at any moment is tolerated.
 * - The directory must be the user's own: one owned by another user or writable by everyone is refused
 *   (its entries could be planted). It is created with mode 0700, entries with 0644 less the umask.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SeekdataError, invalidOption } from '../errors.js';

/** Default byte budget of the disk cache: 10 GiB. */
export const DEFAULT_REMOTE_CACHE_BYTES = 10 * 2 ** 30;

const MAGIC = Buffer.from('SDRCACHE', 'latin1');
const HEADER = MAGIC.length + 8 + 32;
const SUFFIX = '.blk';
/** A temporary file older than this was left by a process that died: eviction deletes it. */
const STALE_TEMP_MS = 3_600_000;
/** Eviction runs down to this share of the budget, so it does not run again at the next write. */
const LOW_WATER = 0.9;
/**
 * A process rescans the directory after writing this share of the budget: other processes' writes since
 * its last scan are unseen, so each sharing process can overrun the budget by about this much at most.
 */
const RESCAN_SHARE = 1 / 32;

export class RemoteCache {
  /** Bytes believed to be in the directory (exact after each scan; other processes' writes show at the next). */
  private approxBytes: number | undefined;
  private evicting: Promise<void> | undefined;
  private writesSinceScan = 0;
  /** Bytes this process has written in all, and that count when its last scan began. */
  private written = 0;
  private writtenAtScan = 0;

  private constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {}

  /** Opens (creating it when missing) a cache directory after checking that it is the user's own. */
  static async open(dir: string, maxBytes = DEFAULT_REMOTE_CACHE_BYTES): Promise<RemoteCache> {
    if (typeof dir !== 'string' || dir === '') throw invalidOption('remoteCacheDir', 'a directory path', dir);
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw invalidOption('remoteCacheBytes', 'a positive integer', maxBytes);
    const path = resolve(dir);
    try {
      await mkdir(path, { recursive: true, mode: 0o700 });
    } catch (cause) {
      throw new SeekdataError('IO_ERROR', `remoteCacheDir ${path}: cannot be created (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`, { file: path, cause });
    }
    const info = await stat(path);
    if (!info.isDirectory()) throw refused(path, 'is not a directory');
    const uid = process.getuid?.();
    if (uid !== undefined && info.uid !== uid) throw refused(path, `is owned by uid ${info.uid}, not by you (uid ${uid})`);
    if ((info.mode & 0o002) !== 0) throw refused(path, 'is writable by every user (chmod o-w it)');
    return new RemoteCache(path, maxBytes);
  }

  /** The entry for this range of this version of this object, or undefined (missing, damaged, evicted). */
  async get(identity: string, version: string, offset: number, length: number): Promise<Uint8Array | undefined> {
    const file = this.fileOf(identity, version, offset, length);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch {
      return undefined;
    }
    const body = checkedBody(bytes, length);
    if (body === undefined) {
      await unlink(file).catch(() => undefined);
      return undefined;
    }
    const now = new Date();
    await utimes(file, now, now).catch(() => undefined);
    return body;
  }

  /**
   * Whether an entry of the right size exists for this range (without reading or checking it: `get`
   * does that when the range is read). For read-ahead, which leaves cached ranges alone.
   */
  async has(identity: string, version: string, offset: number, length: number): Promise<boolean> {
    try {
      return (await stat(this.fileOf(identity, version, offset, length))).size === HEADER + length;
    } catch {
      return false;
    }
  }

  /** Stores a range (best effort: a full disk or a lost race loses the entry, never the read). */
  async put(identity: string, version: string, offset: number, bytes: Uint8Array): Promise<void> {
    const size = HEADER + bytes.length;
    if (size > this.maxBytes) return;
    const file = this.fileOf(identity, version, offset, bytes.length);
    const temp = join(this.dir, `.${randomBytes(8).toString('hex')}.${process.pid}.tmp`);
    const header = Buffer.alloc(HEADER);
    MAGIC.copy(header, 0);
    header.writeBigUInt64LE(BigInt(bytes.length), MAGIC.length);
    createHash('sha256').update(bytes).digest().copy(header, MAGIC.length + 8);
    try {
      await writeFile(temp, Buffer.concat([header, bytes]), { flag: 'wx', mode: 0o644 });
      await rename(temp, file);
    } catch {
      await unlink(temp).catch(() => undefined);
      return;
    }
    this.approxBytes = (this.approxBytes ?? 0) + size;
    this.written += size;
    // Other processes write too: look at the directory itself now and then (every 256 writes, and every
    // 1/32 of the budget written), and whenever over budget.
    const sinceScan = this.written - this.writtenAtScan;
    if (++this.writesSinceScan >= 256 || sinceScan >= this.maxBytes * RESCAN_SHARE || this.approxBytes > this.maxBytes) await this.evict();
  }

  /** Deletes least recently used entries until the directory holds at most the budget (less a margin). */
  evict(): Promise<void> {
    this.evicting ??= this.scanAndEvict().finally(() => {
      this.evicting = undefined;
    });
    return this.evicting;
  }

  private async scanAndEvict(): Promise<void> {
    this.writesSinceScan = 0;
    // Entries this process writes while the scan runs may be missed by it: counted on top of its total.
    const writtenBefore = this.written;
    this.writtenAtScan = writtenBefore;
    const entries: Array<{ path: string; size: number; used: number }> = [];
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return;
    }
    const now = Date.now();
    for (const name of names) {
      const path = join(this.dir, name);
      const info = await stat(path).catch(() => undefined);
      if (info === undefined || !info.isFile()) continue;
      if (name.endsWith('.tmp')) {
        if (now - info.mtimeMs > STALE_TEMP_MS) await unlink(path).catch(() => undefined);
        continue;
      }
      if (name.endsWith(SUFFIX)) entries.push({ path, size: info.size, used: info.mtimeMs });
    }
    let total = entries.reduce((sum, e) => sum + e.size, 0);
    if (total > this.maxBytes) {
      entries.sort((a, b) => a.used - b.used);
      const target = Math.floor(this.maxBytes * LOW_WATER);
      for (const entry of entries) {
        if (total <= target) break;
        // Already deleted by another process is as good as deleted here.
        await unlink(entry.path).catch(() => undefined);
        total -= entry.size;
      }
    }
    this.approxBytes = total + (this.written - writtenBefore);
  }

  /** Bytes the cache directory holds now (a scan). */
  async bytes(): Promise<number> {
    await this.scanAndEvict();
    return this.approxBytes ?? 0;
  }

  private fileOf(identity: string, version: string, offset: number, length: number): string {
    const key = createHash('sha256').update(`${identity}\0${version}\0${offset}\0${length}`).digest('hex').slice(0, 40);
    return join(this.dir, `${key}${SUFFIX}`);
  }
}

/** The bytes of an entry whose magic, length and hash are right, or undefined. */
function checkedBody(entry: Buffer, length: number): Uint8Array | undefined {
  if (entry.length !== HEADER + length || !entry.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  if (entry.readBigUInt64LE(MAGIC.length) !== BigInt(length)) return undefined;
  const body = entry.subarray(HEADER);
  const hash = createHash('sha256').update(body).digest();
  if (!hash.equals(entry.subarray(MAGIC.length + 8, HEADER))) return undefined;
  // A view of the file's buffer (no copy): the buffer holds only this entry.
  return new Uint8Array(body.buffer, body.byteOffset, body.length);
}

function refused(path: string, why: string): SeekdataError {
  return new SeekdataError('IO_ERROR', `remoteCacheDir ${path} ${why}: a shared cache could hold planted entries, so it is refused; use a directory of your own`, { file: path });
}
