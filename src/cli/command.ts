/**
 * What a CLI command is: a name, its help text, its flag table, and a `run`
 * that maps the parsed flags to library options, makes the library call and
 * prints. `run` returns the exit code; only the CLI prints or exits.
 */
import type { FlagTable, Parsed } from './flags.js';
import { renderFlags } from './flags.js';

export interface Command<F extends FlagTable = FlagTable> {
  name: string;
  /** One line for `advkit --help`. */
  summary: string;
  /** Usage line after "advkit <name>". */
  usage: string;
  /** A paragraph or two for `advkit <name> --help`. */
  description: string;
  examples: string[];
  flags: F;
  /** Arguments that are not flags, e.g. "PART...": absent for commands that take none. */
  positionals?: string;
  /** `args`: the positional arguments, when the command takes them. */
  run(flags: Parsed<F>, args: string[]): Promise<number>;
}

/** Keeps a command's flag types attached to its `run`. */
export function defineCommand<F extends FlagTable>(c: Command<F>): Command<F> {
  return c;
}

export function commandHelp(c: Command): string {
  return [
    `usage: advkit ${c.name} ${c.usage}`,
    '',
    c.description,
    '',
    'flags:',
    renderFlags(c.flags),
    '',
    'examples:',
    ...c.examples.map((e) => `  ${e}`),
    '',
  ].join('\n');
}

/** Lines to stdout. */
export function print(...lines: string[]): void {
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Status lines to stderr (not part of machine-readable output). */
export function note(quiet: boolean, ...lines: string[]): void {
  if (!quiet) process.stderr.write(`${lines.join('\n')}\n`);
}

/** A plain text table with right-aligned numeric columns. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const fmt = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

export function pct(v: number, digits = 1): string {
  return Number.isFinite(v) ? `${(100 * v).toFixed(digits)} %` : 'n/a';
}

/** A folder-name-safe UTC timestamp, e.g. 2026-01-31T12-00-00Z. */
export function timestamp(): string {
  return new Date()
    .toISOString()
    .replace(/[:.]/g, '-')
    .replace(/-\d{3}Z$/, 'Z');
}
