/**
 * Writes index files in format version 1 (the layout before the section directory), as an older
 * seekdata did, so tests can check that such files are rebuilt with the record options they hold.
 * Version 1, little-endian: header (32 bytes) "SEEKDATA" | version u32 | section count u32 | body length
 * u64 | body CRC32 u32 | header CRC32 u32; body: per section: name length u32 | kind u32 | element count
 * u64 | name (padded to 8) | payload (padded to 8).
 */
import { crc32 } from 'node:zlib';

type Value = Float64Array | Uint32Array | Uint8Array | { json: unknown };

export function encodeV1(sections: Array<[string, Value]>): Uint8Array {
  const pad8 = (n: number): number => Math.ceil(n / 8) * 8;
  const parts = sections.map(([name, value]) => {
    const kind = 'json' in value ? 0 : value instanceof Float64Array ? 1 : value instanceof Uint32Array ? 2 : 5;
    const payload = 'json' in value ? new Uint8Array(Buffer.from(JSON.stringify(value.json))) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    const count = 'json' in value ? payload.length : value.length;
    return { name: new Uint8Array(Buffer.from(name)), kind, count, payload };
  });
  const body = parts.reduce((n, p) => n + 16 + pad8(p.name.length) + pad8(p.payload.length), 0);
  const out = new Uint8Array(32 + body);
  const view = new DataView(out.buffer);
  out.set(Buffer.from('SEEKDATA'), 0);
  view.setUint32(8, 1, true);
  view.setUint32(12, parts.length, true);
  view.setBigUint64(16, BigInt(body), true);
  let pos = 32;
  for (const p of parts) {
    view.setUint32(pos, p.name.length, true);
    view.setUint32(pos + 4, p.kind, true);
    view.setBigUint64(pos + 8, BigInt(p.count), true);
    pos += 16;
    out.set(p.name, pos);
    pos += pad8(p.name.length);
    out.set(p.payload, pos);
    pos += pad8(p.payload.length);
  }
  view.setUint32(24, crc32(out.subarray(32)), true);
  view.setUint32(28, crc32(out.subarray(0, 28)), true);
  return out;
}
