/**
 * Raw LZMA2 encoding with liblzma (lzma-native's native stream, synchronous), for the blocks of
 * `writeXz`. A block starts with a fresh dictionary, so a dictionary larger than the block buys nothing
 * and costs memory on both sides (xz -6's 8 MiB dictionary makes its encoder allocate ~94 MiB, and every
 * decoder of the block 8 MiB). The block's dictionary is therefore the smallest size the LZMA2 property
 * byte can express that holds the whole block, capped at the preset's. lzma-native's `preset` option
 * overrides an explicit dictionary size, so the preset's other settings are spelled out here as
 * liblzma's lzma_lzma_preset sets them (test/recompress-xz.test.ts checks the output is byte for byte
 * what `preset` alone gives when the dictionary is the preset's).
 */
import lzma, { type LzmaNativeError } from 'lzma-native';
import { SeekdataError } from '../../errors.js';

/** LZMA2 filter ID in an xz block header. */
export const LZMA2_FILTER_ID = 0x21;
const DICT_MIN = 4096;
/** log2 of each preset's dictionary size (liblzma 5.x). */
const DICT_POW2 = [18, 20, 21, 22, 22, 23, 23, 24, 25, 26];

export interface Lzma2Options {
  dictSize: number;
  lc: number;
  lp: number;
  pb: number;
  mode: number;
  niceLen: number;
  mf: number;
  depth: number;
}

/** liblzma's settings of preset `level` (0-9), with the dictionary size reduced to `dictSize` when smaller. */
export function presetOptions(level: number, dictSize?: number): Lzma2Options {
  const presetDict = 2 ** DICT_POW2[level];
  const fast = level <= 3;
  return {
    dictSize: Math.min(presetDict, dictSize ?? presetDict),
    lc: 3,
    lp: 0,
    pb: 2,
    mode: fast ? lzma.MODE_FAST : lzma.MODE_NORMAL,
    niceLen: fast ? (level <= 1 ? 128 : 273) : level === 4 ? 16 : level === 5 ? 32 : 64,
    mf: fast ? (level === 0 ? lzma.MF_HC3 : lzma.MF_HC4) : lzma.MF_BT4,
    depth: fast ? [4, 8, 24, 48][level] : 0,
  };
}

/** The dictionary size LZMA2 property byte `b` stands for: 2^(b/2 + 12) or 3 * 2^(b/2 + 11). */
function dictOfProperty(b: number): number {
  return (2 | (b & 1)) * 2 ** (Math.floor(b / 2) + 11);
}

/**
 * The dictionary for a block of `bytes` bytes at preset `level`: the smallest size a property byte can
 * express that is at least the block (and at least 4 KiB), at most the preset's. Returns the size and
 * its property byte (which then describes it exactly).
 */
export function blockDictionary(bytes: number, level: number): { dictSize: number; property: number } {
  const cap = 2 ** DICT_POW2[level];
  const want = Math.min(cap, Math.max(DICT_MIN, bytes));
  let property = 0;
  while (dictOfProperty(property) < want) property++;
  return { dictSize: dictOfProperty(property), property };
}

/** `input` as raw LZMA2 data (ending with LZMA2's end marker), encoded with `options`. */
export function encodeLzma2(input: Uint8Array, options: Lzma2Options): Uint8Array {
  const stream = new lzma.Stream();
  const parts: Buffer[] = [];
  let total = 0;
  let failure: LzmaNativeError | null = null;
  stream.bufferHandler = (buf, _processed, err) => {
    if (err) failure = err;
    else if (buf !== null && buf !== undefined && buf.length > 0) {
      parts.push(buf);
      total += buf.length;
    }
  };
  // Output buffers about the size of the result: a block compresses to a fraction of its input.
  stream.setBufsize(Math.max(1 << 16, Math.min(input.length, 8 << 20)));
  try {
    stream.rawEncoder({ filters: [{ id: lzma.FILTER_LZMA2, options: { ...options } }] });
    stream.code(Buffer.from(input.buffer, input.byteOffset, input.byteLength), false);
    stream.code(null, false);
  } catch (error) {
    failure = error as LzmaNativeError;
  }
  stream.resetUnderlying();
  if (failure !== null) {
    const e: LzmaNativeError = failure;
    throw new SeekdataError('IO_ERROR', `liblzma could not encode an LZMA2 block: ${e.desc ?? e.message} (${e.name})`, { cause: e });
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
