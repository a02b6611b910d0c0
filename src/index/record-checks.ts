/**
 * Completing a chunk map before it is saved: units checked only by a value their first full decode
 * records (zstd frames written with --no-check, checked later by the CRC-32 of their bytes) are decoded
 * once here, so the index holds that value and every later read of them is checked.
 */
import { ChunkDecoder, chunkLayout, type PieceOptions } from '../readers/chunks.js';
import { formatOf } from '../readers/formats.js';
import type { UnitTable } from '../readers/units.js';
import type { ByteSource } from '../sources/source.js';
import type { JobRunner } from '../workers/pool.js';

/** Units of `units` whose check still needs recording. */
export function unitsNeedingRecording(units: UnitTable): number {
  const needs = formatOf(units.format).needsRecording;
  if (needs === undefined) return 0;
  let n = 0;
  for (let u = 0; u < units.count; u++) if (needs(units, u)) n++;
  return n;
}

/** Decodes (and so checks and records) every chunk of a unit that needs recording, `parallelism` at once. */
export async function recordUnitChecks(
  source: ByteSource,
  units: UnitTable,
  runner: JobRunner,
  options: { pieces: PieceOptions; parallelism: number; signal?: AbortSignal | undefined },
): Promise<void> {
  const needs = formatOf(units.format).needsRecording;
  if (needs === undefined) return;
  const layout = chunkLayout(units, options.pieces);
  const decoder = new ChunkDecoder(source, units, layout, runner);
  const chunks: number[] = [];
  for (let c = 0; c < layout.count; c++) if (needs(units, layout.unit[c])) chunks.push(c);
  try {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < chunks.length) {
        const chunk = chunks[next++];
        if (chunk !== undefined) await decoder.decodeWith(chunk, options.signal, { keepBytes: false });
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.parallelism) }, lane));
  } finally {
    decoder.close();
  }
}
