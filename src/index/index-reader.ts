/**
 * Reading index files (the layout is in index-file.ts) without trusting them: only a regular file is
 * opened, sizes and offsets are checked against the file's size before anything is allocated, and each
 * section is read positionally, on demand, and handed out only after its own CRC32 matched.
 */
import { constants, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { SeekdataError } from '../errors.js';
import {
  corrupt,
  crc32,
  ENTRY_BYTES,
  HEADER_BYTES,
  INDEX_MAGIC,
  INDEX_VERSION,
  IO_PIECE,
  KINDS,
  MAX_JSON_BYTES,
  MAX_SECTIONS,
  NAME_BYTES,
  pad8,
  WIDTH,
  type SectionEntry,
  type SectionValue,
} from './index-file.js';

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
  // Not zero-filled (every byte is read below, or the read fails); a buffer of its own, so 8-aligned.
  const out = new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
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
    // An empty file holds no index (a placeholder, such as one made by mktemp): as if there were none.
    if (size === 0) {
      await handle.close();
      return { kind: 'missing' };
    }
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
