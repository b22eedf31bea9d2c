/**
 * The CLI's flag table: each command declares its flags as data (name, value
 * parser, default, help line) and gets back a typed object, so a command is
 * a map from parsed flags to library options. Parsing goes through
 * `node:util` parseArgs; every problem is a `UsageError` (exit 2).
 */
import { parseArgs } from 'node:util';

/** A bad command line: unknown flag, missing or malformed value. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

interface FlagBase {
  help: string;
  short?: string;
}
export interface ValueFlag<T> extends FlagBase {
  kind: 'value';
  /** Placeholder in help, e.g. "PATH". */
  meta: string;
  parse: (raw: string, flag: string) => T;
  default?: T;
  /** How the default is shown in help, when it is not just the value. */
  defaultText?: string;
  required?: boolean;
}
export interface SwitchFlag extends FlagBase {
  kind: 'switch';
}
export type Flag = ValueFlag<unknown> | SwitchFlag;
export type FlagTable = Record<string, Flag>;

type ValueOf<F> =
  F extends ValueFlag<infer T>
    ? F extends { default: T } | { required: true }
      ? T
      : T | undefined
    : boolean;
/** The typed result of parsing a table: switches are booleans, values their parsed type. */
export type Parsed<F extends FlagTable> = { -readonly [K in keyof F]: ValueOf<F[K]> };

export function value<T>(
  meta: string,
  parse: (raw: string, flag: string) => T,
  help: string,
  extra: { default: T; defaultText?: string; short?: string },
): ValueFlag<T> & { default: T };
export function value<T>(
  meta: string,
  parse: (raw: string, flag: string) => T,
  help: string,
  extra: { required: true; short?: string },
): ValueFlag<T> & { required: true };
export function value<T>(
  meta: string,
  parse: (raw: string, flag: string) => T,
  help: string,
  extra?: { short?: string; defaultText?: string },
): ValueFlag<T>;
export function value<T>(
  meta: string,
  parse: (raw: string, flag: string) => T,
  help: string,
  extra: Partial<ValueFlag<T>> = {},
): ValueFlag<T> {
  return { kind: 'value', meta, parse, help, ...extra };
}

export function toggle(help: string, short?: string): SwitchFlag {
  return { kind: 'switch', help, short };
}

// ---- value parsers ---------------------------------------------------------

export const text = (raw: string): string => raw;

export function number(raw: string, flag: string): number {
  const v = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(v))
    throw new UsageError(`--${flag} must be a number; received ${JSON.stringify(raw)}`);
  return v;
}

export function positiveInt(raw: string, flag: string): number {
  const v = number(raw, flag);
  if (!Number.isInteger(v) || v <= 0) {
    throw new UsageError(`--${flag} must be a positive integer; received ${JSON.stringify(raw)}`);
  }
  return v;
}

export function nonNegativeInt(raw: string, flag: string): number {
  const v = number(raw, flag);
  if (!Number.isInteger(v) || v < 0) {
    throw new UsageError(
      `--${flag} must be a non-negative integer; received ${JSON.stringify(raw)}`,
    );
  }
  return v;
}

/** A seed: an integer from 0 to 2³² − 1 (written out; 1e3 is refused as well as 1e30). */
export function seedValue(raw: string, flag: string): number {
  const t = raw.trim();
  const v = /^\d+$/.test(t) ? Number(t) : Number.NaN;
  if (!(v <= 4294967295)) {
    throw new UsageError(
      `--${flag} must be an integer from 0 to 4294967295 (2³² − 1); received ${JSON.stringify(raw)}`,
    );
  }
  return v;
}

export function numberList(raw: string, flag: string): number[] {
  const parts = raw.split(',').map((s) => s.trim());
  if (parts.some((p) => p === '')) {
    throw new UsageError(
      `--${flag} must be a comma-separated list of numbers, e.g. 0.1,0.2; received ${JSON.stringify(raw)}`,
    );
  }
  return parts.map((p) => {
    const v = Number(p);
    if (!Number.isFinite(v)) {
      throw new UsageError(
        `--${flag} must be a comma-separated list of numbers, e.g. 0.1,0.2; received ${JSON.stringify(raw)}`,
      );
    }
    return v;
  });
}

/** ε values: finite, ≥ 0. */
export function epsilonList(raw: string, flag: string): number[] {
  const list = numberList(raw, flag);
  const bad = list.find((e) => e < 0);
  if (bad !== undefined) throw new UsageError(`--${flag} values must be ≥ 0; received ${bad}`);
  return list;
}

export function nameList(raw: string, flag: string): string[] {
  const list = raw.split(',').map((s) => s.trim().toLowerCase());
  if (list.some((s) => s === '')) {
    throw new UsageError(
      `--${flag} must be a comma-separated list of names; received ${JSON.stringify(raw)}`,
    );
  }
  return list;
}

export function oneOf<const T extends string>(choices: readonly T[]) {
  return (raw: string, flag: string): T => {
    const v = raw.trim().toLowerCase();
    if (!(choices as readonly string[]).includes(v)) {
      throw new UsageError(
        `--${flag} must be one of ${choices.join(', ')}; received ${JSON.stringify(raw)}`,
      );
    }
    return v as T;
  };
}

export function pair(raw: string, flag: string): [number, number] {
  const list = numberList(raw, flag);
  if (list.length !== 2 || !(list[0] < list[1])) {
    throw new UsageError(
      `--${flag} must be two numbers lo,hi with lo < hi, e.g. 0,255; received ${JSON.stringify(raw)}`,
    );
  }
  return [list[0], list[1]];
}

// ---- parsing and help ------------------------------------------------------

/**
 * Parse `argv` against `table`. Arguments that are not flags are refused,
 * unless `positionals` is given: then they are appended to it.
 */
export function parseFlags<F extends FlagTable>(
  table: F,
  argv: readonly string[],
  positionals?: string[],
): Parsed<F> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, f] of Object.entries(table)) {
    options[name] = {
      type: f.kind === 'switch' ? 'boolean' : 'string',
      ...(f.short ? { short: f.short } : {}),
    };
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    const parsed = parseArgs({
      args: [...argv],
      options,
      allowPositionals: positionals !== undefined,
      strict: true,
    });
    values = parsed.values;
    positionals?.push(...parsed.positionals);
  } catch (e) {
    throw new UsageError(cleanParseArgsMessage((e as Error).message));
  }
  const out: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(table)) {
    const raw = values[name];
    if (f.kind === 'switch') {
      out[name] = raw === true;
      continue;
    }
    if (raw === undefined) {
      if (f.required) throw new UsageError(`--${name} is required (${f.help})`);
      out[name] = f.default;
      continue;
    }
    out[name] = f.parse(String(raw), name);
  }
  return out as Parsed<F>;
}

function cleanParseArgsMessage(msg: string): string {
  // parseArgs messages are multi-line and mention `allowPositionals`; keep the
  // first sentence, which names the flag or argument.
  const ambiguous = /^Option '(-[^']+)' argument is ambiguous/.exec(msg);
  if (ambiguous) {
    const flag = ambiguous[1].split(',').pop()?.trim() ?? ambiguous[1];
    return `${flag} needs a value; write a value that starts with '-' as ${flag}=-…`;
  }
  const first = msg.split('\n')[0].replace(/\. To specify a positional argument.*$/, '');
  return first.replace(/^Unknown option '(.+?)'.*/, "unknown flag '$1'");
}

function flagUsage(name: string, f: Flag): string {
  const short = f.short ? `-${f.short}, ` : '    ';
  return `${short}--${name}${f.kind === 'value' ? ` ${f.meta}` : ''}`;
}

function flagDefault(f: Flag): string {
  if (f.kind !== 'value') return '';
  if (f.required) return ' (required)';
  if (f.defaultText) return ` (default: ${f.defaultText})`;
  if (f.default === undefined) return '';
  const d = Array.isArray(f.default) ? f.default.join(',') : String(f.default);
  return ` (default: ${d})`;
}

export function renderFlags(table: FlagTable): string {
  const rows = Object.entries(table).map(([n, f]) => [flagUsage(n, f), f.help + flagDefault(f)]);
  const width = Math.min(34, Math.max(...rows.map((r) => r[0].length)) + 2);
  return rows
    .map(([u, h]) =>
      u.length + 2 > width ? `  ${u}\n  ${' '.repeat(width)}${h}` : `  ${u.padEnd(width)}${h}`,
    )
    .join('\n');
}
