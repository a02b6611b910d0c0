/**
 * Checking a gzip chunk map loaded from an index file against the data, so that a crafted or damaged
 * index cannot make the reader hand out bytes from the wrong place, leave a member out, or repeat one.
 * Structure: offsets inside the file, kinds, windows of plausible size, a window for every span but a
 * member's first. Then a walk through the file in member order, reading only headers and trailers:
 * - a run of whole members (kind 1) starts on a byte where the previous member ended;
 * - the spans of one member start right after its header, follow each other bit for bit, and the last
 *   one ends where the member's trailer starts; the CRC-32s of the spans (the `param` column), combined,
 *   must be the trailer's CRC-32, and their lengths its ISIZE (so a crafted window or CRC cannot pass);
 * - whatever lies between units, and after the last, is empty members (decoded, they give nothing) or,
 *   at the end, bytes that are not a gzip member (trailing garbage or zeros, as the scan saw them).
 * The sub-span CRC-32s of the spans, when present, must combine to each span's CRC-32 (`checkSubCrcs`).
 * Each unit is verified against its CRC-32 whenever it is decoded.
 */
import zlib from 'node:zlib';
import { FileSource } from '../../sources/file-source.js';
import type { ByteSource } from '../../sources/source.js';
import { blobOf, type UnitTable } from '../units.js';
import { checkSubCrcShape } from '../sub-crcs.js';
import { crc32Combine } from './crc.js';
import { parseGzipHeader, readU32, TRAILER_BYTES } from './header.js';
import { gzipExtra } from './table.js';
import { KIND_MEMBERS, KIND_SPAN, WINDOW_BYTES } from './units.js';

/** Bytes of empty members accepted between two units (or at the end): a few dozen members. */
const MAX_GAP_BYTES = 1 << 16;
/** A 32 KiB window deflated can grow a little (stored blocks): more is not a window. */
const MAX_PACKED_WINDOW = WINDOW_BYTES + 1024;
/** Remote files with more spanned members than this have their members checked only structurally. */
const MAX_REMOTE_MEMBERS = 64;

type Fail = (what: string) => Error;

export async function validateGzipUnits(units: UnitTable, source: ByteSource, fail: Fail): Promise<void> {
  checkStructure(units, source, fail);
  checkSubCrcs(units, fail);
  const { members } = gzipExtra(units);
  const remote = !(source instanceof FileSource);
  let spanned = 0;
  let pos = 0; // byte where the next member starts
  let u = 0;
  while (u < units.count) {
    if (units.kind[u] === KIND_MEMBERS) {
      pos = await skipEmptyMembers(source, pos, units.cStart[u] / 8, fail);
      pos = units.cEnd[u] / 8;
      u++;
      continue;
    }
    // The spans of one member: u .. last.
    let last = u;
    while (last < units.count && members[last] === 0) last++;
    if (last === units.count || units.kind[last] !== KIND_SPAN) throw fail(`gzip span ${u} has no last span ending its member`);
    for (let k = u + 1; k <= last; k++) if (units.cStart[k] !== units.cEnd[k - 1]) throw fail(`gzip span ${k} does not follow span ${k - 1}`);
    const trailerAt = Math.ceil(units.cEnd[last] / 8);
    if (remote && ++spanned > MAX_REMOTE_MEMBERS) {
      pos = trailerAt + TRAILER_BYTES;
    } else {
      await findMember(source, pos, units.cStart[u], fail);
      const trailer = await source.read(trailerAt, TRAILER_BYTES);
      if (trailer.length < TRAILER_BYTES) throw fail(`no gzip trailer after span ${last}`);
      let crc = 0;
      let length = 0;
      for (let k = u; k <= last; k++) {
        const n = units.dStart[k + 1] - units.dStart[k];
        crc = crc32Combine(crc, units.param[k], n);
        length += n;
      }
      if (crc !== readU32(trailer, 0) || length % 2 ** 32 !== readU32(trailer, 4)) {
        throw fail(`the CRC-32s and lengths of gzip spans ${u}..${last} do not make their member's trailer in ${source.name}`);
      }
      pos = trailerAt + TRAILER_BYTES;
    }
    u = last + 1;
  }
  // After the last unit: empty members, then the end of the file or bytes that are not a member.
  await skipEmptyMembers(source, pos, -1, fail);
}

function checkStructure(units: UnitTable, source: ByteSource, fail: Fail): void {
  const bits = source.size * 8;
  const { members, windows } = gzipExtra(units);
  for (let u = 0; u < units.count; u++) {
    const kind = units.kind[u];
    const cStart = units.cStart[u];
    const cEnd = units.cEnd[u];
    const window = windows.offsets[u + 1] - windows.offsets[u];
    if (!Number.isSafeInteger(cStart) || !Number.isSafeInteger(cEnd) || cStart < 0 || cEnd <= cStart || cEnd > bits) {
      throw fail(`gzip unit ${u} (bits ${cStart}..${cEnd}) is not inside ${source.name}`);
    }
    if (!Number.isInteger(units.param[u]) || units.param[u] < 0 || units.param[u] > 0xffffffff) throw fail(`gzip unit ${u}: bad CRC-32`);
    if (u > 0 && cStart < units.cEnd[u - 1]) throw fail(`gzip unit ${u} starts before unit ${u - 1} ends`);
    if (window > MAX_PACKED_WINDOW) throw fail(`gzip unit ${u}: a window of ${window} bytes`);
    if (kind === KIND_MEMBERS) {
      if (cStart % 8 !== 0 || cEnd % 8 !== 0 || window !== 0 || !Number.isSafeInteger(members[u]) || members[u] < 1) throw fail(`gzip member run ${u} is malformed`);
    } else if (kind === KIND_SPAN) {
      if (members[u] !== 0 && members[u] !== 1) throw fail(`gzip span ${u} is malformed`);
      const first = u === 0 || units.kind[u - 1] !== KIND_SPAN || members[u - 1] > 0;
      // A member's first span starts with an empty window; the others need the output before them.
      if (first !== (window === 0)) throw fail(`gzip span ${u}: ${first ? 'a window where its member starts' : 'no window'}`);
    } else {
      throw fail(`gzip unit ${u}: unknown kind ${kind}`);
    }
  }
}

/**
 * The sub-span CRC-32s (table.ts `subCrc`, from the indexing pass), when the chunk map has them (an older
 * index has neither them nor `subSpan`: its reads decode whole spans): one per `subSpan` decoded bytes of
 * every span, none for runs of members, and those of a span must combine to the span's CRC-32, which the
 * member walk above ties to the trailer. So a damaged table is CORRUPT_INDEX. A forger is not stopped: CRC-32
 * is linear, and the CRC of a span's last sub-span (which no prefix read checks) can absorb a crafted window
 * or span lengths together with crafted CRCs that still combine as checked here (README, Limitations).
 */
function checkSubCrcs(units: UnitTable, fail: Fail): void {
  checkSubCrcShape(units, (what) => fail(`gzip ${what}`), (u) => units.kind[u] === KIND_SPAN);
  const blob = units.extra?.blobs?.subCrc;
  const span = units.extra?.facts?.subSpan;
  if (blob === undefined || typeof span !== 'number') return;
  for (let u = 0; u < units.count; u++) {
    if (units.kind[u] !== KIND_SPAN) continue;
    const crcs = blobOf(blob, u);
    const length = units.dStart[u + 1] - units.dStart[u];
    let crc = 0;
    for (let k = 0; k * 4 < crcs.length; k++) crc = crc32Combine(crc, readU32(crcs, k * 4), Math.min(span, length - k * span));
    if (crc !== units.param[u]) throw fail(`the sub-span CRC-32s of gzip span ${u} do not combine to its CRC-32`);
  }
}

/**
 * The member at `pos` whose deflate data starts at bit `cStart`, after any empty members: returns its
 * byte offset. CORRUPT_INDEX (through `fail`) when other members or bytes lie in between.
 */
async function findMember(source: ByteSource, pos: number, cStart: number, fail: Fail): Promise<number> {
  if (cStart % 8 !== 0 && pos * 8 >= cStart) throw fail(`gzip span at bit ${cStart} cannot start a member`);
  let at = pos;
  for (let n = 0; ; n++) {
    const head = await source.read(at, Math.min(source.size - at, 1024));
    const header = parseOrFail(head, source, at, fail);
    if ((at + header) * 8 === cStart) return at;
    if ((at + header) * 8 > cStart || n > 1000) throw fail(`no gzip member starts before bit ${cStart}`);
    at = await emptyMemberEnd(source, at, header, fail);
  }
}

function parseOrFail(head: Uint8Array, source: ByteSource, at: number, fail: Fail): number {
  try {
    const header = parseGzipHeader(head, source.name, at);
    if (header !== undefined) return header.length;
  } catch {
    // reported below
  }
  throw fail(`no gzip member header at byte ${at} of ${source.name}`);
}

/** The end of the empty member at `at` (header of `header` bytes); CORRUPT_INDEX when it holds data. */
async function emptyMemberEnd(source: ByteSource, at: number, header: number, fail: Fail): Promise<number> {
  const bytes = await source.read(at + header, Math.min(source.size - at - header, MAX_GAP_BYTES));
  let used: number;
  let out: Buffer;
  try {
    const result = zlib.inflateRawSync(bytes, { info: true, maxOutputLength: 1 }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
    out = result.buffer;
    used = result.engine.bytesWritten;
  } catch {
    throw fail(`a gzip member at byte ${at} is missing from the chunk map`);
  }
  const trailer = bytes.subarray(used, used + TRAILER_BYTES);
  if (out.length !== 0 || trailer.length < TRAILER_BYTES || readU32(trailer, 0) !== 0 || readU32(trailer, 4) !== 0) {
    throw fail(`a gzip member at byte ${at} is missing from the chunk map`);
  }
  return at + header + used + TRAILER_BYTES;
}

/**
 * Walks the empty members from `pos` up to byte `to` (to -1: as many as follow, then the end of the file
 * or bytes that are not a member). Returns `to` (or where the walk stopped).
 */
async function skipEmptyMembers(source: ByteSource, pos: number, to: number, fail: Fail): Promise<number> {
  let at = pos;
  const limit = to < 0 ? source.size : to;
  if (limit - at > MAX_GAP_BYTES && to >= 0) throw fail(`${limit - at} bytes between gzip units at byte ${at}`);
  while (at < limit) {
    const head = await source.read(at, Math.min(source.size - at, 1024));
    if (to < 0 && !(head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b)) return at;
    at = await emptyMemberEnd(source, at, parseOrFail(head, source, at, fail), fail);
    if (to < 0 && at - pos > MAX_GAP_BYTES) throw fail(`more than ${MAX_GAP_BYTES} bytes of gzip members after the last unit of the chunk map`);
  }
  if (at !== limit) throw fail(`gzip unit does not start where the member before it ends (byte ${limit}, member ends at ${at})`);
  return at;
}
