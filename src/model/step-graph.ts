/**
 * A network as a graph of steps, run forward keeping what the backward pass
 * needs and walked back computing input gradients alone. The layer plans
 * (`layer-plan.ts`, tfjs-layers models) and the ONNX plans
 * (`onnx/plan.ts`) are both lists of `StepNode`s made into a `LayerPlan`
 * here: the nodes are put in topological order, each pass frees a value once
 * its last consumer has run unless a step saved it, saved tensors are
 * counted and freed once no step needs them, and the input is cropped to the
 * region the output depends on (`live-region.ts`).
 */
import * as tf from '@tensorflow/tfjs';
import { type Extent, liveInput, type RegionNode } from './live-region.js';

/** One layer call. Tensors in `saved` belong to the pass. */
export interface Step {
  forward(xs: tf.Tensor[]): { y: tf.Tensor; saved: tf.Tensor[] };
  /** Gradients for the inputs (new tensors); `dy` stays the caller's. */
  backward(dy: tf.Tensor, saved: tf.Tensor[], inShapes: number[][]): tf.Tensor[];
  /**
   * For a step whose output is a ReLU's, so that `backward` begins with the
   * mask y > 0: `backward` without it, for a max pool reading this output
   * alone, which applies the mask to its own, smaller output instead (see
   * `maxPoolStep` in `layer-steps.ts`).
   */
  unmaskedBackward?: Step['backward'];
}

/** A step reading values `inputs` and writing value `output` (values are numbered). */
export interface StepNode extends RegionNode {
  name: string;
  step: Step;
}

export interface LayerPass {
  /** The network's output (the softmax's input when `outputSoftmax`). */
  output: tf.Tensor2D;
  /**
   * The gradient with respect to the network's input, given the gradient
   * with respect to `output`. Frees the pass's activations; call it (or
   * `release`) once.
   */
  backward(dOutput: tf.Tensor2D): tf.Tensor4D;
  release(): void;
}

export interface LayerPlan {
  /** A forward pass that keeps what the backward pass needs. */
  run(x: tf.Tensor4D): LayerPass;
  /** The network's output alone (see `LayerPass.output`), keeping nothing. */
  forward(x: tf.Tensor4D): tf.Tensor2D;
  /** The model ends in a softmax that `output` leaves for the caller to apply. */
  outputSoftmax: boolean;
  /** Layer names in execution order (for tests and diagnostics). */
  layers: string[];
  /**
   * The [rows, columns] of the input the output depends on, when fewer than
   * all (see `live-region.ts`): passes run on that crop of the input.
   */
  liveInput?: [number, number];
}

/** A step met an input it does not handle; the plan is dropped for autodiff. */
export class PlanMismatch extends Error {}

export interface StepGraph {
  nodes: StepNode[];
  /** The value fed the network's input, and the value that is its output. */
  input: number;
  output: number;
  /** The [rows, columns] of every value that is an NHWC image batch (undefined otherwise). */
  extents: Map<number, Extent>;
  /** The [rows, columns] of the input the extents were found for. */
  inputSize: [number, number];
  outputSoftmax: boolean;
}

/** The graph as a plan, or why it cannot be one. */
export function planFromSteps(graph: StepGraph): LayerPlan | string {
  const { input, output, inputSize } = graph;
  const order = topological(graph.nodes, input);
  if (typeof order === 'string') return order;
  if (!order.some((n) => n.output === output) && output !== input)
    return 'the output is not computed from the input';
  const live = liveInput(order, input, output, graph.extents);
  // Crop only inputs of the shape the region was found for.
  const crop = (x: tf.Tensor4D) =>
    live && x.shape[1] === inputSize[0] && x.shape[2] === inputSize[1] ? live : undefined;
  return {
    outputSoftmax: graph.outputSoftmax,
    layers: order.map((n) => n.name),
    liveInput: live,
    run: (x) => runPass(order, input, output, x, true, crop(x)),
    forward: (x) => runPass(order, input, output, x, false, crop(x)).output,
  };
}

function topological(nodes: StepNode[], input: number): StepNode[] | string {
  const ready = new Set([input]);
  const order: StepNode[] = [];
  let pending = nodes;
  while (pending.length > 0) {
    const next = pending.filter((n) => !n.inputs.every((i) => ready.has(i)));
    if (next.length === pending.length) return 'a layer takes an input the plan cannot reach';
    for (const n of pending) {
      if (n.inputs.every((i) => ready.has(i)) && !next.includes(n)) {
        order.push(n);
        ready.add(n.output);
      }
    }
    pending = next;
  }
  return order;
}

function runPass(
  order: StepNode[],
  input: number,
  output: number,
  x: tf.Tensor4D,
  backwardToCome: boolean,
  crop: [number, number] | undefined,
): LayerPass {
  // Values are freed once their last consumer has run, unless a step saved
  // them; saved tensors are counted and freed once no step needs them.
  const first = crop ? tf.slice(x, [0, 0, 0, 0], [-1, crop[0], crop[1], -1]) : x;
  const values = new Map<number, tf.Tensor>([[input, first]]);
  const uses = new Map<number, number>();
  for (const n of order) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  const records: { node: StepNode; saved: tf.Tensor[]; shapes: number[][] }[] = [];
  const savedBy = new Map<tf.Tensor, number>();
  let out: tf.Tensor | undefined;
  const unsave = (saved: tf.Tensor[]) => {
    for (const t of saved) {
      const left = (savedBy.get(t) as number) - 1;
      savedBy.set(t, left);
      if (left === 0 && t !== x && t !== out) t.dispose();
    }
  };
  const releaseAll = () => {
    while (records.length > 0) unsave((records.pop() as (typeof records)[number]).saved);
  };
  try {
    for (const node of order) {
      const xs = node.inputs.map((i) => values.get(i) as tf.Tensor);
      const { y, saved } = node.step.forward(xs);
      if (backwardToCome) {
        for (const t of saved) savedBy.set(t, (savedBy.get(t) ?? 0) + 1);
        records.push({ node, saved, shapes: xs.map((t) => t.shape) });
      } else {
        for (const t of saved) if (t !== y && !xs.includes(t)) t.dispose();
      }
      values.set(node.output, y);
      for (const i of node.inputs) {
        const left = (uses.get(i) as number) - 1;
        uses.set(i, left);
        const v = values.get(i) as tf.Tensor;
        if (left === 0 && i !== output && v !== x && !savedBy.has(v)) v.dispose();
      }
    }
    out = values.get(output) as tf.Tensor;
    if (out.rank !== 2) throw new PlanMismatch(`the network output has rank ${out.rank}`);
  } catch (e) {
    out = undefined;
    releaseAll();
    for (const v of values.values()) if (v !== x) v.dispose();
    throw e;
  }
  // Outputs of layers that nothing consumes (dead branches).
  for (const [id, v] of values) if (id !== output && v !== x && !savedBy.has(v)) v.dispose();
  let done = false;
  const claim = () => {
    if (done) throw new Error('advkit: a layer pass can be used once');
    done = true;
  };
  return {
    output: out as tf.Tensor2D,
    backward(dOutput) {
      claim();
      const grads = new Map<number, tf.Tensor>([[output, tf.clone(dOutput)]]);
      try {
        while (records.length > 0) {
          const { node, saved, shapes } = records[records.length - 1];
          const dy = grads.get(node.output);
          if (dy !== undefined) {
            grads.delete(node.output);
            const dxs = node.step.backward(dy, saved, shapes);
            dy.dispose();
            for (const [j, i] of node.inputs.entries()) {
              const prev = grads.get(i);
              grads.set(i, prev === undefined ? dxs[j] : tf.add(prev, dxs[j]));
              if (prev !== undefined) tf.dispose([prev, dxs[j]]);
            }
          }
          records.pop();
          unsave(saved);
        }
        const dFirst = grads.get(input);
        grads.delete(input);
        if (dFirst === undefined) return tf.zerosLike(x);
        if (!crop) return dFirst as tf.Tensor4D;
        // Dead pixels: the output does not depend on them.
        const [, h, w] = x.shape;
        const dx = tf.pad(dFirst, [
          [0, 0],
          [0, h - crop[0]],
          [0, w - crop[1]],
          [0, 0],
        ]);
        dFirst.dispose();
        return dx as tf.Tensor4D;
      } finally {
        releaseAll();
        tf.dispose([...grads.values()]);
      }
    },
    release() {
      claim();
      releaseAll();
    },
  };
}
