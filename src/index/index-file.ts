/**
 * The index file: one binary file per data file holding named sections (typed arrays and small JSON
 * values). Layout, all little-endian:
 *
 *   header (32 bytes): "SEEKDATA" | version u32 | section count u32 | body length u64 | body CRC32 u32 | header CRC32 u32
 *   body: per section: name length u32 | kind u32 | element count u64 | name (padded to 8) | payload (padded to 8)
 *
 * Payloads start 8-byte aligned, so typed arrays are views on the file's bytes, not copies. Files are
 * written to a temporary name and renamed, so a crash leaves the old index or none, never half a file.
 */
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { crc32 } from '../readers/xz/container.js';
import { SeekdataError } from '../errors.js';

export const INDEX_MAGIC = 'SEEKDATA';
export const INDEX_VERSION = 1;
const HEADER_BYTES = 32;

export type SectionValue = Float64Array | Uint32Array | Int32Array | Float32Array | Uint8Array | Uint16Array | { json: unknown };

const KINDS = ['json', 'f64', 'u32', 'i32', 'f32', 'u8', 'u16'] as const;
type Kind = (typeof KINDS)[number];

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

export function encodeIndex(sections: ReadonlyMap<string, SectionValue>): Uint8Array {
  const encoder = new TextEncoder();
  const parts: Array<{ name: Uint8Array; kind: Kind; count: number; payload: Uint8Array }> = [];
  let bodyLength = 0;
  for (const [name, value] of sections) {
    const kind = kindOf(value);
    const payload =
      kind === 'json'
        ? encoder.encode(JSON.stringify((value as { json: unknown }).json))
        : new Uint8Array((value as Exclude<SectionValue, { json: unknown }>).buffer, (value as Uint8Array).byteOffset, (value as Uint8Array).byteLength);
    const count = kind === 'json' ? payload.length : (value as Uint8Array).length;
    const nameBytes = encoder.encode(name);
    parts.push({ name: nameBytes, kind, count, payload });
    bodyLength += 16 + pad8(nameBytes.length) + pad8(payload.length);
  }
  const out = new Uint8Array(HEADER_BYTES + bodyLength);
  const view = new DataView(out.buffer);
  out.set(encoder.encode(INDEX_MAGIC), 0);
  view.setUint32(8, INDEX_VERSION, true);
  view.setUint32(12, parts.length, true);
  view.setBigUint64(16, BigInt(bodyLength), true);
  let pos = HEADER_BYTES;
  for (const p of parts) {
    view.setUint32(pos, p.name.length, true);
    view.setUint32(pos + 4, KINDS.indexOf(p.kind), true);
    view.setBigUint64(pos + 8, BigInt(p.count), true);
    pos += 16;
    out.set(p.name, pos);
    pos += pad8(p.name.length);
    out.set(p.payload, pos);
    pos += pad8(p.payload.length);
  }
  view.setUint32(24, crc32(out.subarray(HEADER_BYTES)), true);
  view.setUint32(28, crc32(out.subarray(0, 28)), true);
  return out;
}

export function decodeIndex(bytes: Uint8Array, file: string): Map<string, SectionValue> {
  const fail = (what: string): SeekdataError => new SeekdataError('CORRUPT_INDEX', `${file}: corrupt index file: ${what}`, { file });
  // Typed-array views need the payloads 8-byte aligned in memory: copy once if the buffer is not.
  const data = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  if (data.length < HEADER_BYTES) throw fail('too short');
  if (new TextDecoder().decode(data.subarray(0, 8)) !== INDEX_MAGIC) throw fail('not a seekdata index (bad magic)');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (crc32(data.subarray(0, 28)) !== view.getUint32(28, true)) throw fail('header checksum mismatch');
  const version = view.getUint32(8, true);
  if (version !== INDEX_VERSION) {
    throw new SeekdataError('STALE_INDEX', `${file}: index format version ${version}, this seekdata reads version ${INDEX_VERSION}`, { file });
  }
  const count = view.getUint32(12, true);
  const bodyLength = Number(view.getBigUint64(16, true));
  if (HEADER_BYTES + bodyLength !== data.length) throw fail(`length ${data.length} does not match the header (${HEADER_BYTES + bodyLength})`);
  if (crc32(data.subarray(HEADER_BYTES)) !== view.getUint32(24, true)) throw fail('body checksum mismatch');
  const decoder = new TextDecoder();
  const sections = new Map<string, SectionValue>();
  let pos = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (pos + 16 > data.length) throw fail('section header past the end');
    const nameLength = view.getUint32(pos, true);
    const kind = KINDS[view.getUint32(pos + 4, true)];
    const n = Number(view.getBigUint64(pos + 8, true));
    if (kind === undefined) throw fail('unknown section kind');
    pos += 16;
    const name = decoder.decode(data.subarray(pos, pos + nameLength));
    pos += pad8(nameLength);
    const width = kind === 'f64' ? 8 : kind === 'u32' || kind === 'i32' || kind === 'f32' ? 4 : kind === 'u16' ? 2 : 1;
    const byteLength = n * width;
    if (pos + byteLength > data.length) throw fail(`section ${name} runs past the end`);
    const at = data.byteOffset + pos;
    const buffer = data.buffer;
    let value: SectionValue;
    switch (kind) {
      case 'json':
        value = { json: JSON.parse(decoder.decode(data.subarray(pos, pos + n))) as unknown };
        break;
      case 'f64':
        value = new Float64Array(buffer, at, n);
        break;
      case 'u32':
        value = new Uint32Array(buffer, at, n);
        break;
      case 'i32':
        value = new Int32Array(buffer, at, n);
        break;
      case 'f32':
        value = new Float32Array(buffer, at, n);
        break;
      case 'u16':
        value = new Uint16Array(buffer, at, n);
        break;
      case 'u8':
        value = new Uint8Array(buffer, at, n);
        break;
    }
    sections.set(name, value);
    pos += pad8(byteLength);
  }
  return sections;
}

export interface WriteHooks {
  /** Called after the temporary file is complete and before it is renamed into place (tests). */
  beforeRename?: (tempPath: string) => void | Promise<void>;
}

/** Writes atomically: temporary file in the same directory, fsync, rename. */
export async function writeIndexFile(path: string, sections: ReadonlyMap<string, SectionValue>, hooks: WriteHooks = {}): Promise<number> {
  const bytes = encodeIndex(sections);
  const temp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(bytes);
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
  return bytes.length;
}

export async function readIndexFile(path: string): Promise<{ sections: Map<string, SectionValue>; bytes: number } | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SeekdataError('IO_ERROR', `${path}: cannot read index (${String(error)})`, { file: path, cause: error });
  }
  return { sections: decodeIndex(bytes, path), bytes: bytes.length };
}
