/**
 * The index file: one binary file per data file holding named sections (typed arrays and JSON values),
 * each read and verified on its own, so a command loads only what it uses (the chunk map for byte reads,
 * the record sections for record commands). Layout, version 2, all little-endian:
 *
 *   header, 32 bytes:
 *      0  magic "SEEKDATA"
 *      8  version u32 (2)
 *     12  section count u32 (N, at most 256)
 *     16  file length u64 (the whole file; a multiple of 8)
 *     24  CRC32 of the directory u32
 *     28  CRC32 of header bytes 0..27 u32
 *   directory, N entries of 64 bytes from byte 32, in file order:
 *      0  name, UTF-8, 1..32 bytes, zero-padded to 32
 *     32  kind u32: 0 json (UTF-8 JSON text), 1 f64, 2 u32, 3 i32, 4 f32, 5 u8, 6 u16
 *     36  CRC32 of the payload u32
 *     40  element count u64 (bytes for json)
 *     48  payload offset u64 (a multiple of 8; after the directory and the previous payload)
 *     56  payload length u64 (count × element width)
 *   payloads at their offsets, zero-padded to the next multiple of 8.
 *
 * Each payload lands 8-byte aligned in a buffer of its own when read, so typed arrays are views without a
 * copy. The reader (index-reader.ts) trusts nothing it reads: the file must be a regular file, every size
 * and offset must agree with the file's size, and a payload is handed out only after its own CRC32
 * matched (so the metadata stays readable when another section is damaged). The file is written straight
 * from the arrays (no whole-file buffer; the payloads first, the header and directory with their
 * checksums last) to a temporary file created exclusively, fsynced and renamed into place: a crash leaves the old index or none, never half a file. Whether the place may be
 * taken (another data file's index is never replaced) is asked just before the rename (`claim`).
 */
import { link, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import lzma from 'lzma-native';
import { SeekdataError } from '../errors.js';

export const INDEX_MAGIC = 'SEEKDATA';
export const INDEX_VERSION = 2;
export const HEADER_BYTES = 32;
export const ENTRY_BYTES = 64;
export const MAX_SECTIONS = 256;
export const NAME_BYTES = 32;
/** JSON sections larger than this are refused (metadata with statistics is far smaller). */
export const MAX_JSON_BYTES = 64 << 20;
/** Positional reads and writes are done in pieces of at most this size (larger ones are slower). */
export const IO_PIECE = 8 << 20;

export type SectionValue = Float64Array | Uint32Array | Int32Array | Float32Array | Uint8Array | Uint16Array | { json: unknown };

/**
 * A typed-array section given as the parts it was built from, written one after the other without being
 * joined first (the indexing pass's offsets and times, which the in-memory index joins while the file is
 * written). `kind` names the parts' type (there may be no parts).
 */
export interface SectionParts {
  kind: 'u32' | 'f64';
  parts: ReadonlyArray<Uint32Array | Float64Array>;
}

/** What a section is written from. */
export type WritableSection = SectionValue | SectionParts;

export const KINDS = ['json', 'f64', 'u32', 'i32', 'f32', 'u8', 'u16'] as const;
export type Kind = (typeof KINDS)[number];
export const WIDTH: Record<Kind, number> = { json: 1, f64: 8, u32: 4, i32: 4, f32: 4, u8: 1, u16: 2 };

function kindOf(value: WritableSection): Kind {
  if ('parts' in value) return value.kind;
  if (value instanceof Float64Array) return 'f64';
  if (value instanceof Uint32Array) return 'u32';
  if (value instanceof Int32Array) return 'i32';
  if (value instanceof Float32Array) return 'f32';
  if (value instanceof Uint16Array) return 'u16';
  if (value instanceof Uint8Array) return 'u8';
  return 'json';
}

export const pad8 = (n: number): number => Math.ceil(n / 8) * 8;

// zlib's CRC32 (Node >= 20.15) is several times faster than liblzma's; both compute the same CRC.
const zlibCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

export function crc32(bytes: Uint8Array, previous = 0): number {
  if (zlibCrc32 !== undefined) return zlibCrc32(bytes, previous) >>> 0;
  return lzma.crc32(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), previous) >>> 0;
}

/** One section as the directory describes it. */
export interface SectionEntry {
  name: string;
  kind: Kind;
  crc: number;
  count: number;
  offset: number;
  length: number;
}

export function corrupt(file: string, what: string): SeekdataError {
  return new SeekdataError('CORRUPT_INDEX', `${file}: corrupt index file: ${what}`, { file });
}

// ---------------------------------------------------------------------------------------------------
// Writing

interface Planned {
  name: string;
  nameBytes: Uint8Array;
  kind: Kind;
  count: number;
  offset: number;
  /** The payload's bytes, in one piece or in the parts it is written from. */
  payload: Uint8Array[];
  length: number;
}

/** Where each section goes (offsets follow from the lengths alone; the checksums are left to `header`). */
const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function plan(sections: ReadonlyMap<string, WritableSection>): { entries: Planned[]; total: number } {
  if (sections.size > MAX_SECTIONS) throw new SeekdataError('INVALID_OPTION', `an index file holds at most ${MAX_SECTIONS} sections, got ${sections.size}`);
  const encoder = new TextEncoder();
  const entries: Planned[] = [];
  let at = pad8(HEADER_BYTES + sections.size * ENTRY_BYTES);
  for (const [name, value] of sections) {
    const nameBytes = encoder.encode(name);
    if (nameBytes.length === 0 || nameBytes.length > NAME_BYTES) throw new SeekdataError('INVALID_OPTION', `index section name ${JSON.stringify(name)} must be 1..${NAME_BYTES} bytes`);
    const kind = kindOf(value);
    // Views on the arrays' own bytes: the payload is written from them without a copy.
    const payload = 'json' in value ? [encoder.encode(JSON.stringify(value.json))] : 'parts' in value ? value.parts.map(bytesOf) : [bytesOf(value)];
    const length = payload.reduce((n, p) => n + p.length, 0);
    entries.push({ name, nameBytes, kind, count: length / WIDTH[kind], offset: at, payload, length });
    at = pad8(at + length);
  }
  return { entries, total: at };
}

/** The header and directory (and the padding after them), with each payload's CRC32. */
function header(entries: Planned[], total: number): Uint8Array {
  const head = new Uint8Array(pad8(HEADER_BYTES + entries.length * ENTRY_BYTES));
  const view = new DataView(head.buffer);
  head.set(new TextEncoder().encode(INDEX_MAGIC), 0);
  view.setUint32(8, INDEX_VERSION, true);
  view.setUint32(12, entries.length, true);
  view.setBigUint64(16, BigInt(total), true);
  entries.forEach((e, i) => {
    const p = HEADER_BYTES + i * ENTRY_BYTES;
    head.set(e.nameBytes, p);
    view.setUint32(p + 32, KINDS.indexOf(e.kind), true);
    view.setUint32(p + 36, e.payload.reduce((crc, part) => crc32(part, crc), 0), true);
    view.setBigUint64(p + 40, BigInt(e.count), true);
    view.setBigUint64(p + 48, BigInt(e.offset), true);
    view.setBigUint64(p + 56, BigInt(e.length), true);
  });
  view.setUint32(24, crc32(head.subarray(HEADER_BYTES, HEADER_BYTES + entries.length * ENTRY_BYTES)), true);
  view.setUint32(28, crc32(head.subarray(0, 28)), true);
  return head;
}

async function writeAt(handle: Pick<FileHandle, 'write'>, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const n = Math.min(IO_PIECE, bytes.length - done);
    const { bytesWritten } = await handle.write(bytes, done, n, position + done);
    // A write that writes nothing would be asked again for ever: an I/O error, not a hang.
    if (!(bytesWritten > 0)) throw new Error(`a write of ${n} bytes at ${position + done} wrote none`);
    done += bytesWritten;
  }
}

/** Most buffers one `writev` takes (IOV_MAX on Linux and macOS). */
const MAX_IOV = 1024;

/**
 * Writes `parts` one after the other from `position`, in batches of up to MAX_IOV parts (and IO_PIECE
 * bytes) per writev, all handed to the I/O threads at once (their places are known): none waits for the
 * calling thread to start the next. (Exported for tests of short writes.)
 */
export async function writeParts(handle: Pick<FileHandle, 'write' | 'writev'>, parts: Uint8Array[], position: number): Promise<void> {
  if (parts.length === 1) return writeAt(handle, parts[0], position);
  const batches: Array<Promise<void>> = [];
  let k = 0;
  let at = position;
  while (k < parts.length) {
    const batch: Uint8Array[] = [];
    let bytes = 0;
    while (k < parts.length && batch.length < MAX_IOV && (batch.length === 0 || bytes + parts[k].length <= IO_PIECE)) {
      batch.push(parts[k]);
      bytes += parts[k++].length;
    }
    const from = at;
    batches.push(
      handle.writev(batch, from).then(async ({ bytesWritten }) => {
        // A short write: the rest of the batch as writeAt writes (which loops until it is all written).
        if (bytesWritten < bytes) await writeAt(handle, concatRest(batch, bytesWritten), from + bytesWritten);
      }),
    );
    at += bytes;
  }
  // Every batch settled before an error is thrown: none is still writing when the file is closed.
  const failed = (await Promise.allSettled(batches)).find((r) => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

/** The bytes of `parts` from byte `skip` on, in one array. */
function concatRest(parts: Uint8Array[], skip: number): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total - skip);
  let at = -skip;
  for (const p of parts) {
    if (at + p.length > 0) out.set(at >= 0 ? p : p.subarray(-at), Math.max(at, 0));
    at += p.length;
  }
  return out;
}

export interface WriteHooks {
  /** Called after the temporary file is complete and before it is renamed into place (tests). */
  beforeRename?: (tempPath: string) => void | Promise<void>;
  /** The temporary file's name (tests); default `<path>.tmp-<pid>-<random>`. */
  tempPath?: (path: string) => string;
  /**
   * Asked just before the file goes into place: `'replace'` renames it over whatever is there; `'create'`
   * links it into place only while nothing is there (a file that appeared meanwhile is not replaced: the
   * question is asked again); rejecting keeps what is there. Default `'replace'`.
   */
  claim?: () => Promise<'create' | 'replace'>;
}

/** Errors of `link` that say the file system cannot link, not that the name is taken. */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);

/** Puts the complete temporary file at `path` as `claim` allows (see WriteHooks.claim). */
async function putInPlace(temp: string, path: string, claim: WriteHooks['claim']): Promise<void> {
  if ((await claim?.()) === 'create') {
    try {
      await link(temp, path);
      // In place under its own name: the temporary name is only a second link to it.
      await unlink(temp).catch(() => undefined);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (code === 'EEXIST') await claim?.();
      else if (!NO_LINKS.has(code)) throw error;
    }
  }
  await rename(temp, path);
}

/** The steps of writing an index file after its temporary file is created, as its errors name them. */
type Step = 'writing' | 'truncating' | 'syncing' | 'closing' | 'putting in place';

/**
 * A failure of `step` as IO_ERROR naming the index file, the step and the errno code, the original error
 * as its `cause` (where a caller finds the errno code and syscall). A SeekdataError (the claim's refusal,
 * INDEX_CONFLICT) is kept as it is.
 */
function stepError(path: string, step: Step, error: unknown): SeekdataError {
  if (error instanceof SeekdataError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const text = error instanceof Error ? error.message : String(error);
  // Node's messages start with the code ("ENOSPC: no space left on device, write"): it is not said twice.
  const why = code === undefined || text.startsWith(`${code}:`) ? text : `${code}: ${text}`;
  return new SeekdataError('IO_ERROR', `${path}: cannot write the index file: ${step} failed (${why})`, { file: path, cause: error });
}

/** A rejection handler that rethrows as `stepError`. */
const failedAt =
  (path: string, step: Step) =>
  (error: unknown): never => {
    throw stepError(path, step, error);
  };

/**
 * Writes atomically: a temporary file in the same directory created exclusively (`wx`: a symlink or
 * file planted at that name makes it fail instead of being followed), mode 0644 masked by the umask (so
 * never world-writable), fsync, rename. Returns the file's size. Every failure is a SeekdataError:
 * IO_ERROR naming the index file and the step that failed (the errno error is its `cause`), or the
 * claim's own error; the temporary file is removed. (A `beforeRename` hook's error, a test's, passes as it is.)
 */
export async function writeIndexFile(path: string, sections: ReadonlyMap<string, WritableSection>, hooks: WriteHooks = {}): Promise<number> {
  const { entries, total } = plan(sections);
  const temp = hooks.tempPath?.(path) ?? `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  let handle: FileHandle;
  try {
    handle = await open(temp, 'wx', 0o644);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new SeekdataError('IO_ERROR', `${temp}: cannot create the temporary index file (${code})`, { file: path, cause: error });
  }
  try {
    // The payloads are handed to the I/O threads first; their checksums and the directory are computed
    // here meanwhile (the header goes in last), instead of before the first byte is written.
    const writes = entries.map((e) => writeParts(handle, e.payload, e.offset));
    // (An async function: were `header` to throw, that is one more rejected write, awaited with the others.)
    writes.push((async () => writeAt(handle, header(entries, total), 0))());
    const failed = (await Promise.allSettled(writes)).find((r) => r.status === 'rejected');
    if (failed !== undefined) throw stepError(path, 'writing', failed.reason);
    await handle.truncate(total).catch(failedAt(path, 'truncating'));
    await handle.sync().catch(failedAt(path, 'syncing'));
  } catch (error) {
    // The first failure is the one reported; the temporary file goes whatever close says.
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  try {
    // Close can report a write that failed (NFS): the file is then not put in place, nor left behind.
    await handle.close().catch(failedAt(path, 'closing'));
    await hooks.beforeRename?.(temp);
    await putInPlace(temp, path, hooks.claim).catch(failedAt(path, 'putting in place'));
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  return total;
}
