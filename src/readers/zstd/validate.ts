/**
 * Checking a zstd chunk map loaded from an index file against the data, so that a crafted or damaged
 * index cannot leave a frame out, repeat one or point between frames. A seekable file's frames are read
 * again from its seek table (a few reads) and must match. Otherwise every unit's frame header is read:
 * frames follow each other with only skippable frames between them (and after the last), the flags
 * match the header, and a content size in the header is the unit's length. A frame's blocks are checked
 * when it is decoded (the bytes must be exactly one frame), and its bytes by its checksum or CRC-32.
 */
import { FileSource } from '../../sources/file-source.js';
import type { ByteSource } from '../../sources/source.js';
import type { UnitTable } from '../units.js';
import { FRAME_HAS_CHECKSUM, FRAME_HAS_CONTENT_SIZE, FRAME_HAS_TABLE_CHECKSUM, FRAME_HEADER_MAX, frameHeaderSize, magicKind, parseBlockHeader, parseFrameHeader, u32le } from './container.js';
import { scanZstdFrames } from './scan.js';
import { readSeekTable } from './seekable.js';
import { isSeekable, tableChecksums, unchecked, ZstdUnitsBuilder } from './units.js';
import { HeaderReader } from './walk.js';

/** Remote files with more frames than this have their frames checked only structurally. */
const MAX_REMOTE_FRAMES = 64;

type Fail = (what: string) => Error;

export async function validateZstdUnits(units: UnitTable, source: ByteSource, fail: Fail): Promise<void> {
  const sums = tableChecksums(units);
  for (let u = 0; u < units.count; u++) {
    const { cStart, cEnd, kind, param } = { cStart: units.cStart[u], cEnd: units.cEnd[u], kind: units.kind[u], param: units.param[u] };
    if (!Number.isSafeInteger(cStart) || !Number.isSafeInteger(cEnd) || cStart < 0 || cEnd <= cStart || cEnd > source.size) {
      throw fail(`zstd frame ${u} (bytes ${cStart}..${cEnd}) is not inside ${source.name}`);
    }
    if (u > 0 && cStart < units.cEnd[u - 1]) throw fail(`zstd frame ${u} starts before frame ${u - 1} ends`);
    if (kind > 7 || ((kind & FRAME_HAS_TABLE_CHECKSUM) !== 0 && !isSeekable(units))) throw fail(`zstd frame ${u}: flags ${kind}`);
    const crcOk = param === -1 || (unchecked(kind) && Number.isInteger(param) && param >= 0 && param <= 0xffffffff);
    if (!crcOk || !Number.isInteger(sums[u]) || sums[u] < 0 || sums[u] > 0xffffffff) throw fail(`zstd frame ${u}: bad checksum`);
  }
  if (isSeekable(units)) return sameAsSeekTable(units, source, fail);
  if (units.count > MAX_REMOTE_FRAMES && !(source instanceof FileSource)) return;
  const reader = new HeaderReader(source);
  let pos = 0;
  for (let u = 0; u <= units.count; u++) {
    const to = u < units.count ? units.cStart[u] : source.size;
    pos = await skipSkippable(reader, pos, to, source.name, fail);
    if (u === units.count) break;
    const head = await reader.at(pos, FRAME_HEADER_MAX);
    const at = head.at;
    if (head.available < 5 || magicKind(u32le(head.bytes, at)) !== 'frame' || head.available < frameHeaderSize(head.bytes[at + 4])) {
      throw fail(`no zstd frame at byte ${pos} of ${source.name}`);
    }
    let header;
    try {
      header = parseFrameHeader(head.bytes, at, source.name, pos);
    } catch {
      throw fail(`no zstd frame at byte ${pos} of ${source.name}`);
    }
    const flags = (header.hasChecksum ? FRAME_HAS_CHECKSUM : 0) | (header.contentSize >= 0 ? FRAME_HAS_CONTENT_SIZE : 0);
    const length = units.dStart[u + 1] - units.dStart[u];
    if (flags !== units.kind[u] || (header.contentSize >= 0 && header.contentSize !== length)) throw fail(`zstd frame ${u} at byte ${pos} does not match the chunk map`);
    pos = units.cEnd[u];
  }
}

/**
 * Steps over skippable frames and empty frames from `pos` (the chunk map leaves out frames that hold no
 * byte: `cat empty.zst data.zst`); they must end exactly at `to`.
 */
async function skipSkippable(reader: HeaderReader, pos: number, to: number, file: string, fail: Fail): Promise<number> {
  let at = pos;
  while (at < to) {
    const head = await reader.at(at, 8);
    const kind = head.available < 4 ? 'other' : magicKind(u32le(head.bytes, head.at));
    const end = kind === 'skippable' && head.available >= 8 ? at + 8 + u32le(head.bytes, head.at + 4) : kind === 'frame' ? await emptyFrameEnd(reader, at, file) : undefined;
    if (end === undefined) throw fail(`a zstd frame at byte ${at} of ${file} is missing from the chunk map`);
    at = end;
  }
  if (at !== to) throw fail(`zstd frames of the chunk map do not follow each other at byte ${to} of ${file}`);
  return at;
}

/**
 * Where the zstd frame at `at` ends when it surely holds no byte (its header says 0 bytes, or its one block
 * is a raw or RLE block of none), else undefined: only such a frame may be left out of the chunk map.
 */
async function emptyFrameEnd(reader: HeaderReader, at: number, file: string): Promise<number | undefined> {
  const hb = await reader.at(at, FRAME_HEADER_MAX);
  if (hb.available < 5 || hb.available < frameHeaderSize(hb.bytes[hb.at + 4])) return undefined;
  let header;
  let block;
  try {
    header = parseFrameHeader(hb.bytes, hb.at, file, at);
    const b = await reader.at(at + header.headerSize, 3);
    if (b.available < 3) return undefined;
    block = parseBlockHeader(b.bytes, b.at, file, at + header.headerSize);
  } catch {
    return undefined;
  }
  const empty = block.last && block.type !== 2 && block.size === 0 && header.contentSize <= 0;
  return empty ? at + header.headerSize + 3 + (header.hasChecksum ? 4 : 0) : undefined;
}

/** A seekable file's chunk map must be what its seek table says (decoding nothing). */
async function sameAsSeekTable(units: UnitTable, source: ByteSource, fail: Fail): Promise<void> {
  const builder = new ZstdUnitsBuilder(true);
  try {
    if ((await readSeekTable(source)) === null) throw new Error('it has none');
    for await (const item of scanZstdFrames(source)) if (item.type === 'frame') builder.add(item.frame);
  } catch (error) {
    throw fail(`the seek table of ${source.name} cannot be read (${error instanceof Error ? error.message : String(error)})`);
  }
  const table = builder.build();
  const sums = tableChecksums(table);
  const stored = tableChecksums(units);
  let same = table.count === units.count && table.extra?.facts?.seekable === true;
  for (let u = 0; same && u < units.count; u++) {
    same = table.cStart[u] === units.cStart[u] && table.cEnd[u] === units.cEnd[u] && table.kind[u] === units.kind[u] && sums[u] === stored[u] && table.dStart[u + 1] === units.dStart[u + 1];
  }
  if (!same) throw fail(`the chunk map does not match the seek table of ${source.name}`);
}
