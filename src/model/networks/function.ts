/**
 * A plain function `(x: Tensor4D) => logits`, differentiated by TF.js's
 * autodiff. It declares no input shape (the `inputShape` option gives it),
 * has no readable weights to checksum and cannot be sent to a worker.
 */
import type * as tf from '@tensorflow/tfjs';
import { headFor, tensorOutput } from './shared.js';
import type { NetworkAdapter } from './types.js';

export type ModelFunction = (x: tf.Tensor4D) => tf.Tensor;

export const functionAdapter: NetworkAdapter<ModelFunction> = {
  kind: 'function',
  accepts: 'a function (x: Tensor4D) => logits',
  recognise: (network): network is ModelFunction => typeof network === 'function',
  differentiable: true,
  inputShape: () => undefined,
  name: () => 'function',
  output(network, { forced }) {
    const output = forced ?? 'logits';
    return {
      forward: tensorOutput(network, 'the model function'),
      head: headFor(output),
      output,
      detection:
        output === 'probabilities'
          ? 'set by the output option'
          : "a plain function: taken as logits (set output: 'probabilities' if it returns probabilities)",
    };
  },
  plan: () => undefined,
  checksum: async () => null,
  transfer: {
    refused:
      'wraps a plain function (x) => logits, which cannot be sent to a worker thread; wrap a tf.LayersModel or tf.GraphModel (e.g. loadClassifierFromFile), or evaluate without workers',
  },
};
