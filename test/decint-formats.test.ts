/**
 * The fast decoders as integrated: bzip2 blocks through seekdata's WebAssembly decoder (or libbzip2
 * compiled to WebAssembly, when asked), xz blocks through
 * node-liblzma / @napi-rs/lzma / lzma-native, in worker threads and inline. The truth: the plain input
 * (what the bzip2 / xz commands compressed), and for damage the errors of the reference decoder (the JS
 * bzip2 decoder, lzma-native) — identical, never bytes. Which backend decoded what is read from
 * `stats.decoders` and from the jobs' results, so a test cannot pass on the old path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSharedPool, MemorySource, openReader, WorkerPool, type SeekableReader } from '../src/index.js';
import { bzip2Format } from '../src/readers/bzip2/format.js';
import { ChunkDecoder, chunkLayout } from '../src/readers/chunks.js';
import { inlineRunner, type JobRunner } from '../src/workers/pool.js';
import type { JobResult } from '../src/workers/jobs.js';
import type { UnitTable } from '../src/readers/units.js';
import { cli } from './support/cli.js';
import { bzip2, makeText, tempDir, writeFixture, xz } from './support/fixtures.js';

/** A pool whose workers see `env` (worker threads copy the environment when they start: in the constructor). */
function poolWith(env: Record<string, string>): WorkerPool {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return new WorkerPool({ size: 2 });
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** A runner that records the backend named by every job result (discovery jobs included). */
function recording(runner: JobRunner): { runner: JobRunner; decoders: string[] } {
  const decoders: string[] = [];
  return {
    decoders,
    runner: {
      async run(job, signal, transfer): Promise<JobResult> {
        const result = await runner.run(job, signal, transfer);
        if (result.decoder !== undefined) decoders.push(result.decoder);
        return result;
      },
    },
  };
}

async function all(reader: SeekableReader): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of reader.stream()) parts.push(part);
  return Buffer.concat(parts);
}

function thrown(error: unknown): { code: unknown; message: string; compressedOffset: unknown } {
  const e = error as { code?: unknown; message?: unknown; compressedOffset?: unknown };
  return { code: e.code, message: String(e.message), compressedOffset: e.compressedOffset };
}

const tmp = tempDir();
const pools: WorkerPool[] = [];
afterAll(async () => {
  for (const pool of pools) await pool.close();
  await closeSharedPool();
  tmp.cleanup();
});

describe('bzip2: blocks decoded by WebAssembly (ours or libbzip2), errors as the JS decoder gives them', () => {
  const plain = makeText(1_300_000, 5);
  const file = new Uint8Array(bzip2(plain, 1));
  let wasmPool: WorkerPool;
  let libPool: WorkerPool;
  let jsPool: WorkerPool;
  let units: UnitTable;
  beforeAll(async () => {
    wasmPool = new WorkerPool({ size: 2 });
    libPool = poolWith({ SEEKDATA_BZIP2_DECODER: 'libbzip2' });
    jsPool = poolWith({ SEEKDATA_BZIP2_DECODER: 'js' });
    pools.push(wasmPool, libPool, jsPool);
    const reader = await openReader(new MemorySource(file, 'ok.bz2'), { parallelism: 1 });
    units = reader.units;
    await reader.close();
    expect(units.count).toBeGreaterThanOrEqual(10);
  });

  it.each([
    ['workers', 2, 'wasm'],
    ['inline', 1, 'wasm'],
    ['workers, SEEKDATA_BZIP2_DECODER=libbzip2', 2, 'libbzip2'],
    ['workers, SEEKDATA_BZIP2_DECODER=js', 2, 'js'],
  ] as const)('%s (parallelism %s): discovery and reads give the input back, every block by %s', async (label, parallelism, backend) => {
    const base = label.endsWith('=js') ? jsPool : label.endsWith('=libbzip2') ? libPool : parallelism === 1 ? inlineRunner : wasmPool;
    const { runner, decoders } = recording(base);
    const reader = await openReader(new MemorySource(file, 'ok.bz2'), { parallelism, pool: runner });
    try {
      // Discovery (the decoding scan) went through the backend too: one job per block at least.
      expect(decoders.length).toBeGreaterThanOrEqual(units.count);
      expect(new Set(decoders)).toEqual(new Set([backend]));
      expect((await all(reader)).equals(plain)).toBe(true);
      expect(reader.stats.decoders).toEqual({ [backend]: units.count });
      const at = plain.length - 77_777;
      expect(Buffer.from(await reader.read(at, 5000)).equals(plain.subarray(at, at + 5000))).toBe(true);
      if (parallelism === 1) expect(reader.info().decoder).toBe("seekdata's WebAssembly decoder");
    } finally {
      await reader.close();
    }
  });

  it('a damaged block, a truncated file: discovery fails with the same typed error on every path', async () => {
    const b = Math.floor(units.cStart[4] / 8) + 3000;
    const flipped = file.slice();
    flipped[b] ^= 0x10;
    const cut = file.slice(0, Math.floor(units.cStart[7] / 8) + 5000);
    for (const damaged of [flipped, cut]) {
      const errors = [];
      for (const [parallelism, pool] of [[1, inlineRunner], [2, wasmPool], [2, libPool], [2, jsPool]] as const) {
        errors.push(thrown(await openReader(new MemorySource(damaged, 'bad.bz2'), { parallelism, pool }).catch((e: unknown) => e)));
      }
      expect(['CORRUPT_DATA', 'TRUNCATED']).toContain(errors[0].code);
      expect(errors[0].message).toContain('bad.bz2');
      for (const other of errors.slice(1)) expect(other).toEqual(errors[0]);
    }
  });

  it('through a known chunk map: damage is CORRUPT_DATA, a map that does not match the block CORRUPT_INDEX, as with the JS decoder', async () => {
    const flipped = file.slice();
    flipped[Math.floor(units.cStart[3] / 8) + 2000] ^= 0x04;
    const wrongCrc: UnitTable = { ...units, param: units.param.slice() };
    wrongCrc.param[5] = (wrongCrc.param[5] ^ 1) >>> 0;
    const shorter: UnitTable = { ...units, dStart: units.dStart.slice() };
    for (let u = 6; u <= units.count; u++) shorter.dStart[u] -= 1;
    const cases: Array<[Uint8Array, UnitTable, number, string]> = [
      [flipped, units, 3, 'CORRUPT_DATA'],
      [file, wrongCrc, 5, 'CORRUPT_INDEX'],
      [file, shorter, 5, 'CORRUPT_INDEX'],
    ];
    for (const [bytes, map, chunk, code] of cases) {
      const errors = [];
      for (const runner of [inlineRunner, wasmPool, libPool, jsPool]) {
        const decoder = new ChunkDecoder(new MemorySource(bytes, 'map.bz2'), map, chunkLayout(map), runner);
        errors.push(thrown(await decoder.decode(chunk).catch((e: unknown) => e)));
      }
      expect(errors[0].code).toBe(code);
      expect(errors[0].message).toMatch(new RegExp(`^map\\.bz2: (corrupt )?bzip2 block at byte ${Math.floor(map.cStart[chunk] / 8)}\\b`));
      for (const other of errors.slice(1)) expect(other).toEqual(errors[0]);
    }
  });

  it('the task of a block carries the chunk map: end, CRC and length', async () => {
    const { input } = await bzip2Format.task(new MemorySource(file, 'ok.bz2'), units, 2);
    const task = (input as { task: { endBit: number; expectedCrc: number; expectedLength: number; base: number } }).task;
    expect([task.base * 8 + task.endBit, task.expectedCrc, task.expectedLength]).toEqual([units.cEnd[2], units.param[2], units.dStart[3] - units.dStart[2]]);
  });
});

const XZ_BACKENDS = ['node-liblzma', 'napi-rs', 'lzma-native'] as const;

describe('xz: blocks decoded by node-liblzma, else @napi-rs/lzma, else lzma-native, every check verified', () => {
  const plain = makeText(400_000, 11);
  const xzPools = new Map<string, WorkerPool>();
  beforeAll(() => {
    for (const backend of XZ_BACKENDS) xzPools.set(backend, poolWith({ SEEKDATA_XZ_DECODER: backend }));
    pools.push(...xzPools.values());
  });
  const poolFor = (backend: string): WorkerPool => {
    const pool = xzPools.get(backend);
    if (pool === undefined) throw new Error(backend);
    return pool;
  };

  it.each(['none', 'crc32', 'crc64', 'sha256'])('check %s: each backend gives the input back; a damaged check or block is the same CORRUPT_DATA from each', async (check) => {
    const file = new Uint8Array(xz(plain, `--check=${check}`, '--block-size=60000'));
    const reference = await openReader(new MemorySource(file, 'c.xz'), { parallelism: 1 });
    const units = reference.units;
    await reference.close();
    expect(units.count).toBeGreaterThanOrEqual(6);
    const damaged: Array<[string, Uint8Array]> = [];
    if (check !== 'none') {
      // The last byte of block 2's check: the data is intact, so only a decoder that checks notices.
      const badCheck = file.slice();
      badCheck[units.cStart[2] + units.param[2] - 1] ^= 0x01;
      damaged.push(['check', badCheck]);
    }
    const badData = file.slice();
    badData[units.cStart[2] + Math.floor(units.param[2] / 2)] ^= 0x10;
    damaged.push(['data', badData]);

    const errors = new Map<string, unknown[]>();
    for (const backend of XZ_BACKENDS) {
      const reader = await openReader(new MemorySource(file, 'c.xz'), { parallelism: 2, pool: poolFor(backend) });
      try {
        expect((await all(reader)).equals(plain)).toBe(true);
        // @napi-rs/lzma has no SHA-256: those blocks go to lzma-native, never unchecked.
        const expected = backend === 'napi-rs' && check === 'sha256' ? 'lzma-native' : backend;
        expect(reader.stats.decoders).toEqual({ [expected]: units.count });
      } finally {
        await reader.close();
      }
      for (const [what, bytes] of damaged) {
        const bad = await openReader(new MemorySource(bytes, 'c.xz'), { parallelism: 2, pool: poolFor(backend) });
        try {
          const at = units.dStart[2] + 10;
          const error = await bad.read(at, 100).then(
            () => `accepted a damaged ${what}`,
            (e: unknown) => e,
          );
          expect(thrown(error).code).toBe('CORRUPT_DATA');
          expect(thrown(error).message).toContain(`c.xz: xz block at byte ${units.cStart[2]}`);
          errors.set(what, [...(errors.get(what) ?? []), thrown(error)]);
          // The blocks around it are intact and read.
          expect(Buffer.from(await bad.read(units.dStart[3], 100)).equals(plain.subarray(units.dStart[3], units.dStart[3] + 100))).toBe(true);
        } finally {
          await bad.close();
        }
      }
    }
    // The fast backends' failures are diagnosed by lzma-native: the same error whichever decoded first.
    for (const list of errors.values()) for (const e of list) expect(e).toEqual(list[0]);
  });

  it('the default order in this process: node-liblzma (it has a prebuilt binary here), named by info and `info --json`', async () => {
    const path = writeFixture(tmp.dir, 'named.csv.xz', xz(plain, '--block-size=100000'));
    const reader = await openReader(path, { parallelism: 2, index: false });
    try {
      expect(reader.info().decoder).toMatch(/^node-liblzma \(liblzma 5\.\d+\.\d+\)$/);
      await all(reader);
      expect(reader.stats.decoders).toEqual({ 'node-liblzma': reader.units.count });
    } finally {
      await reader.close();
    }
    const json = await cli('info', path, '--json', '--no-index');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout.toString()).decoder).toMatch(/^node-liblzma/);
    const text = await cli('info', path, '--no-index');
    expect(text.stdout.toString()).toMatch(/^decoder +node-liblzma \(liblzma 5/m);
  });
});
