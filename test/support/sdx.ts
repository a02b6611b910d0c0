/**
 * The index file's byte layout as the README documents it (version 2), written out independently of
 * src/index/index-file.ts, so tests can find, damage and re-checksum sections the way a crafted file would.
 */
import { crc32 } from 'node:zlib';

export interface Entry {
  name: string;
  kind: number;
  count: number;
  offset: number;
  length: number;
  /** Byte position of this entry in the directory. */
  at: number;
}

export function entries(file: Uint8Array): Entry[] {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const n = view.getUint32(12, true);
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const at = 32 + 64 * i;
    const raw = file.subarray(at, at + 32);
    const end = raw.indexOf(0) < 0 ? 32 : raw.indexOf(0);
    out.push({
      name: Buffer.from(raw.subarray(0, end)).toString('utf8'),
      kind: view.getUint32(at + 32, true),
      count: Number(view.getBigUint64(at + 40, true)),
      offset: Number(view.getBigUint64(at + 48, true)),
      length: Number(view.getBigUint64(at + 56, true)),
      at,
    });
  }
  return out;
}

export function entry(file: Uint8Array, name: string): Entry {
  const e = entries(file).find((x) => x.name === name);
  if (e === undefined) throw new Error(`no section ${name}`);
  return e;
}

/** Recomputes every section CRC, the directory CRC and the header CRC (as a forger would). */
export function rechecksum(file: Uint8Array): void {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const n = view.getUint32(12, true);
  for (const e of entries(file)) {
    if (e.offset + e.length <= file.length) view.setUint32(e.at + 36, crc32(file.subarray(e.offset, e.offset + e.length)), true);
  }
  view.setUint32(24, crc32(file.subarray(32, 32 + 64 * n)), true);
  view.setUint32(28, crc32(file.subarray(0, 28)), true);
}

/** Replaces the JSON of a section (same or other length), moving later sections and fixing the directory. */
export function withJson(file: Uint8Array, name: string, json: unknown): Uint8Array {
  return withPayload(file, name, new Uint8Array(Buffer.from(JSON.stringify(json))));
}

/**
 * Replaces a section's bytes (same or other length; a typed section's element count follows from its
 * element size), moving later sections and fixing the directory and the checksums.
 */
export function withPayload(file: Uint8Array, name: string, payload: Uint8Array): Uint8Array {
  const all = entries(file);
  const payloads = all.map((e) => (e.name === name ? payload : file.subarray(e.offset, e.offset + e.length)));
  const pad = (x: number): number => Math.ceil(x / 8) * 8;
  let at = pad(32 + 64 * all.length);
  const offsets = payloads.map((p) => {
    const o = at;
    at = pad(at + p.length);
    return o;
  });
  const out = new Uint8Array(at);
  out.set(file.subarray(0, 32 + 64 * all.length));
  const view = new DataView(out.buffer);
  view.setBigUint64(16, BigInt(at), true);
  all.forEach((e, i) => {
    out.set(payloads[i], offsets[i]);
    const count = e.kind === 0 ? payloads[i].length : e.length === 0 ? e.count : (e.count * payloads[i].length) / e.length;
    view.setBigUint64(e.at + 40, BigInt(count), true);
    view.setBigUint64(e.at + 48, BigInt(offsets[i]), true);
    view.setBigUint64(e.at + 56, BigInt(payloads[i].length), true);
  });
  rechecksum(out);
  return out;
}

export function json(file: Uint8Array, name: string): unknown {
  const e = entry(file, name);
  return JSON.parse(Buffer.from(file.subarray(e.offset, e.offset + e.length)).toString('utf8'));
}
