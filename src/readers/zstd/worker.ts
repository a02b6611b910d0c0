/**
 * A Piscina worker entry for zstd jobs alone: decode a frame, compress a seekable frame. Used by the zstd
 * tests and benchmark until the format is wired into seekdata's own worker (whose job list this mirrors:
 * plain data in, bytes moved out, errors as plain data so their code survives the thread boundary).
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { SeekdataError, deserializeError, isSerializedSeekdataError, type SerializedSeekdataError } from '../../errors.js';
import { decodeZstdFrame, type ZstdFrameTask } from './decode.js';
import { compressSeekableFrame } from './write.js';

export type ZstdJob = { op: 'decode'; task: ZstdFrameTask } | { op: 'compress'; chunk: Uint8Array; level: number };

export type ZstdJobResponse =
  | { ok: true; bytes: Uint8Array; checksum: number }
  | { ok: false; error: SerializedSeekdataError | { message: string } };

export default async function handle(job: ZstdJob): Promise<unknown> {
  let response: ZstdJobResponse;
  try {
    if (job.op === 'decode') {
      response = { ok: true, bytes: await decodeZstdFrame(job.task), checksum: 0 };
    } else {
      const frame = await compressSeekableFrame(job.chunk, job.level);
      response = { ok: true, bytes: frame.frame, checksum: frame.checksum };
    }
  } catch (error) {
    if (error instanceof SeekdataError) return { ok: false, error: error.toJSON() };
    return { ok: false, error: { message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) } };
  }
  const bytes = response.bytes;
  const whole = bytes.byteOffset === 0 && bytes.buffer instanceof ArrayBuffer && bytes.byteLength === bytes.buffer.byteLength;
  return whole ? move({ [transferableSymbol]: [bytes.buffer], [valueSymbol]: response }) : response;
}

/** The job's bytes, or its error rethrown as the SeekdataError it was. */
export function fromZstdResponse(response: ZstdJobResponse): { bytes: Uint8Array; checksum: number } {
  if (response.ok) return { bytes: response.bytes, checksum: response.checksum };
  if (isSerializedSeekdataError(response.error)) throw deserializeError(response.error);
  throw new SeekdataError('WORKER_ERROR', `zstd worker job failed: ${response.error.message}`);
}
