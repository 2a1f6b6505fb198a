/**
 * Command-line options: declared once per command, parsed with node:util's parseArgs,
 * numbers validated here so that a bad flag is a one-line usage error naming it.
 */
import { parseArgs } from 'node:util';
import { nearestKey } from '../validate.js';

export class UsageError extends Error {}

export interface OptionSpec {
  type: 'string' | 'number' | 'integer' | 'boolean';
  default?: string | number | boolean;
  /** Smallest and largest allowed values for numbers. */
  min?: number;
  max?: number;
  /** min itself is not allowed (e.g. top-p: 0 < p ≤ 1). */
  openMin?: boolean;
  help: string;
}

export type OptionValues = Record<string, string | number | boolean | undefined>;


/** Options parsed by {@link parseOptions}, and the positional arguments (at most `positionals`). */
export function parseOptions(argv: string[], specs: Record<string, OptionSpec>, positionals = 0): OptionValues & { positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({
      args: withNegativeValues(argv, specs),
      options: Object.fromEntries(Object.entries(specs).map(([name, s]) => [name, { type: s.type === 'boolean' ? 'boolean' : 'string' }])),
      strict: true,
      allowPositionals: positionals > 0,
    });
  } catch (e) {
    // parseArgs's own text ("Unknown option '--bogus'. To specify a positional argument…")
    // is about positionals; say which option it resembles instead.
    const unknown = /^Unknown option '(-{1,2})([^']*)'/.exec((e as Error).message);
    if (unknown) {
      const near = nearestKey(unknown[2], Object.keys(specs));
      throw new UsageError(`unknown option ${unknown[1]}${unknown[2]}${near ? ` (did you mean --${near}?)` : ''}; --help lists them`);
    }
    throw new UsageError((e as Error).message);
  }
  if (parsed.positionals.length > positionals) {
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[positionals])}`);
  }
  const out: OptionValues = {};
  for (const [name, spec] of Object.entries(specs)) {
    const raw = (parsed.values as Record<string, string | boolean | undefined>)[name];
    if (raw === undefined) {
      out[name] = spec.default;
      continue;
    }
    if (spec.type === 'string' || spec.type === 'boolean') {
      out[name] = raw;
      continue;
    }
    const value = Number(raw);
    // Decimal only: Number() also reads "0x10", "0b11" and, for integers, "1e1".
    const ok = (spec.type === 'integer' ? /^[+-]?\d+$/ : /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i).test(String(raw)) && Number.isFinite(value) && (spec.type !== 'integer' || Number.isInteger(value)) &&
      (spec.min === undefined || (spec.openMin ? value > spec.min : value >= spec.min)) && (spec.max === undefined || value <= spec.max);
    if (!ok) {
      const kind = spec.type === 'integer' ? 'an integer' : 'a number';
      const range = rangeOf(spec);
      throw new UsageError(`--${name} must be ${kind}${range ? `${/^[≥>]/.test(range) ? ' ' : ' in '}${range}` : ''}; got ${JSON.stringify(raw)}`);
    }
    out[name] = value;
  }
  return Object.assign(out, { positionals: parsed.positionals });
}

/**
 * `--lr -1` as `--lr=-1`: parseArgs takes a value that starts with a dash for an option and
 * calls it ambiguous, but a negative number after an option that takes a value is its value
 * (the range check then names the option).
 */
function withNegativeValues(argv: string[], specs: Record<string, OptionSpec>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : undefined;
    const next = argv[i + 1];
    if (name !== undefined && specs[name] !== undefined && specs[name].type !== 'boolean' && next !== undefined && /^-(\d|\.\d|Infinity)/.test(next)) {
      out.push(`${argv[i]}=${next}`);
      i++;
    } else {
      out.push(argv[i]);
    }
  }
  return out;
}

/** The allowed values of a number option, as help and errors write them: `0.01..10080`, `≥ 1`, `(0, 1]`, `> 0`, or ''. */
function rangeOf(s: OptionSpec): string {
  if (s.openMin && s.min !== undefined) return s.max !== undefined ? `(${s.min}, ${s.max}]` : `> ${s.min}`;
  return s.max !== undefined ? `${s.min ?? '-∞'}..${s.max}` : s.min !== undefined ? `≥ ${s.min}` : '';
}

/**
 * The help of a command: every option with its default and, for numbers, its allowed range
 * in the notation of the usage errors (`0.01..10080`, `≥ 1`). A help text that already ends
 * in its own `(default …)` gets the range inside those parentheses.
 */
export function usage(command: string, summary: string, specs: Record<string, OptionSpec>): string {
  const lines = [`usage: rnnkit ${command} [options]`, '', summary, '', 'options:'];
  for (const [name, s] of Object.entries(specs)) {
    const flag = s.type === 'boolean' ? `--${name}` : `--${name} <${s.type === 'string' ? 'value' : s.type}>`;
    const range = s.type === 'number' || s.type === 'integer' ? rangeOf(s) : '';
    let help = s.help;
    const notes: string[] = [];
    if (s.default !== undefined && s.type !== 'boolean') notes.push(`default ${s.default}`);
    if (range && notes.length === 0 && /\(default[^()]*\)$/.test(help)) help = `${help.slice(0, -1)}; ${range})`;
    else if (range) notes.push(range);
    lines.push(`  ${flag.padEnd(26)} ${help}${notes.length ? ` (${notes.join('; ')})` : ''}`);
  }
  return lines.join('\n');
}
