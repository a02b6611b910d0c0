/**
 * What `seekdata info` says about a gzip file: which kind it is (one member, several members, BGZF),
 * how many units and checkpoints its table has, and what a random read costs (decoding the unit that
 * holds the offset). `sniffGzip` tells what can be known from the first bytes alone, before any index.
 */
import { parseGzipHeader } from './header.js';
import { KIND_SPAN, type GzipUnitTable } from './units.js';

/** 'empty': no member with data (one or more empty members: they hold no unit, so how many is not kept). */
export type GzipLayout = 'single-member' | 'multi-member' | 'bgzf' | 'empty';

export interface GzipDescription {
  layout: GzipLayout;
  members: number;
  units: number;
  /** Units that start at a checkpoint inside a member (they carry a 32 KiB window). */
  checkpoints: number;
  decompressedSize: number;
  /** Bytes of the compressed windows in the table. */
  windowBytes: number;
  /** Decoded bytes of the largest and the median unit: a random read decodes one unit. */
  largestUnit: number;
  medianUnit: number;
  /** One line for people, e.g. "a random read decodes one unit: at most 1.1 MiB (median 1.0 MiB) from a checkpoint". */
  randomRead: string;
}

const mib = (n: number): string => `${(n / 1048576).toFixed(1)} MiB`;

export function describeGzip(table: GzipUnitTable): GzipDescription {
  let members = 0;
  let checkpoints = 0;
  let spans = 0;
  const sizes: number[] = [];
  for (let i = 0; i < table.count; i++) {
    members += table.members[i];
    if (table.kind[i] === KIND_SPAN) spans++;
    if (table.windowStart[i + 1] > table.windowStart[i]) checkpoints++;
    sizes.push(table.dStart[i + 1] - table.dStart[i]);
  }
  sizes.sort((a, b) => a - b);
  const largestUnit = sizes.length === 0 ? 0 : sizes[sizes.length - 1];
  const medianUnit = sizes.length === 0 ? 0 : sizes[sizes.length >> 1];
  const layout: GzipLayout = table.bgzf ? 'bgzf' : members > 1 ? 'multi-member' : members === 1 ? 'single-member' : 'empty';
  const how =
    spans === 0 ? 'a run of whole members' : spans === table.count ? 'a span from a checkpoint (zran)' : 'a span from a checkpoint or a run of whole members';
  return {
    layout,
    members,
    units: table.count,
    checkpoints,
    decompressedSize: table.dStart[table.count],
    windowBytes: table.windows.length,
    largestUnit,
    medianUnit,
    randomRead: table.count === 0 ? 'nothing to decode: the file holds no data' : `a random read decodes one unit, ${how}: at most ${mib(largestUnit)} (median ${mib(medianUnit)})`,
  };
}

/**
 * From the first bytes of a file (64 KiB is plenty): whether it is gzip, and whether its first member is
 * a BGZF block (then `discoverBgzf` finds the units without decoding; otherwise `scanGzip` is needed).
 */
export function sniffGzip(head: Uint8Array): { gzip: boolean; bgzf: boolean } {
  if (head.length < 3 || head[0] !== 0x1f || head[1] !== 0x8b || head[2] !== 8) return { gzip: false, bgzf: false };
  try {
    const header = parseGzipHeader(head, '<head>', 0);
    return { gzip: true, bgzf: header?.bgzfSize !== undefined };
  } catch {
    return { gzip: true, bgzf: false };
  }
}
