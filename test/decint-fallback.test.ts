/**
 * When a preferred decoder backend does not load (an optional dependency missing on a platform without
 * its prebuilt binary), the next one decodes — verified as before — and the fallback is said once per
 * process, however many files are opened. A missing package is simulated in a real process with module
 * resolution hooks (support/hide-packages.mjs); the truth is the plain input.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runProcess, repoRoot, type ProcessResult } from './support/process.js';
import { bzip2, makeText, tempDir, writeFixture, xz } from './support/fixtures.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const plain = makeText(300_000, 21);
const plainPath = writeFixture(tmp.dir, 'p.csv', plain);
const xzPath = writeFixture(tmp.dir, 'p.csv.xz', xz(plain, '--check=crc64', '--block-size=50000'));
const shaPath = writeFixture(tmp.dir, 's.csv.xz', xz(plain, '--check=sha256', '--block-size=50000'));
const bzPath = writeFixture(tmp.dir, 'p.csv.bz2', bzip2(plain, 1));

// Opens each file three times (inline, in workers, inline again) and prints, per open, the decoder
// `info()` names, what decoded the blocks, and whether the bytes equal the plain file.
const script = writeFixture(
  tmp.dir,
  'open-thrice.mts',
  Buffer.from(`
import { readFileSync } from 'node:fs';
import { closeSharedPool, openReader } from ${JSON.stringify(join(repoRoot, 'src/index.ts'))};
const expected = readFileSync(process.argv[2]);
for (const file of process.argv.slice(3)) {
  for (const parallelism of [1, 2, 1]) {
    const reader = await openReader(file, { parallelism, index: false });
    const parts = [];
    for await (const part of reader.stream()) parts.push(part);
    const same = Buffer.concat(parts).equals(expected);
    console.log(JSON.stringify({ parallelism, decoder: reader.info().decoder, decoders: reader.stats.decoders, same }));
    await reader.close();
  }
}
await closeSharedPool();
`),
);

interface Line {
  parallelism: number;
  decoder: string;
  decoders: Record<string, number>;
  same: boolean;
}

async function openThrice(env: Record<string, string>, ...files: string[]): Promise<{ lines: Line[]; warnings: string[]; result: ProcessResult }> {
  const hide = join(repoRoot, 'test/support/hide-packages.mjs');
  const result = await runProcess(process.execPath, ['--import', 'tsx', '--import', hide, script, plainPath, ...files], { env: { ...process.env, ...env } });
  const lines = result.stdout
    .toString()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);
  const warnings = result.stderr.split('\n').filter((l) => l.includes('SeekdataWarning'));
  return { lines, warnings, result };
}

describe('decoder fallback', () => {
  it('node-liblzma missing: @napi-rs/lzma decodes (SHA-256 blocks lzma-native), said once for six opens', async () => {
    const { lines, warnings, result } = await openThrice({ SEEKDATA_TEST_HIDE: 'node-liblzma' }, xzPath, shaPath);
    expect(result.code, result.stderr).toBe(0);
    expect(lines).toHaveLength(6);
    for (const line of lines) {
      expect(line.same).toBe(true);
      expect(line.decoder).toBe('@napi-rs/lzma (lzma-rs)');
    }
    // Inline opens decode in the main thread, where the package is missing. (Worker threads do not run the
    // hooks of the main thread: there node-liblzma loads, as it would on a real platform either way.)
    const units = (l: Line): number => Object.values(l.decoders).reduce((a, b) => a + b, 0);
    expect(lines[0].decoders).toEqual({ 'napi-rs': units(lines[0]) });
    expect(lines[3].decoders).toEqual({ 'lzma-native': units(lines[3]) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('SEEKDATA_DECODER_FALLBACK');
    expect(warnings[0]).toContain("node-liblzma (Cannot find package 'node-liblzma'");
    expect(warnings[0]).toContain('decoded by @napi-rs/lzma');
  });

  it('both fast xz backends missing: lzma-native decodes, said once', async () => {
    const { lines, warnings, result } = await openThrice({ SEEKDATA_TEST_HIDE: 'node-liblzma,@napi-rs/lzma' }, xzPath);
    expect(result.code, result.stderr).toBe(0);
    expect(lines.map((l) => [l.same, l.decoder.replace(/[\d.]+\)$/, ')')])).toEqual(Array(3).fill([true, 'lzma-native (liblzma )']));
    expect(lines[0].decoders).toEqual({ 'lzma-native': expect.any(Number) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/node-liblzma .*@napi-rs\/lzma .*decoded by lzma-native/);
  });

  it("WebAssembly libbzip2 missing: seekdata's own WebAssembly decoder does not need it; asked for, the JS decoder decodes, said once", async () => {
    const own = await openThrice({ SEEKDATA_TEST_HIDE: '@foxglove/wasm-bz2' }, bzPath);
    expect(own.result.code, own.result.stderr).toBe(0);
    expect(own.lines.map((l) => [l.same, l.decoder])).toEqual(Array(3).fill([true, "seekdata's WebAssembly decoder"]));
    expect(own.lines[1].decoders).toEqual({ wasm: expect.any(Number) });
    expect(own.warnings).toEqual([]);
    const { lines, warnings, result } = await openThrice({ SEEKDATA_TEST_HIDE: '@foxglove/wasm-bz2', SEEKDATA_BZIP2_DECODER: 'libbzip2' }, bzPath);
    expect(result.code, result.stderr).toBe(0);
    expect(lines.map((l) => [l.same, l.decoder])).toEqual(Array(3).fill([true, "seekdata's JS decoder"]));
    expect(lines[0].decoders).toEqual({ js: expect.any(Number) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('JS decoder');
  });

  it('SEEKDATA_XZ_DECODER and SEEKDATA_BZIP2_DECODER choose a backend (no warning); an unknown name is said once and ignored', async () => {
    const chosen = await openThrice({ SEEKDATA_XZ_DECODER: 'lzma-native', SEEKDATA_BZIP2_DECODER: 'js' }, xzPath, bzPath);
    expect(chosen.result.code, chosen.result.stderr).toBe(0);
    expect(chosen.warnings).toEqual([]);
    // In workers too: they read the same environment.
    expect(chosen.lines.map((l) => [l.same, Object.keys(l.decoders)])).toEqual([
      ...Array(3).fill([true, ['lzma-native']]),
      ...Array(3).fill([true, ['js']]),
    ]);
    const bogus = await openThrice({ SEEKDATA_XZ_DECODER: 'fastest' }, xzPath);
    expect(bogus.result.code, bogus.result.stderr).toBe(0);
    expect(bogus.lines.every((l) => l.same && l.decoder.startsWith('node-liblzma'))).toBe(true);
    expect(bogus.warnings).toHaveLength(1);
    expect(bogus.warnings[0]).toContain('SEEKDATA_XZ_DECODER="fastest" is not one of node-liblzma, napi-rs, lzma-native');
  });
});
