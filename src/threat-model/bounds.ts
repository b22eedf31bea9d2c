import * as tf from '@tensorflow/tfjs';
import { InputError } from '../errors.js';

/** Input bounds `[lo, hi]` in pixel space, e.g. [0, 1] or [0, 255]. */
export type Bounds = readonly [number, number];

export const DEFAULT_BOUNDS: Bounds = [0, 1];

export function checkBounds(bounds: readonly number[], name = 'bounds'): Bounds {
  if (bounds.length !== 2 || !bounds.every(Number.isFinite) || !(bounds[0] < bounds[1])) {
    throw new InputError(
      'INVALID_OPTION',
      `${name} must be two finite numbers lo < hi, e.g. [0, 1] or [0, 255]; received [${bounds.join(', ')}]`,
    );
  }
  return [bounds[0], bounds[1]];
}

/**
 * The largest distance two inputs inside the bounds can be apart in `norm`
 * (the box's diameter over `coordinates` values): a budget beyond it is
 * no larger a threat, and a minimal-ε search never needs to look past it.
 */
export function largestDistance(
  norm: 'linf' | 'l2' | 'l1',
  bounds: Bounds,
  coordinates: number,
): number {
  const range = bounds[1] - bounds[0];
  return norm === 'linf'
    ? range
    : norm === 'l2'
      ? range * Math.sqrt(coordinates)
      : range * coordinates;
}

export function clipToBounds<T extends tf.Tensor>(x: T, bounds: Bounds): T {
  return tf.clipByValue(x, bounds[0], bounds[1]);
}
