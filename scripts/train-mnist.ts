/**
 * Train all the shipped natural MNIST models in turn (each also has its own
 * script): models/mnist-softmax, models/mnist-logreg-3v7, models/mnist-cnn.
 *
 *   npm run train:mnist [-- --only mnist-cnn,mnist-softmax] [-- --epochs 3] [-- --backend cpu]
 */
import { parseTrainFlags, type ShippedModel, trainShipped } from './train-common.js';
import { mnistCnn } from './train-mnist-cnn.js';
import { mnistLogreg3v7 } from './train-mnist-logreg-3v7.js';
import { mnistSoftmax } from './train-mnist-softmax.js';

const all: ShippedModel[] = [mnistSoftmax, mnistLogreg3v7, mnistCnn];
const { only, ...flags } = parseTrainFlags();
const names = only?.split(',').map((s) => s.trim()) ?? all.map((m) => m.name);
const unknown = names.filter((n) => !all.some((m) => m.name === n));
if (unknown.length > 0) {
  throw new Error(
    `--only: unknown model(s) ${unknown.join(', ')}; expected ${all.map((m) => m.name).join(', ')}`,
  );
}
if (flags.out && names.length > 1) throw new Error('--out needs --only with a single model');
for (const spec of all.filter((m) => names.includes(m.name))) await trainShipped(spec, flags);
