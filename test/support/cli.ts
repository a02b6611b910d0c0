/**
 * Running the seekdata command from tests. `cli()` calls `runCli` in this process with captured
 * streams: no process start (a tsx start costs seconds on a loaded machine), and the test file's event
 * loop keeps turning, which vitest's worker RPC needs (a blocking spawnSync longer than its 60 s RPC
 * timeout fails the whole run with "Timeout calling onTaskUpdate"). `cliProcess()` and `runProcess()`
 * start real processes, asynchronously, for what only a process shows: exit codes, pipes, no TTY.
 * Not a test file: test files import it.
 */
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/cli/main.js';

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

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** The command line that starts the CLI from the sources: node --import tsx src/cli/main.ts. */
export const cliCommand: [string, ...string[]] = [process.execPath, '--import', 'tsx', main];

/** Runs a command as a real process, without blocking this one; resolves with its exit code and output. */
export function runProcess(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: Uint8Array } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? repoRoot, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }));
    child.stdin.end(options.input);
  });
}

/** Runs `seekdata ...args` as a real process (stdout and stderr are pipes, not terminals). */
export function cliProcess(...args: string[]): Promise<CliResult> {
  const [node, ...rest] = cliCommand;
  return runProcess(node, [...rest, ...args], { env: { ...process.env, CI: 'true' } });
}
