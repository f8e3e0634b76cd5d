// Argument parsing shared by the commands: our own options are taken out, everything else is kept
// in order (for `run`, it goes to Playwright).
import { UsageError } from './errors.ts';

export interface ParsedArgs {
  positionals: string[];
  /** Options we own, by name, all values in order. */
  options: Map<string, string[]>;
  flags: Set<string>;
  /** Options we don't own, verbatim, with their values. */
  passthrough: string[];
}

export interface ArgSpec {
  /** Our options that take a value: `--rig x` or `--rig=x`. */
  valued: string[];
  /** Our options without a value. */
  flags?: string[];
  /** Options we don't own that take a value (so their value is not taken for a positional). */
  passthroughValued?: string[];
  /** Reject options we don't know (commands that pass nothing on). */
  strict?: boolean;
}

export function parseArgs(argv: string[], spec: ArgSpec): ParsedArgs {
  const parsed: ParsedArgs = { positionals: [], options: new Map(), flags: new Set(), passthrough: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') { parsed.positionals.push(...argv.slice(i + 1)); break; }
    if (!arg.startsWith('-') || arg === '-') { parsed.positionals.push(arg); continue; }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    if (spec.valued.includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      parsed.options.set(name, [...(parsed.options.get(name) ?? []), value]);
    } else if (spec.flags?.includes(name)) {
      parsed.flags.add(name);
    } else if (spec.strict) {
      const known = [...spec.valued, ...(spec.flags ?? [])];
      throw new UsageError(`unknown option ${name}${known.length ? ` (options: ${known.join(', ')})` : ''}`);
    } else {
      parsed.passthrough.push(arg);
      if (inline === undefined && spec.passthroughValued?.includes(name) && i + 1 < argv.length) parsed.passthrough.push(argv[++i]!);
    }
  }
  return parsed;
}

/** `--var NAME=value` pairs. */
export function parseVars(values: string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const pair of values) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--var expects NAME=value, got "${pair}"`);
    const name = pair.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new UsageError(`--var: "${name}" is not a variable name (letters, digits, _)`);
    vars[name] = pair.slice(eq + 1);
  }
  return vars;
}
