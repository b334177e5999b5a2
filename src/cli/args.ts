// The CLI's argument parser: options declared as a table per command, parsed without a
// dependency. Invariant: for any argv it returns a result or throws UsageError, nothing else
// (a property test feeds it random argv), so a typo always ends in exit code 2 with help.

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type OptionKind = 'string' | 'boolean' | 'integer' | 'list';

export interface OptionSpec {
  /** Long name without dashes, e.g. 'key'. */
  name: string;
  /** One-letter short form without the dash, e.g. 'i'. */
  short?: string;
  kind: OptionKind;
  /** Placeholder in help, e.g. 'FILE'. */
  value?: string;
  help: string;
}

export interface ParsedArgs {
  /** Values by long name: string, true, number, or string[] for 'list' (comma-separated or repeated). */
  options: Record<string, string | boolean | number | string[]>;
  positionals: string[];
}

const LONG = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/s;

function findSpec(specs: readonly OptionSpec[], name: string, short: boolean): OptionSpec | undefined {
  return specs.find((s) => (short ? s.short === name : s.name === name));
}

function printable(text: string): string {
  // Echo what the user typed, but never control characters into their terminal.
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

function store(out: ParsedArgs['options'], spec: OptionSpec, raw: string | undefined, shown: string): void {
  if (spec.kind === 'boolean') {
    if (raw !== undefined) throw new UsageError(`option ${shown} takes no value`);
    out[spec.name] = true;
    return;
  }
  if (raw === undefined) throw new UsageError(`option ${shown} needs a value`);
  if (spec.kind === 'integer') {
    if (!/^-?[0-9]{1,15}$/.test(raw)) throw new UsageError(`option ${shown} needs a whole number, not ${printable(raw)}`);
    out[spec.name] = Number(raw);
  } else if (spec.kind === 'list') {
    const prev = out[spec.name];
    const items = raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    out[spec.name] = [...(Array.isArray(prev) ? prev : []), ...items];
  } else {
    if (out[spec.name] !== undefined) throw new UsageError(`option ${shown} given twice`);
    out[spec.name] = raw;
  }
}

/**
 * Parses `--name value`, `--name=value`, `-x value`, `-x` (boolean), `--` (end of options).
 * A lone `-` is a positional (stdin/stdout). Unknown options are usage errors.
 */
export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[]): ParsedArgs {
  const parsed: ParsedArgs = { options: {}, positionals: [] };
  let i = 0;
  const next = (): string | undefined => (i + 1 < argv.length ? argv[++i] : undefined);
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (typeof a !== 'string') throw new UsageError('arguments must be strings');
    if (a === '--') {
      parsed.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const m = LONG.exec(a);
      const spec = m ? findSpec(specs, m[1]!, false) : undefined;
      if (!m || !spec) throw new UsageError(`unknown option ${printable(a.split('=')[0]!)}`);
      const shown = `--${spec.name}`;
      const raw = m[2] ?? (spec.kind === 'boolean' ? undefined : next());
      store(parsed.options, spec, raw, shown);
    } else if (a.startsWith('-') && a !== '-') {
      const spec = a.length === 2 ? findSpec(specs, a[1]!, true) : undefined;
      if (!spec) throw new UsageError(`unknown option ${printable(a)}`);
      store(parsed.options, spec, spec.kind === 'boolean' ? undefined : next(), `-${spec.short}`);
    } else {
      parsed.positionals.push(a);
    }
  }
  return parsed;
}

export function optString(p: ParsedArgs, name: string): string | undefined {
  const v = p.options[name];
  return typeof v === 'string' ? v : undefined;
}

export function optBool(p: ParsedArgs, name: string): boolean {
  return p.options[name] === true;
}

export function optInt(p: ParsedArgs, name: string): number | undefined {
  const v = p.options[name];
  return typeof v === 'number' ? v : undefined;
}

export function optList(p: ParsedArgs, name: string): string[] | undefined {
  const v = p.options[name];
  return Array.isArray(v) ? v : undefined;
}

export function requireString(p: ParsedArgs, name: string): string {
  const v = optString(p, name);
  if (v === undefined || v === '') throw new UsageError(`missing required option --${name}`);
  return v;
}

/** Help lines for a list of options, aligned. */
export function optionHelp(specs: readonly OptionSpec[]): string {
  const left = specs.map((s) => `${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.kind === 'boolean' ? '' : ` ${s.value ?? 'VALUE'}`}`);
  const width = Math.max(0, ...left.map((l) => l.length)) + 2;
  return specs.map((s, k) => `  ${left[k]!.padEnd(width)}${s.help}`).join('\n');
}
