/**
 * What a GraphModel's output is, read from its graph: the TF.js converter
 * writes nearly every Keras classifier as `… → Softmax → Identity`, so the
 * op that feeds the output (through Identity / IdentityN) says whether the
 * network emits probabilities. Where it does, the softmax's input tensor is
 * the logits, which the Classifier reads directly with
 * `GraphModel.execute(x, name)`: log(softmax) in float32 saturates for
 * confident examples (p = 1 exactly, log p = 0, gradient 0).
 */
import type * as tf from '@tensorflow/tfjs';

/** Ops that pass their input through unchanged. */
const PASS_THROUGH = new Set(['Identity', 'IdentityN', 'Snapshot', 'StopGradient']);

interface GraphNode {
  name: string;
  op: string;
  input?: string[];
}

export interface GraphOutput {
  /** The op that produces the output after pass-through ops, e.g. 'Softmax'; undefined when the graph cannot be read. */
  op?: string;
  /** That op's node name. */
  node?: string;
  /** The tensor feeding a final Softmax or Sigmoid, as `execute` names it. */
  activationInput?: string;
}

/** Node name and output index of a graph input reference "name", "name:1" or "^name". */
function parseRef(ref: string): { name: string; index: number } {
  const r = ref.startsWith('^') ? ref.slice(1) : ref;
  const m = /^(.*):(\d+)$/.exec(r);
  return m ? { name: m[1], index: Number(m[2]) } : { name: r, index: 0 };
}

/**
 * The op behind the model's first output. The graph is read from the
 * artifacts the model was loaded from (a GraphModel keeps them; the field is
 * not in TF.js's typings but is there in every 3.x and 4.x release).
 */
export function graphOutput(model: tf.GraphModel): GraphOutput {
  const topology = (model as unknown as { artifacts?: tf.io.ModelArtifacts }).artifacts
    ?.modelTopology as { node?: unknown } | undefined;
  const nodes = Array.isArray(topology?.node) ? (topology.node as GraphNode[]) : undefined;
  const out = model.outputs[0]?.name;
  if (!nodes || !out) return {};
  const byName = new Map(nodes.map((n) => [n.name, n]));
  let ref = parseRef(out);
  // A cycle of pass-through ops is not a valid graph; the bound only guards the walk.
  for (let hops = 0; hops <= nodes.length; hops++) {
    const node = byName.get(ref.name);
    if (!node) return {};
    const inputs = (node.input ?? []).filter((i) => !i.startsWith('^'));
    if (PASS_THROUGH.has(node.op)) {
      const next = inputs[node.op === 'IdentityN' ? ref.index : 0];
      if (next === undefined) return { op: node.op, node: node.name };
      ref = parseRef(next);
      continue;
    }
    const activation = node.op === 'Softmax' || node.op === 'Sigmoid';
    return {
      op: node.op,
      node: node.name,
      ...(activation && inputs[0] !== undefined ? { activationInput: inputs[0] } : {}),
    };
  }
  return {};
}
