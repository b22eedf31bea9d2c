/** Small helpers the adapters share. */
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../../errors.js';
import type { Head, OutputChoice, OutputKind } from './types.js';

export const headFor = (output: OutputKind): Head =>
  output === 'probabilities' ? 'log' : 'logits';

/** [h, w, c] of a 4-D input shape whose non-batch dimensions are all fixed. */
export function staticInputShape(
  shape: readonly (number | null)[] | undefined,
): number[] | undefined {
  if (shape?.length !== 4) return undefined;
  const hwc = shape.slice(1);
  return hwc.every((d) => typeof d === 'number' && d > 0) ? (hwc as number[]) : undefined;
}

/**
 * `f` with its result checked: a user's function that returns a Promise (an
 * async scoring API) or plain numbers fails here with what to do, not deep
 * inside TF.js.
 */
export function tensorOutput(
  f: (x: tf.Tensor4D) => unknown,
  what: string,
): (x: tf.Tensor4D) => tf.Tensor {
  return (x) => {
    const out = f(x);
    if (out instanceof tf.Tensor) return out;
    const got =
      out instanceof Promise || typeof (out as { then?: unknown })?.then === 'function'
        ? 'a Promise: advkit queries the model synchronously, in a loop; give a function that returns the scores as a tf.Tensor (e.g. tf.tensor2d of numbers already fetched)'
        : `${Array.isArray(out) ? 'an array' : typeof out}; return a tf.Tensor [batch, classes]`;
    throw new InputError('INVALID_OPTION', `${what} returned ${got}`);
  };
}

/**
 * The output of a graph whose last op is no Softmax or Sigmoid (`ends` says
 * which it is): logits, unless the output option says probabilities.
 */
export function plainOutputChoice(
  raw: (x: tf.Tensor4D) => tf.Tensor,
  forced: OutputKind | undefined,
  ends: string,
): OutputChoice {
  if (forced === 'probabilities') {
    return {
      forward: raw,
      head: headFor(forced),
      output: forced,
      detection: `set by the output option (${ends})`,
    };
  }
  return {
    forward: raw,
    head: 'logits',
    output: 'logits',
    detection: `${ends}, not Softmax or Sigmoid: taken as logits`,
  };
}
