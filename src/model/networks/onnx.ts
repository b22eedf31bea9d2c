/**
 * An ONNX graph imported by `importOnnx` (a PyTorch export): output
 * detected from the graph's last op like a GraphModel's (a final Softmax /
 * LogSoftmax / Sigmoid is read before the activation), inference only, a
 * plan from `onnxPlanInUse` (fast input gradients; autodiff through the
 * translated graph otherwise), checksummed as the sha256 of its file(s),
 * and sent to workers as the file bytes it was imported from.
 */
import { InputError } from '../../errors.js';
import { importOnnxSource, type OnnxNetwork } from '../onnx/index.js';
import { onnxPlanInUse } from '../onnx/plan.js';
import { plainOutputChoice } from './shared.js';
import type { NetworkAdapter, OutputChoice, OutputContext } from './types.js';

function onnxChoice(net: OnnxNetwork, { forced, width }: OutputContext): OutputChoice {
  const raw = (x: Parameters<OnnxNetwork['forward']>[0]) => net.forward(x);
  const act = net.outputActivation;
  const before = net.forwardBeforeActivation?.bind(net);
  const node = act ? `node ${JSON.stringify(act.node)}` : '';
  if (act && before && (act.op === 'Softmax' || act.op === 'LogSoftmax')) {
    if (forced === 'logits')
      return {
        forward: raw,
        head: 'logits',
        output: 'logits',
        detection: `set by the output option (the graph ends in ${act.op}, ${node})`,
        conflict: `output 'logits' was set, but the graph ends in ${act.op} (${node}): its outputs are taken as logits; leave output unset to read the logits before it`,
      };
    return {
      forward: before,
      head: 'logits',
      output: 'probabilities',
      detection: `graph ends in ${act.op} (${node}); logits read from its input`,
      beforeActivation: true,
    };
  }
  if (act?.op === 'Sigmoid' && before) {
    const k = width(raw);
    if (k === 1 && forced !== 'logits')
      return {
        forward: before,
        head: 'binary',
        output: 'probabilities',
        detection: `graph ends in Sigmoid (${node}) with one output: a binary classifier, logits [0, z] with z read from its input`,
        beforeActivation: true,
      };
    if (forced === undefined)
      throw new InputError(
        'INVALID_OPTION',
        `the ONNX graph ends in Sigmoid (${node}) with ${k} outputs: a multi-label model, whose outputs are not one distribution over classes; set output: 'probabilities' to take the sigmoid scores as unnormalised class probabilities`,
      );
  }
  const last = net.graph.nodes.find((n) => n.output === net.graph.output);
  const ends = `graph ends in ${last?.op ?? 'its input'}${last ? ` (node ${JSON.stringify(last.name)})` : ''}`;
  // a forced 'logits' agrees with the detection (workers receive the detected output as forced)
  return plainOutputChoice(raw, forced, ends);
}

export const onnxAdapter: NetworkAdapter<OnnxNetwork> = {
  kind: 'onnx',
  accepts: 'an ONNX network (importOnnx)',
  recognise: (network): network is OnnxNetwork =>
    typeof network === 'object' &&
    network !== null &&
    (network as { kind?: unknown }).kind === 'onnx' &&
    typeof (network as { forward?: unknown }).forward === 'function',
  differentiable: true,
  check(_network, { mode }) {
    if (mode === 'train')
      throw new InputError(
        'INVALID_OPTION',
        "an ONNX network is translated for inference only; use mode 'eval'",
      );
  },
  inputShape: (net) => [...net.inputShape],
  name: (net) => net.source.where,
  output: onnxChoice,
  plan: (net, mode, { beforeActivation }) =>
    mode === 'eval'
      ? onnxPlanInUse(net, { beforeActivation: beforeActivation === true })
      : undefined,
  checksum: async (net) => net.checksum,
  transfer: {
    send: async (net) => net.source,
    receive: (payload) => importOnnxSource(payload as OnnxNetwork['source']),
  },
};
