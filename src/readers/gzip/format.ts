/**
 * gzip as a format module (format.ts). BGZF files (bgzip: every block a member whose size is in its
 * header) have their units found from headers alone (`units`): runs of blocks of about `unitBytes`. Any
 * other gzip file (gzip, pigz, `cat a.gz b.gz`) is read once by the sequential checkpoint pass (`scan`,
 * discovery.ts), which verifies every member's CRC-32 and ISIZE and leaves spans between checkpoints
 * (with the 32 KiB window before each, stored compressed) and runs of whole small members as units.
 * A unit is decoded by Node's native zlib (decode.ts) and checked against its CRC-32 (`param`) every time.
 */
import { isSeekdataError } from '../../errors.js';
import { decodeInput, type FormatModule } from '../format.js';
import { postable } from '../post.js';
import type { UnitTable } from '../units.js';
import { bgzfBlocksPart, discoverBgzf } from './bgzf.js';
import { describeGzip, sniffGzip } from './describe.js';
import { decodeGzipPrefix, decodeGzipUnit, type GzipDecodeTask } from './decode.js';
import { DEFAULT_SPACING, GzipDiscovery } from './discovery.js';
import { scanGzip } from './scan.js';
import { decodeSpanPrefix } from './span-prefix.js';
import { prefixFeed, prefixTarget } from '../sub-crcs.js';
import { asGzipTable, gzipExtra, gzipUnitTable, isBgzf, subCrcsOf, windowOf } from './table.js';
import { KIND_MEMBERS, KIND_SPAN, unpackWindow } from './units.js';
import { validateGzipUnits } from './validate.js';

/** Bytes read to sniff the first header (a BGZF header is 18 bytes; FNAME / FCOMMENT can be longer). */
const SNIFF_BYTES = 64 << 10;

const mib = (n: number): string => `${(n / 1048576).toFixed(1)} MiB`;

/** The decode task of unit u, given its compressed bytes (the whole unit, or a prefix of them); see `FormatModule.task` for `inThread`. */
function unitTask(units: UnitTable, u: number, data: Uint8Array, file: string, inThread = false): GzipDecodeTask {
  const offset = Math.floor(units.cStart[u] / 8);
  const task: GzipDecodeTask = {
    data,
    shift: units.cStart[u] - offset * 8,
    bitLength: units.cEnd[u] - units.cStart[u],
    // Copied out of the table for a worker: posting a view would clone all the windows with it.
    window: inThread ? windowOf(units, u) : new Uint8Array(windowOf(units, u)),
    windowPacked: true,
    kind: units.kind[u],
    dLength: units.dStart[u + 1] - units.dStart[u],
    crc: units.param[u],
    file,
    offset,
  };
  if (inThread) task.inThread = true;
  return task;
}

function byteRange(units: UnitTable, u: number): { offset: number; length: number } {
  const offset = Math.floor(units.cStart[u] / 8);
  return { offset, length: Math.ceil(units.cEnd[u] / 8) - offset };
}

export const gzipFormat: FormatModule<'gzip', GzipDecodeTask> = {
  name: 'gzip',
  unitName: 'gzip unit',
  signature: { magic: [0x1f, 0x8b], header: 10, extensions: ['.gz', '.tgz', '.bgz', '.gzip'] },
  offsetsInBits: true,
  decoderName: () => `zlib ${process.versions.zlib} (Node's native inflate)`,

  async units(source, options) {
    const head = await source.read(0, Math.min(source.size, SNIFF_BYTES));
    if (!sniffGzip(head).bgzf) return undefined;
    const spacing = options?.unitBytes ?? DEFAULT_SPACING;
    let table;
    try {
      table = await discoverBgzf(source, { unitBytes: spacing, onWarning: (w) => options?.onWarning?.(w.message) });
    } catch (error) {
      // A `BC` subfield whose sizes do not chain (an ordinary member that carries one, or a damaged BSIZE):
      // the sequential pass reads whatever gzip reads, and types any real damage by the members' CRC-32s.
      if (!isSeekdataError(error, 'CORRUPT_DATA') && !isSeekdataError(error, 'TRUNCATED')) throw error;
      options?.onWarning?.(`${source.name}: the BGZF block sizes in its gzip headers do not hold (${error instanceof Error ? error.message : String(error)}): read by the sequential pass instead (slower to index)`);
      return undefined;
    }
    return table === undefined ? undefined : gzipUnitTable(table, { bgzf: true, spacing });
  },
  // A BGZF block's ISIZE is covered by no checksum: checked by decoding once (a damaged one would shift the rest).
  sizesUnverified: (units) => units.count > 1,
  scan: (source, context) => new GzipDiscovery(source, context),
  extra: { columns: ['members'], blobs: ['windows'] },

  /** The first unit of the checkpoint pass (about 1 MiB): what the CSV header is read from before the pass. */
  async head(source) {
    // Leaving the loop early ends the scan (its generator's return).
    for await (const unit of scanGzip(source, { spacing: DEFAULT_SPACING })) if (unit.dLength > 0) return { bytes: unit.data };
    return { bytes: new Uint8Array(0) };
  },

  validate: validateGzipUnits,

  async task(source, units, u, inThread) {
    const { offset, length } = byteRange(units, u);
    if (inThread === true) return { input: decodeInput(gzipFormat, unitTask(units, u, await source.read(offset, length), source.name, true)), transfer: [] };
    const { bytes, transfer } = postable(await source.read(offset, length), source.ownsReads === true);
    const task = unitTask(units, u, bytes, source.name);
    return { input: decodeInput(gzipFormat, task), transfer: [...transfer, task.window.buffer as ArrayBuffer] };
  },
  decode: (task) => ({ bytes: decodeGzipUnit(task) }),
  // zlib's synchronous inflate: ~1.7 ms for a 1 MiB span, less than a worker round trip adds to a lone read.
  inline: () => 'blocking',

  async prefix(source, units, u, length) {
    const { offset, length: whole } = byteRange(units, u);
    const dLength = units.dStart[u + 1] - units.dStart[u];
    const want = Math.min(length, dLength);
    // Compressed bytes for about `want` decoded ones at the unit's ratio, doubled until they give enough.
    for (let n = Math.min(whole, Math.ceil((want * whole) / dLength) + 4096); ; n = Math.min(whole, n * 2)) {
      const out = decodeGzipPrefix(unitTask(units, u, await source.read(offset, n), source.name), want);
      if (out.length >= want || n === whole) return out;
    }
  },

  async verifiedPrefix(source, units, u, end) {
    const sub = subCrcsOf(units, u);
    const dLength = units.dStart[u + 1] - units.dStart[u];
    if (sub === undefined || end <= 0 || prefixTarget(end, sub.span, dLength) >= dLength) return undefined;
    const { offset, length: whole } = byteRange(units, u);
    const window = unpackWindow(windowOf(units, u), source.name);
    const base = { shift: units.cStart[u] - offset * 8, window, dLength, crcs: sub.crcs, span: sub.span, end, file: source.name, offset, dStart: units.dStart[u] };
    // Compressed bytes for the sub-spans wanted at the span's ratio; more when they decode to too little.
    // A feed that would reach the span's end gives way to a whole decode (its end marker checks the span's end).
    for (let n = prefixFeed(prefixTarget(end, sub.span, dLength), whole, dLength); n < whole; n = Math.ceil(n * 1.25) + (16 << 10)) {
      const bytes = decodeSpanPrefix({ ...base, data: await source.read(offset, n) });
      if (bytes !== undefined) return bytes;
    }
    return undefined;
  },

  // A read inside one BGZF run decodes only the blocks holding it (bgzf.ts).
  async verifiedPart(source, units, u, from, to) {
    if (units.kind[u] !== KIND_MEMBERS || !isBgzf(units)) return undefined;
    const { offset, length } = byteRange(units, u);
    const run = { file: source.name, offset, dLength: units.dStart[u + 1] - units.dStart[u], members: gzipExtra(units).members[u] };
    return bgzfBlocksPart(await source.read(offset, length), run, from, to);
  },

  describe(units) {
    const d = describeGzip(asGzipTable(units));
    const spans = units.kind.reduce((n, k) => n + (k === KIND_SPAN ? 1 : 0), 0);
    const spacing = units.extra?.facts?.spacing;
    const subSpan = units.extra?.facts?.subSpan;
    const sub = spans > 0 && typeof subSpan === 'number' ? `${subSpan >> 10} KiB` : undefined;
    const prefix =
      sub !== undefined
        ? `; a read inside one span decodes only its prefix through the ${sub} sub-span holding the read's last byte (about half a span on average; option prefixReads)`
        : isBgzf(units)
          ? '; a read inside one run decodes only the BGZF blocks holding it, each checked by its own CRC-32 (option prefixReads)'
          : '';
    return {
      kind: d.layout,
      randomRead: `${d.randomRead}${spans > 0 ? `; checkpoints every ${mib(typeof spacing === 'number' ? spacing : DEFAULT_SPACING)} (--gzip-spacing-mb)` : ''}${prefix}`,
      verified:
        spans > 0
          ? `every member CRC-32 and ISIZE by the index pass; every unit (a span between checkpoints, or a run of members) against the CRC-32 of its bytes recorded then, each time it is decoded${sub === undefined ? '' : `; a span's prefix against the CRC-32s of its ${sub} sub-spans recorded then`}`
          : 'every member against its CRC-32 and ISIZE (and each unit against their combined CRC-32) each time it is decoded',
      facts: {
        layout: d.layout,
        members: d.members,
        checkpoints: d.checkpoints,
        windowBytes: d.windowBytes,
        medianUnit: d.medianUnit,
        bgzf: isBgzf(units),
      },
    };
  },
};
