/**
 * Command-line argument helpers over node's util.parseArgs: a usage error type, unknown flags answered
 * with the nearest known one, and typed option readers (integers, strings, one of a list of choices).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closestName } from '../options.js';

/** A mistake in how the command was called: exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type Flags = Record<string, string | boolean | undefined>;

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Help lines for each option, in order. */
  optionHelp: Array<[string, string]>;
  examples: string[];
  minPositionals: number;
  maxPositionals: number;
}

export const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  quiet: { type: 'boolean', short: 'q' },
  json: { type: 'boolean' },
  index: { type: 'string' },
  'no-index': { type: 'boolean' },
  parallelism: { type: 'string', short: 'p' },
  'cache-mb': { type: 'string' },
  'allow-damage': { type: 'boolean' },
  'gzip-spacing-mb': { type: 'string' },
  'max-decoded-mb': { type: 'string' },
} as const;

/** The common options of a command that prints no report (`cat`, `read`): `--json` would change nothing. */
export const COMMON_OPTIONS_NO_JSON = (({ json: _json, ...rest }) => rest)(COMMON_OPTIONS);

export const COMMON_HELP: Array<[string, string]> = [
  ['--index PATH', 'index file to use, or a directory to keep it in (default: FILE.sdx beside the data, else the cache directory); an index of another file there is never overwritten'],
  ['--no-index', 'neither read nor write an index file'],
  ['-p, --parallelism N', 'chunks decoded at once (default: number of cores; 1 = no worker threads)'],
  ['--cache-mb N', 'decoded-chunk cache budget in MiB (default 256)'],
  ['--allow-damage', 'read a damaged bzip2, gzip or zstd file up to the damage (partial output, exit code 1)'],
  ['--gzip-spacing-mb N', 'gzip: decoded MiB between the checkpoints of the index pass, e.g. 0.25 (default 1; a random read decodes one span)'],
  ['--max-decoded-mb N', 'refuse files that decode to more than N MiB (decompression bombs), e.g. 0.5; LIMIT_EXCEEDED (default: no limit)'],
  ['-q, --quiet', 'no progress or warnings (progress: a bar on a terminal, else a line every 5 s, $SEEKDATA_PROGRESS_SECONDS)'],
  ['-h, --help', 'show this help'],
];

/**
 * node's parseArgs takes `--offset -1` for a missing value followed by an unknown option ("argument is
 * ambiguous"). A negative number after an option that takes a value is that option's value: rewrite it
 * as `--offset=-1`, so the command validates it and says what it must be.
 */
function joinNegativeValues(spec: CommandSpec, argv: string[]): string[] {
  const takesValue = (token: string): string | undefined => {
    const long = /^--([^=]+)$/.exec(token)?.[1];
    if (long !== undefined) return spec.options[long]?.type === 'string' ? long : undefined;
    const short = /^-([^-])$/.exec(token)?.[1];
    if (short === undefined) return undefined;
    return Object.entries(spec.options).find(([, o]) => o.short === short && o.type === 'string')?.[0];
  };
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const name = takesValue(token);
    const next = argv[i + 1];
    if (name !== undefined && next !== undefined && /^-\.?\d/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else {
      out.push(token);
    }
  }
  return out;
}

/**
 * The first flag of `args` that the command does not know, as a usage error naming the nearest known
 * flag (`--batchsize` → `--batch-size`), or undefined. parseArgs' own message for it says only
 * "Unknown option".
 */
function unknownFlag(spec: CommandSpec, args: string[]): UsageError | undefined {
  const { tokens } = parseArgs({ args, options: spec.options, allowPositionals: true, strict: false, tokens: true });
  for (const token of tokens) {
    if (token.kind !== 'option' || Object.hasOwn(spec.options, token.name)) continue;
    if (token.rawName.startsWith('--')) {
      const names = Object.keys(spec.options);
      // An abbreviation (`--lim`) names the one flag it begins, else the nearest by spelling.
      const begun = names.filter((n) => n.startsWith(token.name));
      const guess = begun.length === 1 ? begun[0] : closestName(token.name, names);
      const hint = guess === undefined ? `run \`seekdata ${spec.name} --help\` for its options` : `did you mean --${guess}?`;
      return new UsageError(`${spec.name}: unknown option ${token.rawName}; ${hint}`);
    }
    return new UsageError(`${spec.name}: unknown option ${token.rawName}; run \`seekdata ${spec.name} --help\` for its options`);
  }
  return undefined;
}

export function parseCommand(spec: CommandSpec, argv: string[]): { flags: Flags; positionals: string[] } {
  const args = joinNegativeValues(spec, argv);
  const unknown = unknownFlag(spec, args);
  if (unknown !== undefined) throw unknown;
  let parsed;
  try {
    parsed = parseArgs({ args, options: spec.options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message.split('\n')[0] : String(error));
  }
  const flags = parsed.values as Flags;
  if (flags.help === true) return { flags, positionals: parsed.positionals };
  if (parsed.positionals.length < spec.minPositionals) throw new UsageError(`${spec.name}: missing argument (usage: ${spec.usage})`);
  if (parsed.positionals.length > spec.maxPositionals) {
    throw new UsageError(`${spec.name}: unexpected argument ${JSON.stringify(parsed.positionals[spec.maxPositionals])} (usage: ${spec.usage})`);
  }
  return { flags, positionals: parsed.positionals };
}

export function intFlag(flags: Flags, name: string, options: { min?: number; max?: number } = {}): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^-?\d+$/.test(raw.trim())) throw new UsageError(`--${name} must be an integer, got ${JSON.stringify(raw)}`);
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new UsageError(`--${name} is out of range: ${raw}`);
  if (options.min !== undefined && value < options.min) throw new UsageError(`--${name} must be at least ${options.min}, got ${value}`);
  if (options.max !== undefined && value > options.max) throw new UsageError(`--${name} must be at most ${options.max}, got ${value}`);
  return value;
}

export function stringFlag(flags: Flags, name: string): string | undefined {
  const raw = flags[name];
  return typeof raw === 'string' ? raw : undefined;
}

/** Choices in a sentence: `a, b or c`. */
export function listChoices(choices: readonly string[]): string {
  return choices.length < 2 ? choices.join('') : `${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1]}`;
}

/**
 * The value of a flag that takes one of a list of choices, or undefined when it is not given. Another
 * value is a usage error that lists the choices and names the nearest (`--shuffle exakt`: did you mean exact?).
 */
export function choiceFlag<T extends string>(flags: Flags, name: string, choices: readonly T[]): T | undefined {
  const raw = stringFlag(flags, name);
  if (raw === undefined) return undefined;
  if ((choices as readonly string[]).includes(raw)) return raw as T;
  const guess = closestName(raw, choices);
  throw new UsageError(`--${name} must be ${listChoices(choices)}, got ${JSON.stringify(raw)}${guess === undefined ? '' : `; did you mean ${guess}?`}`);
}

export function helpText(spec: CommandSpec): string {
  const width = Math.max(...spec.optionHelp.map(([f]) => f.length)) + 2;
  const lines = [`Usage: ${spec.usage}`, '', spec.summary, '', 'Options:'];
  for (const [flag, text] of spec.optionHelp) lines.push(`  ${flag.padEnd(width)}${text}`);
  if (spec.examples.length > 0) {
    lines.push('', 'Examples:');
    for (const e of spec.examples) lines.push(`  ${e}`);
  }
  return lines.join('\n') + '\n';
}
