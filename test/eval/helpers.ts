/** Small synthetic data sets for the evaluation tests. */

import type { EvalDataset } from '../../src/eval/index.js';
import { createRng } from '../../src/index.js';

export function syntheticData(
  n: number,
  shape: [number, number, number],
  numClasses: number,
  seed = 5,
): EvalDataset {
  const rng = createRng(seed);
  const d = shape[0] * shape[1] * shape[2];
  const images = new Float32Array(n * d);
  for (let i = 0; i < images.length; i++) images[i] = rng.next();
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = rng.int(numClasses);
  return { images, labels, shape, numClasses, source: `synthetic(${n}, seed ${seed})` };
}

/** Labels replaced by the model's own clean predictions, so every example starts correct. */
export function relabel(data: EvalDataset, predictions: ArrayLike<number>): EvalDataset {
  return { ...data, labels: Int32Array.from(predictions) };
}
