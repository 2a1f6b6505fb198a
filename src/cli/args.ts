/**
 * Command-line options: declared once per command, parsed with node:util's parseArgs,
 * numbers validated here so that a bad flag is a one-line usage error naming it.
 */
import { parseArgs } from 'node:util';

export class UsageError extends Error {}

export interface OptionSpec {
  type: 'string' | 'number' | 'integer' | 'boolean';
  default?: string | number | boolean;
  /** Smallest allowed value for numbers. */
  min?: number;
  help: string;
}

export type OptionValues = Record<string, string | number | boolean | undefined>;

export function parseOptions(argv: string[], specs: Record<string, OptionSpec>): OptionValues {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.entries(specs).map(([name, s]) => [name, { type: s.type === 'boolean' ? 'boolean' : 'string' }])),
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
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
    const ok = raw !== '' && Number.isFinite(value) && (spec.type !== 'integer' || Number.isInteger(value)) && (spec.min === undefined || value >= spec.min);
    if (!ok) {
      const kind = spec.type === 'integer' ? 'an integer' : 'a number';
      throw new UsageError(`--${name} must be ${kind}${spec.min !== undefined ? ` ≥ ${spec.min}` : ''}; got ${JSON.stringify(raw)}`);
    }
    out[name] = value;
  }
  return out;
}

export function usage(command: string, summary: string, specs: Record<string, OptionSpec>): string {
  const lines = [`usage: rnnkit ${command} [options]`, '', summary, '', 'options:'];
  for (const [name, s] of Object.entries(specs)) {
    const flag = s.type === 'boolean' ? `--${name}` : `--${name} <${s.type === 'string' ? 'value' : s.type}>`;
    const def = s.default !== undefined && s.type !== 'boolean' ? ` (default ${s.default})` : '';
    lines.push(`  ${flag.padEnd(26)} ${s.help}${def}`);
  }
  return lines.join('\n');
}
