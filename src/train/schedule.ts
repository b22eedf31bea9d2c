/**
 * Learning-rate schedules, as pure functions of training progress
 * t ∈ [0, epochs] measured in epochs (fractional inside an epoch), so a
 * resumed run sees exactly the rates an uninterrupted one would.
 *
 * - constant: lr throughout.
 * - cyclic: Wong, Rice & Kolter's one-cycle triangle — linear from 0 up to
 *   lr at `peak`·epochs, then linear back to 0 at the end (their MNIST and
 *   CIFAR-10 fast-FGSM runs use peak 2/5).
 * - multistep: lr, then ×0.1 at half of training and ×0.01 at three quarters
 *   (Madry et al.'s piecewise decay).
 */
import { InputError } from '../errors.js';

export type ScheduleName = 'constant' | 'cyclic' | 'multistep';
export const SCHEDULE_NAMES: readonly ScheduleName[] = ['constant', 'cyclic', 'multistep'];

/** Where the cyclic schedule peaks, as a fraction of training. */
export const CYCLIC_PEAK = 0.4;

export function learningRate(
  schedule: ScheduleName,
  lr: number,
  t: number,
  epochs: number,
  peak = CYCLIC_PEAK,
): number {
  switch (schedule) {
    case 'constant':
      return lr;
    case 'cyclic': {
      const top = peak * epochs;
      if (t <= top) return top > 0 ? (lr * t) / top : lr;
      return Math.max(0, (lr * (epochs - t)) / (epochs - top));
    }
    case 'multistep':
      return t < 0.5 * epochs ? lr : t < 0.75 * epochs ? lr * 0.1 : lr * 0.01;
    default:
      throw new InputError(
        'INVALID_OPTION',
        `schedule must be one of ${SCHEDULE_NAMES.join(', ')}; received ${JSON.stringify(schedule)}`,
      );
  }
}
