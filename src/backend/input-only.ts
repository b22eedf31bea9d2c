/**
 * Input-only gradients. An attack needs ∇ₓ loss but never the weights'
 * gradients, yet TF.js's fused conv2d / depthwise gradients (and every
 * gradient through a tfjs-layers Conv2D) always compute the filter gradient.
 * Inside `withInputOnlyGradients`, advkit's `Conv2DBackpropFilter` and
 * `DepthwiseConv2dNativeBackpropFilter` kernels return zeros at once instead.
 */
import { AdvkitError } from '../errors.js';

let depth = 0;

/** True while a `withInputOnlyGradients` callback is running. */
export function inputOnlyGradients(): boolean {
  return depth > 0;
}

/**
 * Run `fn` with weight (filter) gradients of convolutions replaced by zeros;
 * gradients with respect to inputs are exact. `fn` must be synchronous (TF.js
 * gradients are): the scope ends when `fn` returns.
 *
 * @example
 * const g = withInputOnlyGradients(() => tf.grad((x) => loss(model.predict(x)))(x));
 */
export function withInputOnlyGradients<T>(fn: () => T): T {
  depth++;
  let result: T;
  try {
    result = fn();
  } finally {
    depth--;
  }
  if (result instanceof Promise) {
    result.catch(() => undefined);
    throw new AdvkitError(
      'INVALID_OPTION',
      'withInputOnlyGradients(fn): fn returned a Promise; expected a synchronous function ' +
        '(compute gradients with tf.grad / tf.variableGrads inside it, await outside)',
    );
  }
  return result;
}
