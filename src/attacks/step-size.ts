import { InputError } from '../errors.js';

/** Step size given absolutely (pixel units) or relative to ε. */
export interface StepSizeOptions {
  /** Absolute step size in pixel units; overrides `relStepSize`. */
  stepSize?: number;
  /** Step size as a multiple of ε. */
  relStepSize?: number;
}

export function resolveStepSize(opts: StepSizeOptions, eps: number, defaultRel: number): number {
  if (opts.stepSize !== undefined) return opts.stepSize;
  return (opts.relStepSize ?? defaultRel) * eps;
}

export function checkPositive(value: number | undefined, name: string, integer = false): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new InputError(
      'INVALID_OPTION',
      `${name} must be a positive ${integer ? 'integer' : 'number'}; received ${value}`,
    );
  }
}
