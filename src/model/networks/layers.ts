/**
 * A tfjs-layers `LayersModel`: output detected from its last layer, a layer
 * plan in 'eval' mode, checksummed and sent to workers as its artifacts.
 */
import * as tf from '@tensorflow/tfjs';
import { layerPlan } from '../layer-plan.js';
import { checksumArtifacts, savedArtifacts, sendableArtifacts } from './artifacts.js';
import { headFor, staticInputShape } from './shared.js';
import type { NetworkAdapter } from './types.js';

function endsInSoftmax(model: tf.LayersModel): boolean {
  const last = model.layers[model.layers.length - 1];
  if (!last) return false;
  const cfg = last.getConfig() as { activation?: unknown };
  return cfg.activation === 'softmax' || last.getClassName() === 'Softmax';
}

export const layersAdapter: NetworkAdapter<tf.LayersModel> = {
  kind: 'layers-model',
  accepts: 'a tf.LayersModel',
  recognise: (network): network is tf.LayersModel => network instanceof tf.LayersModel,
  differentiable: true,
  inputShape: (network) => staticInputShape(network.inputs[0]?.shape),
  name: (network) => network.name ?? 'layers-model',
  output(network, { mode, forced }) {
    const training = mode === 'train';
    const forward = (x: tf.Tensor4D) => network.apply(x, { training }) as tf.Tensor;
    const last = network.layers[network.layers.length - 1];
    const softmax = endsInSoftmax(network);
    const layer = `last layer ${JSON.stringify(last?.name)}`;
    const detected = softmax ? 'probabilities' : 'logits';
    const output = forced ?? detected;
    return {
      forward,
      head: headFor(output),
      output,
      detection:
        output !== detected
          ? `set by the output option (${layer} ${softmax ? 'is a softmax' : 'is not a softmax'})`
          : softmax
            ? `${layer} is a softmax`
            : `${layer} is not a softmax: taken as logits`,
      ...(softmax && forced === 'logits'
        ? {
            conflict: `output 'logits' was set, but the ${layer} is a softmax: its probabilities are taken as logits, so softmax is applied twice, confidences are wrong and gradient attacks are weakened; leave output unset`,
          }
        : {}),
    };
  },
  plan: (network, mode) => (mode === 'eval' ? layerPlan(network) : undefined),
  async checksum(network) {
    const artifacts = await savedArtifacts(network);
    return artifacts ? checksumArtifacts(artifacts) : null;
  },
  transfer: {
    send: (network, name) => sendableArtifacts(network, name),
    receive: (payload) => tf.loadLayersModel(tf.io.fromMemory(payload as tf.io.ModelArtifacts)),
  },
};
