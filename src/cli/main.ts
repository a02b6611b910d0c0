#!/usr/bin/env node
/** The `seekdata` command: a thin layer over the public API. */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SeekdataError } from '../errors.js';
import { closestName } from '../options.js';
import { closeSharedPool } from '../workers/pool.js';
import { helpText, parseCommand, UsageError, type CommandSpec, type Flags } from './args.js';
import { endProgressLine, invalidOptionMessage, takeFailures, type CliIo } from './context.js';
import { catSpec, infoSpec, readSpec, runCat, runInfo, runRead } from './commands/reader-commands.js';
import { benchSpec, compareSpec, runBench, runCompare } from './commands/bench-commands.js';
import { exportSpec, runExport, runSample, sampleSpec } from './commands/dataset-commands.js';
import { indexSpec, rangeSpec, recordsSpec, runIndex, runRange, runRecords, runStats, statsSpec } from './commands/record-commands.js';
import { recompressSpec, runRecompress } from './commands/recompress.js';

interface Command {
  spec: CommandSpec;
  run: (io: CliIo, flags: Flags, positionals: string[]) => Promise<void>;
}

const COMMANDS: Command[] = [
  { spec: indexSpec, run: runIndex },
  { spec: infoSpec, run: runInfo },
  { spec: catSpec, run: runCat },
  { spec: readSpec, run: runRead },
  { spec: recordsSpec, run: runRecords },
  { spec: rangeSpec, run: runRange },
  { spec: statsSpec, run: runStats },
  { spec: sampleSpec, run: runSample },
  { spec: exportSpec, run: runExport },
  { spec: recompressSpec, run: runRecompress },
  { spec: benchSpec, run: runBench },
  { spec: compareSpec, run: runCompare },
];

function mainHelp(): string {
  const lines = [
    'Usage: seekdata <command> [options]',
    '',
    'Random access, indexes and training batches straight out of compressed (.bz2, .xz) and plain text files.',
    '',
    'Commands:',
  ];
  const width = Math.max(...COMMANDS.map((c) => c.spec.name.length)) + 2;
  for (const c of COMMANDS) lines.push(`  ${c.spec.name.padEnd(width)}${c.spec.summary}`);
  lines.push(
    '',
    'Run `seekdata help <command>` (or `seekdata <command> --help`) for the options and examples of a command,',
    '`seekdata --version` for the version.',
    '',
    'Progress goes to stderr: a bar on a terminal, elsewhere a line every 5 s ($SEEKDATA_PROGRESS_SECONDS; -q: none).',
    '',
    'Exit codes: 0 success, 1 runtime error, 2 usage error.',
  );
  return lines.join('\n') + '\n';
}

/** The command called `name`; otherwise a usage error naming the nearest command. */
function findCommand(name: string): Command {
  const command = COMMANDS.find((c) => c.spec.name === name);
  if (command !== undefined) return command;
  const guess = closestName(name, COMMANDS.map((c) => c.spec.name));
  throw new UsageError(`unknown command ${JSON.stringify(name)}; ${guess === undefined ? 'run `seekdata --help` for the commands' : `did you mean ${guess}?`}`);
}

/** The version in seekdata's package.json (two levels up from src/cli/ and from dist/cli/ alike). */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

/**
 * Runs the CLI; returns the exit code. In-process callers (tests) pass their own streams; the shared
 * worker pool stays open for the next call (close it with `closeSharedPool()`).
 */
export async function runCli(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${version()}\n`);
    return 0;
  }
  if (name === undefined || name === '--help' || name === '-h' || (name === 'help' && rest.length === 0)) {
    io.stdout.write(mainHelp());
    return name === undefined ? 2 : 0;
  }
  let flags: Flags = {};
  try {
    if (name === 'help') {
      if (rest.length > 1) throw new UsageError(`help takes one command, got ${rest.length}: ${rest.join(' ')}`);
      io.stdout.write(helpText(findCommand(rest[0]).spec));
      return 0;
    }
    const command = findCommand(name);
    const parsed = parseCommand(command.spec, rest);
    flags = parsed.flags;
    const positionals = parsed.positionals;
    if (flags.help === true) {
      io.stdout.write(helpText(command.spec));
      return 0;
    }
    takeFailures(io);
    await command.run(io, flags, positionals);
    const failures = takeFailures(io);
    for (const note of failures) io.stderr.write(`seekdata: ${note}\n`);
    return failures.length > 0 ? 1 : 0;
  } catch (error) {
    endProgressLine(io);
    takeFailures(io);
    if (error instanceof UsageError) {
      io.stderr.write(`seekdata: ${error.message}\n`);
      return 2;
    }
    if (error instanceof SeekdataError) {
      io.stderr.write(`seekdata: ${error.code === 'INVALID_OPTION' ? invalidOptionMessage(error, flags) : error.message}\n`);
      return error.code === 'INVALID_OPTION' ? 2 : 1;
    }
    if ((error as NodeJS.ErrnoException).code === 'EPIPE') return 0;
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`seekdata: internal error: ${message}\n`);
    if (process.env.SEEKDATA_DEBUG === '1' && error instanceof Error) io.stderr.write(`${error.stack ?? ''}\n`);
    return 1;
  }
}

/**
 * Runs the CLI as the `seekdata` process: process.argv, exit code in process.exitCode, the shared worker
 * pool closed at the end. The bin script (bin/seekdata.js) calls it.
 */
export async function runMain(argv: string[] = process.argv.slice(2)): Promise<void> {
  // A closed pipe (`seekdata cat big.xz | head`) ends the command through writeOut's EPIPE, which lets
  // running decodes finish and the pool close: exiting at once would cut native liblzma calls short in
  // the worker threads, which aborts the process.
  process.stdout.on('error', () => undefined);
  const internal = (error: unknown): void => {
    process.stderr.write(`seekdata: internal error: ${String(error)}\n`);
    process.exitCode = 1;
  };
  try {
    process.exitCode = await runCli(argv);
  } catch (error) {
    internal(error);
  }
  await closeSharedPool().catch(internal);
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) await runMain();
