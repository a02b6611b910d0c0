/**
 * Index files of format version 1, read only to recover their metadata (the data set's record options)
 * before they are rebuilt in the current format. Version 1 layout, little-endian:
 *
 *   header (32 bytes): "SEEKDATA" | version u32 (1) | section count u32 | body length u64 | body CRC32 u32 | header CRC32 u32
 *   body: per section: name length u32 | kind u32 | element count u64 | name (padded to 8) | payload (padded to 8)
 *
 * One CRC covers the whole body, so the metadata is trusted only when the whole body checks out; the
 * body is checksummed in pieces (memory stays bounded whatever the file's size).
 */
import type { FileHandle } from 'node:fs/promises';
import { SeekdataError } from '../errors.js';
import { crc32, HEADER_BYTES, MAX_JSON_BYTES } from './index-file.js';
import { readExactly } from './index-reader.js';

const PIECE = 1 << 20;
const MAX_SECTIONS = 256;

/** The `meta` JSON of a version-1 index file; rejects with CORRUPT_INDEX when it cannot be trusted. */
export async function readLegacyMeta(handle: FileHandle, size: number, path: string): Promise<unknown> {
  const fail = (what: string): SeekdataError => new SeekdataError('CORRUPT_INDEX', `${path}: corrupt index file (format version 1): ${what}`, { file: path });
  const header = await readExactly(handle, HEADER_BYTES, 0, path);
  const view = new DataView(header.buffer);
  if (crc32(header.subarray(0, 28)) !== view.getUint32(28, true)) throw fail('header checksum mismatch');
  const count = view.getUint32(12, true);
  const bodyLength = Number(view.getBigUint64(16, true));
  if (HEADER_BYTES + bodyLength !== size || count > MAX_SECTIONS) throw fail(`the header (${count} sections, ${bodyLength} bytes) does not match the file (${size} bytes)`);
  let crc = 0;
  for (let at = HEADER_BYTES; at < size; at += PIECE) crc = crc32(await readExactly(handle, Math.min(PIECE, size - at), at, path), crc);
  if (crc !== view.getUint32(24, true)) throw fail('body checksum mismatch');
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let pos = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (pos + 16 > size) throw fail('section header past the end');
    const head = new DataView((await readExactly(handle, 16, pos, path)).buffer);
    const nameLength = head.getUint32(0, true);
    const kind = head.getUint32(4, true);
    const n = Number(head.getBigUint64(8, true));
    const width = [1, 8, 4, 4, 4, 1, 2][kind];
    if (width === undefined || nameLength > 64) throw fail(`section ${i}: bad section header`);
    pos += 16;
    const padded = Math.ceil(nameLength / 8) * 8;
    if (pos + padded > size) throw fail(`section ${i}: name past the end`);
    let name: string;
    try {
      name = decoder.decode(await readExactly(handle, nameLength, pos, path));
    } catch {
      throw fail(`section ${i}: name is not UTF-8`);
    }
    pos += padded;
    const length = n * width;
    if (!Number.isSafeInteger(length) || pos + length > size) throw fail(`section ${name} runs past the end`);
    if (name === 'meta' && kind === 0) {
      if (length > MAX_JSON_BYTES) throw fail('metadata too large');
      try {
        return JSON.parse(decoder.decode(await readExactly(handle, length, pos, path))) as unknown;
      } catch {
        throw fail('metadata is not valid JSON');
      }
    }
    pos += Math.ceil(length / 8) * 8;
  }
  throw fail('no metadata section');
}
