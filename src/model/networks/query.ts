/**
 * A model one can only query: scores for a batch of images, no gradient
 * (a remote API, a model behind a process boundary, a non-differentiable
 * pipeline). Query attacks (Square, noise) run on it; gradient attacks,
 * `objectiveGradient` and the gradient diagnostics refuse it with
 * NOT_DIFFERENTIABLE. Wrap the function with `queryOnly`:
 *
 *   const model = Classifier.create(queryOnly((x) => scores(x)), { inputShape: [32, 32, 3] });
 *
 * or pass any object `{ query }`.
 */
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../../errors.js';
import { headFor, tensorOutput } from './shared.js';
import type { NetworkAdapter } from './types.js';

/**
 * Scores [batch, classes] — logits, or probabilities with `output:
 * 'probabilities'` — for a batch of images [batch, h, w, c] (preprocessed first
 * when the classifier has a `preprocess` option), as a tf.Tensor, synchronously.
 */
export type QueryFunction = (x: tf.Tensor4D) => tf.Tensor;

export interface QueryOnlyNetwork {
  readonly query: QueryFunction;
}

/** Mark `query` as a model that can only be queried (see the module comment). */
export function queryOnly(query: QueryFunction): QueryOnlyNetwork {
  if (typeof query !== 'function') {
    throw new InputError(
      'INVALID_OPTION',
      `queryOnly takes a function (x: Tensor4D) => scores; received ${typeof query}`,
    );
  }
  return Object.freeze({ query });
}

/**
 * The query's output, cut from the gradient tape: whatever ops the function
 * runs, differentiating through it is a coded error, never a gradient of
 * the wrapper's internals nor a crash deep in TF.js.
 */
function opaque(query: QueryFunction): (x: tf.Tensor4D) => tf.Tensor {
  const checked = tensorOutput(query, "the query-only model's query");
  const cut = tf.customGrad((...inputs) => ({
    value: checked(inputs[0] as tf.Tensor4D),
    gradFunc: () => {
      throw new InputError(
        'NOT_DIFFERENTIABLE',
        'the model is query-only (queryOnly): it has no gradient to differentiate; only attacks that query the model (no gradient) run on it',
      );
    },
  }));
  return (x) => cut(x) as tf.Tensor;
}

export const queryAdapter: NetworkAdapter<QueryOnlyNetwork> = {
  kind: 'query',
  accepts: 'a query-only model queryOnly(fn) or { query: fn }',
  recognise: (network): network is QueryOnlyNetwork =>
    typeof network === 'object' &&
    network !== null &&
    typeof (network as { query?: unknown }).query === 'function',
  differentiable: false,
  inputShape: () => undefined,
  name: () => 'query-only model',
  output(network, { forced }) {
    const output = forced ?? 'logits';
    return {
      forward: opaque(network.query),
      head: headFor(output),
      output,
      detection:
        output === 'probabilities'
          ? 'set by the output option'
          : "a query-only model: its scores taken as logits (set output: 'probabilities' if it returns probabilities)",
    };
  },
  plan: () => undefined,
  checksum: async () => null,
  transfer: {
    refused:
      'is query-only (its query is a function), which cannot be sent to a worker thread; evaluate without workers',
  },
};
