/**
 * Argument parsing for the subcommands, on Node's util.parseArgs (strict: an unknown flag, a value
 * given to a switch or a flag missing its value is an error), plus each command's help: usage,
 * every flag with its value, default and meaning, and examples. `-h`/`--help` prints the help and
 * does nothing else.
 */
import { parseArgs as nodeParseArgs } from 'util';
import { InputError } from '../errors';

/** What the commands read: flags by name (a value, or true for a switch) and positional arguments. */
export interface ParsedArgs {
  flags: Map<string, string | true>;
  positional: string[];
}

/** One flag in a command's help. */
export interface FlagHelp {
  /** The value's name in the help (`--onnx=FILE`); absent for switches. */
  value?: string;
  description: string;
  /** Shown as "(default: ...)". */
  default?: string;
}

export interface CommandSpec {
  name: string;
  /** One line: what the command does. */
  summary: string;
  /** The usage line after `vkrt `, e.g. 'exec (--onnx=FILE | --loadEngine=FILE) [flags]'. */
  usage: string;
  /** Flags taking a value. */
  valueFlags: readonly string[];
  /** Switches. */
  switches: readonly string[];
  /** Help for each flag, by name (a flag without an entry is listed as undocumented). */
  help: Readonly<Record<string, FlagHelp>>;
  /** Positional arguments: their help line, and how many (default none). */
  positionals?: { text: string; min: number; max: number };
  examples: readonly string[];
  /** More lines after the flags. */
  notes?: readonly string[];
}

/** Flags every command has. */
const COMMON: Readonly<Record<string, FlagHelp>> = {
  help: { description: 'print this help and exit (-h)' },
  verbose: { description: 'print the stack of an error (and the build log, where there is one)' },
};

/** The flag names of a command, common ones included. */
export function allFlags(spec: CommandSpec): string[] {
  return [...new Set([...spec.valueFlags, ...spec.switches, 'verbose', 'help'])];
}

/** The help text of a command. */
export function helpText(spec: CommandSpec): string {
  const lines = [`usage: vkrt ${spec.usage}`, '', spec.summary];
  if (spec.positionals) lines.push('', spec.positionals.text);
  lines.push('', 'flags:');
  const rows = allFlags(spec).map((name) => {
    const h = spec.help[name] ?? COMMON[name];
    const isValue = spec.valueFlags.includes(name);
    const left = `--${name}${isValue ? `=${h?.value ?? 'VALUE'}` : ''}${name === 'help' ? ', -h' : ''}`;
    const right = `${h?.description ?? '(undocumented)'}${h?.default !== undefined ? ` (default: ${h.default})` : ''}`;
    return [left, right];
  });
  const w = Math.min(34, Math.max(...rows.map((r) => r[0].length)));
  for (const [l, r] of rows) lines.push(l.length > w ? `  ${l}\n  ${' '.repeat(w)}  ${r}` : `  ${l.padEnd(w)}  ${r}`);
  if (spec.notes?.length) lines.push('', ...spec.notes);
  if (spec.examples.length) lines.push('', 'examples:', ...spec.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}

/** The closest known flag to a mistyped one (same letters ignoring case, or one edit away). */
function suggest(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const exact = known.find((k) => k.toLowerCase() === lower);
  if (exact) return exact;
  const dist = (a: string, b: string): number => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++) {
      for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    return d[a.length][b.length];
  };
  return known.find((k) => dist(lower, k.toLowerCase()) <= 2);
}

/**
 * Parses a command's arguments. Returns undefined after printing the help for -h/--help (the caller
 * returns 0 and does nothing else).
 * @throws InputError naming the command and the flag, for unknown flags, a switch given a value,
 *   a missing value, or positional arguments the command does not take.
 */
export function parseCommand(spec: CommandSpec, argv: readonly string[]): ParsedArgs | undefined {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const name of spec.valueFlags) options[name] = { type: 'string' };
  for (const name of spec.switches) options[name] = { type: 'boolean' };
  options.verbose ??= { type: 'boolean' };
  options.help = { type: 'boolean', short: 'h' };
  const see = `see \`vkrt ${spec.name} --help\``;
  const end = argv.indexOf('--');
  if ((end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h')) {
    console.log(helpText(spec)); // help wins over whatever else the line holds
    return undefined;
  }
  let parsed: ReturnType<typeof nodeParseArgs>;
  try {
    parsed = nodeParseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (e) {
    const err = e as Error & { code?: string };
    const flag = /'(-{1,2}[^' ]+)/.exec(err.message)?.[1] ?? '';
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const near = suggest(flag.replace(/^-+/, ''), allFlags(spec));
      throw new InputError(`${spec.name}: unknown flag ${flag}${near ? ` (did you mean --${near}?)` : ''}; ${see}`);
    }
    if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const name = flag.replace(/^-+/, '');
      if (spec.switches.includes(name) || name === 'help' || name === 'verbose') throw new InputError(`${spec.name}: ${flag} is a switch and takes no value; ${see}`);
      throw new InputError(`${spec.name}: ${flag} needs a value (${flag}=${spec.help[name]?.value ?? 'VALUE'}); ${see}`);
    }
    throw new InputError(`${spec.name}: ${err.message}; ${see}`);
  }
  if (parsed.values.help) {
    console.log(helpText(spec));
    return undefined;
  }
  const flags = new Map<string, string | true>();
  for (const [k, v] of Object.entries(parsed.values)) {
    if (k === 'help' || v === undefined || v === false) continue;
    flags.set(k, typeof v === 'string' ? v : true);
  }
  const positional = parsed.positionals;
  const pos = spec.positionals ?? { text: '', min: 0, max: 0 };
  if (positional.length > pos.max) {
    throw new InputError(`${spec.name}: unexpected argument '${positional[pos.max]}'${spec.valueFlags.length ? ' (flags are --name=value)' : ''}; ${see}`);
  }
  if (positional.length < pos.min) throw new InputError(`usage: vkrt ${spec.usage}; ${see}`);
  return { flags, positional };
}

/**
 * Lenient parsing for internal tools (bench/): `--name=value`, `--name value` for the given value
 * flags, `--switch`; unknown flags are kept, not refused. Commands use {@link parseCommand}.
 */
export function parseArgs(argv: readonly string[], valueFlags: readonly string[] = []): ParsedArgs {
  const options = Object.fromEntries(valueFlags.map((f) => [f, { type: 'string' as const }]));
  const { values, positionals } = nodeParseArgs({ args: [...argv], options, strict: false, allowPositionals: true });
  const flags = new Map<string, string | true>();
  for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== false) flags.set(k, typeof v === 'string' ? v : true);
  return { flags, positional: positionals };
}

export function flagString(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}
