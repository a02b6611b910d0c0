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
 * copy. A reader trusts nothing it reads: the file must be a regular file, every size and offset must
 * agree with the file's size, and a payload is handed out only after its own CRC32 matched (so the
 * metadata stays readable when another section is damaged). The file is written section by section
 * straight from the arrays (no whole-file buffer) to a temporary file created exclusively, fsynced and
 * renamed into place: a crash leaves the old index or none, never half a file.
 */
import { constants, type Stats } from 'node:fs';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import lzma from 'lzma-native';
import { SeekdataError } from '../errors.js';

export const INDEX_MAGIC = 'SEEKDATA';
export const INDEX_VERSION = 2;
export const HEADER_BYTES = 32;
export const ENTRY_BYTES = 64;
export const MAX_SECTIONS = 256;
const NAME_BYTES = 32;
/** JSON sections larger than this are refused (metadata with statistics is far smaller). */
export const MAX_JSON_BYTES = 64 << 20;
/** Positional reads and writes are done in pieces of at most this size. */
const IO_PIECE = 64 << 20;

export type SectionValue = Float64Array | Uint32Array | Int32Array | Float32Array | Uint8Array | Uint16Array | { json: unknown };

const KINDS = ['json', 'f64', 'u32', 'i32', 'f32', 'u8', 'u16'] as const;
type Kind = (typeof KINDS)[number];
const WIDTH: Record<Kind, number> = { json: 1, f64: 8, u32: 4, i32: 4, f32: 4, u8: 1, u16: 2 };

function kindOf(value: SectionValue): Kind {
  if (value instanceof Float64Array) return 'f64';
  if (value instanceof Uint32Array) return 'u32';
  if (value instanceof Int32Array) return 'i32';
  if (value instanceof Float32Array) return 'f32';
  if (value instanceof Uint16Array) return 'u16';
  if (value instanceof Uint8Array) return 'u8';
  return 'json';
}

const pad8 = (n: number): number => Math.ceil(n / 8) * 8;

export function crc32(bytes: Uint8Array, previous?: number): number {
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

function corrupt(file: string, what: string): SeekdataError {
  return new SeekdataError('CORRUPT_INDEX', `${file}: corrupt index file: ${what}`, { file });
}

// ---------------------------------------------------------------------------------------------------
// Writing

interface Planned extends SectionEntry {
  payload: Uint8Array;
  nameBytes: Uint8Array;
}

function plan(sections: ReadonlyMap<string, SectionValue>): { entries: Planned[]; head: Uint8Array; total: number } {
  if (sections.size > MAX_SECTIONS) throw new SeekdataError('INVALID_OPTION', `an index file holds at most ${MAX_SECTIONS} sections, got ${sections.size}`);
  const encoder = new TextEncoder();
  const entries: Planned[] = [];
  let at = pad8(HEADER_BYTES + sections.size * ENTRY_BYTES);
  for (const [name, value] of sections) {
    const nameBytes = encoder.encode(name);
    if (nameBytes.length === 0 || nameBytes.length > NAME_BYTES) throw new SeekdataError('INVALID_OPTION', `index section name ${JSON.stringify(name)} must be 1..${NAME_BYTES} bytes`);
    const kind = kindOf(value);
    // A view on the array's own bytes: the payload is written from it without a copy.
    const payload = 'json' in value ? encoder.encode(JSON.stringify(value.json)) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    const count = 'json' in value ? payload.length : value.length;
    entries.push({ name, nameBytes, kind, crc: crc32(payload), count, offset: at, length: payload.length, payload });
    at = pad8(at + payload.length);
  }
  const head = new Uint8Array(pad8(HEADER_BYTES + entries.length * ENTRY_BYTES));
  const view = new DataView(head.buffer);
  head.set(encoder.encode(INDEX_MAGIC), 0);
  view.setUint32(8, INDEX_VERSION, true);
  view.setUint32(12, entries.length, true);
  view.setBigUint64(16, BigInt(at), true);
  entries.forEach((e, i) => {
    const p = HEADER_BYTES + i * ENTRY_BYTES;
    head.set(e.nameBytes, p);
    view.setUint32(p + 32, KINDS.indexOf(e.kind), true);
    view.setUint32(p + 36, e.crc, true);
    view.setBigUint64(p + 40, BigInt(e.count), true);
    view.setBigUint64(p + 48, BigInt(e.offset), true);
    view.setBigUint64(p + 56, BigInt(e.length), true);
  });
  view.setUint32(24, crc32(head.subarray(HEADER_BYTES, HEADER_BYTES + entries.length * ENTRY_BYTES)), true);
  view.setUint32(28, crc32(head.subarray(0, 28)), true);
  return { entries, head, total: at };
}

async function writeAt(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const n = Math.min(IO_PIECE, bytes.length - done);
    const { bytesWritten } = await handle.write(bytes, done, n, position + done);
    done += bytesWritten;
  }
}

export interface WriteHooks {
  /** Called after the temporary file is complete and before it is renamed into place (tests). */
  beforeRename?: (tempPath: string) => void | Promise<void>;
  /** The temporary file's name (tests); default `<path>.tmp-<pid>-<random>`. */
  tempPath?: (path: string) => string;
}

/**
 * Writes atomically: a temporary file in the same directory created exclusively (`wx`: a symlink or
 * file planted at that name makes it fail instead of being followed), mode 0644 masked by the umask (so
 * never world-writable), fsync, rename. Returns the file's size.
 */
export async function writeIndexFile(path: string, sections: ReadonlyMap<string, SectionValue>, hooks: WriteHooks = {}): Promise<number> {
  const { entries, head, total } = plan(sections);
  const temp = hooks.tempPath?.(path) ?? `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  let handle: FileHandle;
  try {
    handle = await open(temp, 'wx', 0o644);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new SeekdataError('IO_ERROR', `${temp}: cannot create the temporary index file (${code})`, { file: path, cause: error });
  }
  try {
    await writeAt(handle, head, 0);
    for (const e of entries) await writeAt(handle, e.payload, e.offset);
    await handle.truncate(total);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await hooks.beforeRename?.(temp);
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------------
// Reading

/** What is at an index path. */
export type IndexFileOpening =
  | { kind: 'missing' }
  /** Not a regular file (directory, FIFO, device), or unreadable: not an index, but no error either. */
  | { kind: 'unusable'; reason: string }
  /** Readable header of an older format version: `handle` is open for the legacy reader. */
  | { kind: 'old-version'; version: number; handle: FileHandle; size: number }
  | { kind: 'corrupt'; error: SeekdataError }
  | { kind: 'index'; file: IndexFile };

function describeType(s: Stats): string {
  if (s.isDirectory()) return 'a directory';
  if (s.isFIFO()) return 'a FIFO';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device';
  if (s.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Reads exactly `length` bytes at `position` into a buffer of their own. */
export async function readExactly(handle: FileHandle, length: number, position: number, file: string): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(out, done, Math.min(IO_PIECE, length - done), position + done);
    if (bytesRead === 0) throw corrupt(file, `the file ends at byte ${position + done}, before the ${length} bytes read at ${position} (it shrank?)`);
    done += bytesRead;
  }
  return out;
}

/**
 * Opens an index path without trusting it: only a regular file (after following symlinks) is opened,
 * with O_NONBLOCK so a FIFO swapped in after the check cannot block, and checked again on the handle.
 */
export async function openIndexFile(path: string): Promise<IndexFileOpening> {
  try {
    const s = await stat(path);
    if (!s.isFile()) return { kind: 'unusable', reason: `${path} is ${describeType(s)}, not an index file` };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'unusable', reason: `${path}: cannot read the index (${code ?? String(error)})` };
  }
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'unusable', reason: `${path}: cannot read the index (${code ?? String(error)})` };
  }
  try {
    const s = await handle.stat();
    if (!s.isFile()) {
      await handle.close();
      return { kind: 'unusable', reason: `${path} is ${describeType(s)}, not an index file` };
    }
    const size = s.size;
    if (size < HEADER_BYTES) {
      await handle.close();
      return { kind: 'corrupt', error: corrupt(path, `${size} bytes, shorter than the ${HEADER_BYTES}-byte header`) };
    }
    const header = await readExactly(handle, HEADER_BYTES, 0, path);
    const view = new DataView(header.buffer);
    if (new TextDecoder().decode(header.subarray(0, 8)) !== INDEX_MAGIC) {
      await handle.close();
      return { kind: 'corrupt', error: corrupt(path, 'not a seekdata index (bad magic)') };
    }
    const version = view.getUint32(8, true);
    if (version !== INDEX_VERSION) {
      if (version >= 1 && version < INDEX_VERSION) return { kind: 'old-version', version, handle, size };
      await handle.close();
      return { kind: 'corrupt', error: corrupt(path, `unknown format version ${version} (this seekdata reads version ${INDEX_VERSION})`) };
    }
    const file = await IndexFile.fromHeader(path, handle, size, header);
    return { kind: 'index', file };
  } catch (error) {
    await handle.close().catch(() => undefined);
    if (error instanceof SeekdataError && error.code === 'CORRUPT_INDEX') return { kind: 'corrupt', error };
    return { kind: 'unusable', reason: `${path}: cannot read the index (${error instanceof Error ? error.message : String(error)})` };
  }
}

/** An open index file whose header and directory passed their checks; sections are read on demand. */
export class IndexFile {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    /** Size of the file in bytes. */
    readonly size: number,
    private readonly entries: Map<string, SectionEntry>,
  ) {}

  static async fromHeader(path: string, handle: FileHandle, size: number, header: Uint8Array): Promise<IndexFile> {
    const fail = (what: string): SeekdataError => corrupt(path, what);
    const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
    if (crc32(header.subarray(0, 28)) !== view.getUint32(28, true)) throw fail('header checksum mismatch');
    const count = view.getUint32(12, true);
    const length = Number(view.getBigUint64(16, true));
    if (length !== size) throw fail(`the header says ${length} bytes, the file has ${size}`);
    if (count > MAX_SECTIONS || HEADER_BYTES + count * ENTRY_BYTES > size) throw fail(`${count} sections do not fit in ${size} bytes`);
    const directory = await readExactly(handle, count * ENTRY_BYTES, HEADER_BYTES, path);
    if (crc32(directory) !== view.getUint32(24, true)) throw fail('directory checksum mismatch');
    return new IndexFile(path, handle, size, parseDirectory(directory, count, size, fail));
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  entry(name: string): SectionEntry | undefined {
    return this.entries.get(name);
  }

  /** Reads, verifies and decodes the named sections; names the file does not hold are left out. */
  async load(names: Iterable<string>): Promise<Map<string, SectionValue>> {
    const out = new Map<string, SectionValue>();
    for (const name of names) {
      const e = this.entries.get(name);
      if (e === undefined || out.has(name)) continue;
      out.set(name, await this.read(e));
    }
    return out;
  }

  /** The sections whose names start with `prefix`. */
  async loadPrefix(prefix: string): Promise<Map<string, SectionValue>> {
    return this.load(this.names().filter((n) => n.startsWith(prefix)));
  }

  private async read(e: SectionEntry): Promise<SectionValue> {
    const bytes = await readExactly(this.handle, e.length, e.offset, this.path);
    if (crc32(bytes) !== e.crc) throw corrupt(this.path, `section ${e.name} checksum mismatch`);
    const buffer = bytes.buffer;
    switch (e.kind) {
      case 'json':
        try {
          return { json: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown };
        } catch (error) {
          throw corrupt(this.path, `section ${e.name} is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
        }
      case 'f64':
        return new Float64Array(buffer, 0, e.count);
      case 'u32':
        return new Uint32Array(buffer, 0, e.count);
      case 'i32':
        return new Int32Array(buffer, 0, e.count);
      case 'f32':
        return new Float32Array(buffer, 0, e.count);
      case 'u16':
        return new Uint16Array(buffer, 0, e.count);
      case 'u8':
        return bytes;
    }
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}

function parseDirectory(directory: Uint8Array, count: number, size: number, fail: (what: string) => SeekdataError): Map<string, SectionEntry> {
  const view = new DataView(directory.buffer, directory.byteOffset, directory.byteLength);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const entries = new Map<string, SectionEntry>();
  let end = HEADER_BYTES + count * ENTRY_BYTES;
  for (let i = 0; i < count; i++) {
    const p = i * ENTRY_BYTES;
    const raw = directory.subarray(p, p + NAME_BYTES);
    const nameLength = raw.indexOf(0) < 0 ? NAME_BYTES : raw.indexOf(0);
    if (nameLength === 0 || raw.subarray(nameLength).some((b) => b !== 0)) throw fail(`section ${i}: bad name`);
    let name: string;
    try {
      name = decoder.decode(raw.subarray(0, nameLength));
    } catch {
      throw fail(`section ${i}: name is not UTF-8`);
    }
    if (entries.has(name)) throw fail(`section ${name} appears twice`);
    const kind = KINDS[view.getUint32(p + 32, true)];
    if (kind === undefined) throw fail(`section ${name}: unknown kind ${view.getUint32(p + 32, true)}`);
    const crc = view.getUint32(p + 36, true);
    const n = view.getBigUint64(p + 40, true);
    const offset = view.getBigUint64(p + 48, true);
    const length = view.getBigUint64(p + 56, true);
    if (offset % 8n !== 0n || offset < BigInt(end) || offset + length > BigInt(size)) {
      throw fail(`section ${name}: payload at ${offset} (${length} bytes) is not 8-aligned after byte ${end} and inside ${size} bytes`);
    }
    if (n * BigInt(WIDTH[kind]) !== length) throw fail(`section ${name}: ${n} ${kind} elements do not make ${length} bytes`);
    if (kind === 'json' && length > BigInt(MAX_JSON_BYTES)) throw fail(`section ${name}: ${length} bytes of JSON (at most ${MAX_JSON_BYTES})`);
    entries.set(name, { name, kind, crc, count: Number(n), offset: Number(offset), length: Number(length) });
    end = Number(offset + length);
  }
  if (pad8(end) !== size) throw fail(`the sections end at byte ${end}, the file has ${size} bytes`);
  return entries;
}
