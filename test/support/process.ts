/**
 * Real processes for tests, started asynchronously. A test must not block its event loop for long:
 * vitest's worker talks to the main process over RPC with a 60 s timeout, and a spawnSync of a slow
 * child on a loaded machine ("Timeout calling onTaskUpdate") fails the whole run although every test
 * passed. Not a test file: test files import it.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Runs a command (no shell) from the repository root; resolves with its exit code, signal and output. */
export function runProcess(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: Uint8Array } = {}): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? repoRoot, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }));
    child.stdin.end(options.input);
  });
}

/** Runs a TypeScript file (or `-e` code) with node and tsx, as `node --import tsx ...args`. */
export function runTsx(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ProcessResult> {
  return runProcess(process.execPath, ['--import', 'tsx', ...args], { env });
}
