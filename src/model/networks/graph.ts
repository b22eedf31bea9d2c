/**
 * A TF.js `GraphModel` (converted TensorFlow / Keras): output detected from
 * the graph's last op (Softmax and Sigmoid read before the activation), no
 * training mode, no layer plan, sent to workers as its artifacts. Not
 * checksummed here: a loaded graph's weights are not read back (the loaders
 * checksum the files instead).
 */
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../../errors.js';
import { graphOutput } from '../graph-output.js';
import { sendableArtifacts } from './artifacts.js';
import { headFor, plainOutputChoice, staticInputShape } from './shared.js';
import type { NetworkAdapter, OutputChoice, OutputContext } from './types.js';

/** Output kind of a GraphModel from its graph; `width` runs the raw output on one input. */
function graphChoice(network: tf.GraphModel, { forced, width }: OutputContext): OutputChoice {
  if (network.outputs.length > 1) {
    throw new InputError(
      'INVALID_OPTION',
      `the graph has ${network.outputs.length} outputs (${network.outputs.map((o) => JSON.stringify(o.name)).join(', ')}); a classifier has one: wrap the network as a function (x) => network.execute(x, name) that returns the class logits or probabilities`,
    );
  }
  const raw = (x: tf.Tensor4D) => network.execute(x) as tf.Tensor;
  const g = graphOutput(network);
  const node = `node ${JSON.stringify(g.node)}`;
  const before = g.activationInput;
  const execBefore = (x: tf.Tensor4D) => network.execute(x, before) as tf.Tensor;
  if (g.op === 'Softmax') {
    if (forced === 'logits') {
      return {
        forward: raw,
        head: 'logits',
        output: 'logits',
        detection: `set by the output option (the graph ends in Softmax, ${node})`,
        conflict: `output 'logits' was set, but the graph ends in Softmax (${node}): its probabilities are taken as logits, so softmax is applied twice, confidences are wrong and gradient attacks are weakened; leave output unset`,
      };
    }
    return before
      ? {
          forward: execBefore,
          head: 'logits',
          output: 'probabilities',
          detection: `graph ends in Softmax (${node}); logits read from its input ${JSON.stringify(before)}`,
          beforeActivation: true,
        }
      : {
          forward: raw,
          head: 'log',
          output: 'probabilities',
          detection: `graph ends in Softmax (${node}); logits are log-probabilities`,
        };
  }
  if (g.op === 'Sigmoid' && before) {
    const k = width(raw);
    if (k === 1 && forced !== 'logits') {
      return {
        forward: execBefore,
        head: 'binary',
        output: 'probabilities',
        detection: `graph ends in Sigmoid (${node}) with one output: a binary classifier, logits [0, z] with z read from its input ${JSON.stringify(before)}`,
        beforeActivation: true,
      };
    }
    if (k > 1 && forced === undefined) {
      throw new InputError(
        'INVALID_OPTION',
        `the graph ends in Sigmoid (${node}) with ${k} outputs: a multi-label model, whose outputs are not one distribution over classes; advkit attacks single-label classifiers. Set output: 'probabilities' to take the ${k} sigmoid scores as unnormalised class probabilities, or wrap the network as a function returning logits`,
      );
    }
    if (forced !== undefined) {
      return {
        forward: raw,
        head: headFor(forced),
        output: forced,
        detection: `set by the output option (the graph ends in Sigmoid, ${node})`,
        conflict: `output '${forced}' was set on a graph that ends in Sigmoid (${node}) with ${k} outputs: the sigmoid scores are not one distribution over classes, so confidences are the scores renormalised`,
      };
    }
  }
  const ends = g.op ? `graph ends in ${g.op} (${node})` : 'the graph could not be read';
  return plainOutputChoice(raw, forced, ends);
}

export const graphAdapter: NetworkAdapter<tf.GraphModel> = {
  kind: 'graph-model',
  accepts: 'a tf.GraphModel',
  recognise: (network): network is tf.GraphModel => network instanceof tf.GraphModel,
  differentiable: true,
  check(_network, { mode }) {
    if (mode === 'train') {
      throw new InputError('INVALID_OPTION', "a GraphModel has no training mode; use mode 'eval'");
    }
  },
  inputShape: (network) => staticInputShape(network.inputs[0]?.shape as number[] | undefined),
  name: (network) => (network as unknown as { name?: string }).name ?? 'graph-model',
  output: graphChoice,
  plan: () => undefined,
  checksum: async () => null,
  transfer: {
    send: (network, name) => sendableArtifacts(network, name),
    receive: (payload) => tf.loadGraphModel(tf.io.fromMemory(payload as tf.io.ModelArtifacts)),
  },
};
