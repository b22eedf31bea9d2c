/**
 * Checks on what a user hands an attack: every problem becomes a coded
 * error naming the argument, never a crash deep inside TF.js and never a
 * silently wrong result.
 */
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../errors.js';
import type { Classifier } from './classifier.js';

/** Relative slack for pixels that sit on a bound up to float rounding. */
const BOUNDS_TOLERANCE = 1e-6;

export async function validateImages(
  model: Classifier,
  x: unknown,
  name = 'x',
): Promise<tf.Tensor4D> {
  if (!(x instanceof tf.Tensor)) {
    throw new InputError(
      'INVALID_SHAPE',
      `${name} must be a tf.Tensor4D [batch, ${model.inputShape.join(', ')}]; received ${typeof x}`,
    );
  }
  const want = model.inputShape;
  if (x.rank !== 4 || x.shape.slice(1).join() !== want.join()) {
    throw new InputError(
      'INVALID_SHAPE',
      `${name} must have shape [batch, ${want.join(', ')}]; received [${x.shape.join(', ')}]`,
    );
  }
  if (x.shape[0] === 0) throw new InputError('INVALID_SHAPE', `${name} is an empty batch`);
  if (x.dtype !== 'float32') {
    throw new InputError('INVALID_SHAPE', `${name} must be float32; received ${x.dtype}`);
  }
  const [lo, hi] = model.bounds;
  const slack = BOUNDS_TOLERANCE * (hi - lo);
  const stats = tf.tidy(() => {
    const finite = tf.all(tf.isFinite(x));
    return tf.stack([tf.cast(finite, 'float32'), tf.min(x), tf.max(x)]);
  });
  const [finite, min, max] = await stats.data();
  stats.dispose();
  if (!finite) throw new InputError('NOT_FINITE', `${name} contains NaN or Infinity`);
  if (min < lo - slack || max > hi + slack) {
    throw new InputError(
      'OUT_OF_BOUNDS',
      `${name} has pixels in [${min}, ${max}], outside the model's bounds [${lo}, ${hi}]; rescale the images or set the bounds (e.g. bounds [0, 255])`,
    );
  }
  return x as tf.Tensor4D;
}

export async function validateLabels(
  model: Classifier,
  labels: unknown,
  batch: number,
  name = 'labels',
): Promise<Int32Array> {
  let values: ArrayLike<number>;
  if (labels instanceof tf.Tensor) {
    if (labels.rank !== 1)
      throw new InputError(
        'INVALID_LABELS',
        `${name} must be a 1-D tensor; received shape [${labels.shape}]`,
      );
    values = await labels.data();
  } else if (Array.isArray(labels) || ArrayBuffer.isView(labels)) {
    values = labels as ArrayLike<number>;
  } else {
    throw new InputError(
      'INVALID_LABELS',
      `${name} must be an array or 1-D tensor of class indices; received ${typeof labels}`,
    );
  }
  if (values.length !== batch) {
    throw new InputError(
      'INVALID_LABELS',
      `${name} has ${values.length} entries but the batch has ${batch} images`,
    );
  }
  const out = new Int32Array(batch);
  for (let i = 0; i < batch; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < 0 || v >= model.numClasses) {
      throw new InputError(
        'INVALID_LABELS',
        `${name}[${i}] = ${v} is not a class index; expected an integer in [0, ${model.numClasses - 1}]`,
      );
    }
    out[i] = v;
  }
  return out;
}

export function validateEpsilons(eps: number | readonly number[], name = 'epsilons'): number[] {
  const list = typeof eps === 'number' ? [eps] : [...eps];
  if (!Array.isArray(list) || list.length === 0)
    throw new InputError('INVALID_OPTION', `${name} must be a number or a non-empty list`);
  for (const e of list) {
    if (typeof e !== 'number' || !Number.isFinite(e) || e < 0) {
      throw new InputError('INVALID_OPTION', `${name} must be finite numbers ≥ 0; received ${e}`);
    }
  }
  return list;
}
