/**
 * Running the seekdata command from tests. `cli()` calls `runCli` in this process with captured
 * streams: no process start (a tsx start costs seconds on a loaded machine), and the test file's event
 * loop keeps turning, which vitest's worker RPC needs (a blocking spawnSync longer than its 60 s RPC
 * timeout fails the whole run with "Timeout calling onTaskUpdate"). `cliProcess()` starts a real
 * process, asynchronously, for what only a process shows: exit codes, pipes, no TTY.
 * Not a test file: test files import it.
 */
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/cli/main.js';
import { runTsx, type ProcessResult } from './process.js';

export interface CliResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** A stream that keeps what is written to it. */
export class Capture extends Writable {
  readonly chunks: Buffer[] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.chunks.push(chunk);
    done();
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Runs `seekdata ...args` in this process. */
export async function cli(...args: string[]): Promise<CliResult> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runCli(args, { stdout, stderr });
  return { code, stdout: stdout.bytes(), stderr: stderr.bytes().toString() };
}

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** The command line that starts the CLI from the sources: node --import tsx src/cli/main.ts. */
export const cliCommand: [string, ...string[]] = [process.execPath, '--import', 'tsx', main];

/** Runs `seekdata ...args` as a real process (stdout and stderr are pipes, not terminals). */
export function cliProcess(...args: string[]): Promise<ProcessResult> {
  return runTsx([main, ...args], { ...process.env, CI: 'true' });
}
