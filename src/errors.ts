/**
 * Every error advkit throws on bad input is an `AdvkitError` with a stable
 * `code`, so callers (and the CLI) can branch on the kind of problem without
 * parsing messages. Messages name the argument, what was received and what was
 * expected.
 */
export const ERROR_CODES = [
  'INVALID_SHAPE',
  'INVALID_LABELS',
  'OUT_OF_BOUNDS',
  'NOT_FINITE',
  'INVALID_OPTION',
  'UNKNOWN_NORM',
  'CLASS_COUNT_MISMATCH',
  'MODEL_LOAD',
  'DATA_LOAD',
  'BACKEND',
  'RESUME_MISMATCH',
  'PART_MISMATCH',
  'WORKER',
  'NOT_DIFFERENTIABLE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class AdvkitError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AdvkitError';
    this.code = code;
  }
}

/** Bad argument value: shapes, labels, ranges, option values. */
export class InputError extends AdvkitError {
  constructor(code: ErrorCode, message: string) {
    super(code, message);
    this.name = 'InputError';
  }
}

/** A model or data file that cannot be read or does not fit. */
export class LoadError extends AdvkitError {
  constructor(code: 'MODEL_LOAD' | 'DATA_LOAD', message: string, cause?: unknown) {
    super(code, message, { cause });
    this.name = 'LoadError';
  }
}

/**
 * A worker thread failed for a reason other than bad input (an exception
 * that is not an AdvkitError, or the thread died); the message names the
 * worker and the batch. Bad input found inside a worker keeps its own class
 * and code.
 */
export class WorkerError extends AdvkitError {
  constructor(message: string, cause?: unknown) {
    super('WORKER', message, { cause });
    this.name = 'WorkerError';
  }
}

export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v))
    return `[${v.slice(0, 6).map(describeValue).join(', ')}${v.length > 6 ? ', …' : ''}]`;
  return String(v);
}
