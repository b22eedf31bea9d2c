/**
 * The input gradient of a translated ONNX graph (`graph.ts`) without
 * TF.js's tape: a step per node (`plan-steps.ts`) made into a plan by the
 * step graph (`../step-graph.ts`), as tfjs-layers models get from
 * `layer-plan.ts`. A Conv or Gemm that a Relu alone reads runs with the
 * Relu fused into the kernel, and a Relu that a MaxPool alone reads leaves
 * its mask to the pool. Nodes without a fast step (attention, layer norms,
 * grouped or dilated convolutions, …) are differentiated by TF.js's
 * autodiff of their `apply`, so every graph has a plan.
 *
 * When the graph ends in Softmax / Sigmoid / LogSoftmax
 * (`OnnxNetwork.outputActivation`), the plan's output is that node's input,
 * like `forwardBeforeActivation`: the logits, read before a softmax that
 * would saturate in float32.
 */
import * as tf from '@tensorflow/tfjs';
import { plansInUse } from '../layer-plan.js';
import { concatStep } from '../layer-steps.js';
import type { Extent, RegionRule } from '../live-region.js';
import {
  type LayerPass,
  type LayerPlan,
  planFromSteps,
  type Step,
  type StepNode,
} from '../step-graph.js';
import type { TranslatedGraph, TranslatedNode } from './graph.js';
import * as steps from './plan-steps.js';

/** What a plan needs of an `OnnxNetwork` (`index.ts`). */
export interface PlannableOnnx {
  readonly graph: TranslatedGraph;
  readonly outputActivation?: { op: string; node: string };
}

export interface OnnxPlanOptions {
  /**
   * End before a final Softmax / Sigmoid / LogSoftmax (default true, as
   * `forwardBeforeActivation`); false plans the whole graph.
   */
  beforeActivation?: boolean;
  /** Only `autodiffStep`s (for tests and benchmarks: the fast steps against autodiff). */
  autodiffOnly?: boolean;
  /** Wraps every step (a benchmark's per-step timer); such plans are not cached. */
  instrument?: (name: string, step: Step) => Step;
}

/**
 * The plan attacks use (`NetworkAdapter.plan`): undefined while plans are
 * off (`useLayerPlans(false)`, `useKernels('stock')`). Pass the same
 * `beforeActivation` as the forward pass the classifier reads.
 */
export function onnxPlanInUse(
  net: PlannableOnnx,
  options: OnnxPlanOptions = {},
): LayerPlan | undefined {
  if (!plansInUse()) return undefined;
  const plan = onnxPlan(net, options);
  return typeof plan === 'string' ? undefined : plan;
}

const cache = new WeakMap<PlannableOnnx, Map<string, LayerPlan | string>>();

/** The network's plan, or why it has none. Plans are cached per network and options. */
export function onnxPlan(net: PlannableOnnx, options: OnnxPlanOptions = {}): LayerPlan | string {
  if (options.instrument) return buildPlan(net, options);
  const key = `${options.beforeActivation !== false}/${options.autodiffOnly === true}`;
  let byKey = cache.get(net);
  if (byKey === undefined) {
    byKey = new Map();
    cache.set(net, byKey);
  }
  let plan = byKey.get(key);
  if (plan === undefined) {
    plan = buildPlan(net, options);
    byKey.set(key, plan);
  }
  return plan;
}

function buildPlan(net: PlannableOnnx, options: OnnxPlanOptions): LayerPlan | string {
  const { graph } = net;
  let output = graph.output;
  const act = net.outputActivation;
  if (act && options.beforeActivation !== false) {
    const node = graph.nodes.find((n) => n.name === act.node);
    if (!node) return `the output activation ${act.node} is not a node of the graph`;
    output = node.inputs[0];
  }
  const nodes = needed(graph.nodes, output);
  const consumers = new Map<number, TranslatedNode[]>();
  for (const n of nodes)
    for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  /** The one node reading `n`'s output, when it is a Relu and not the output. */
  const soleRelu = (n: TranslatedNode) => {
    const next = consumers.get(n.output);
    return n.output !== output && next?.length === 1 && next[0].spec.kind === 'relu'
      ? next[0]
      : undefined;
  };
  const shapeOf = (v: number) => graph.values[v]?.shape;
  const made: StepNode[] = [];
  const absorbed = new Set<TranslatedNode>();
  for (const n of nodes) {
    if (absorbed.has(n)) continue;
    const relu = options.autodiffOnly ? undefined : fusableRelu(n, soleRelu, shapeOf);
    if (relu) absorbed.add(relu);
    let step = options.autodiffOnly ? undefined : fastStep(n, relu !== undefined, shapeOf);
    if (step && n.spec.kind === 'maxpool') {
      const producer = made.find((m) => m.output === n.inputs[0]);
      if (producer?.step.unmaskedBackward && consumers.get(n.inputs[0])?.length === 1) {
        producer.step = { ...producer.step, backward: producer.step.unmaskedBackward };
        step = steps.maxPoolStep(n.spec, true);
      }
    }
    made.push({
      name: relu ? `${n.name}+${relu.name}` : n.name,
      step: step ?? steps.autodiffStep(n.apply),
      inputs: n.inputs,
      output: relu ? relu.output : n.output,
      rule: step ? regionRule(n) : { kind: 'whole' },
    });
  }
  const { instrument } = options;
  if (instrument) for (const m of made) m.step = instrument(m.name, m.step);
  const extents = new Map<number, Extent>();
  graph.values.forEach((v, i) => {
    extents.set(
      i,
      v.layout === 'nhwc' && v.shape.length === 4 ? [v.shape[1], v.shape[2]] : undefined,
    );
  });
  const [, h, w] = graph.values[0]?.shape ?? [];
  const plan = planFromSteps({
    nodes: made,
    input: 0,
    output,
    extents,
    inputSize: [h ?? -1, w ?? -1],
    outputSoftmax: false,
  });
  if (typeof plan === 'string' || graph.fixedBatch === undefined) return plan;
  return inChunks(plan, graph.fixedBatch);
}

/**
 * A plan for a graph that runs at one batch size only (its reshapes bake
 * in the batch a file without dynamic axes was exported at, often 1): other
 * batches run as passes over chunks of that size, the last padded with
 * zeros whose outputs and gradients are dropped.
 */
function inChunks(plan: LayerPlan, size: number): LayerPlan {
  const chunks = (x: tf.Tensor4D): tf.Tensor4D[] =>
    tf.tidy(() => {
      const n = x.shape[0];
      const out: tf.Tensor4D[] = [];
      for (let start = 0; start < n; start += size) {
        const part = tf.slice(x, [start, 0, 0, 0], [Math.min(size, n - start), -1, -1, -1]);
        const short = size - part.shape[0];
        out.push(
          short === 0
            ? part
            : tf.concat([part, tf.zeros([short, x.shape[1], x.shape[2], x.shape[3]])]),
        );
      }
      return out;
    });
  /** The first `n` rows of the chunks' results, joined. */
  const joined = <T extends tf.Tensor>(parts: T[], n: number): T =>
    tf.tidy(() => {
      const all = tf.concat(parts);
      return (all.shape[0] === n ? all : tf.slice(all, 0, n)) as T;
    });
  const run = (x: tf.Tensor4D): LayerPass => {
    if (x.shape[0] === size) return plan.run(x);
    const n = x.shape[0];
    const parts = chunks(x);
    const passes: LayerPass[] = [];
    try {
      for (const part of parts) passes.push(plan.run(part));
    } catch (e) {
      for (const p of passes) {
        p.release();
        p.output.dispose();
      }
      throw e;
    } finally {
      tf.dispose(parts);
    }
    const outputs = passes.map((p) => p.output);
    const output = joined(outputs, n);
    tf.dispose(outputs);
    return {
      output,
      backward(dOutput) {
        const dParts = tf.tidy(() => {
          const padded = tf.pad(dOutput, [
            [0, passes.length * size - n],
            [0, 0],
          ]);
          return tf.split(padded, passes.length) as tf.Tensor2D[];
        });
        const grads: tf.Tensor4D[] = [];
        let i = 0;
        try {
          for (; i < passes.length; i++) grads.push(passes[i].backward(dParts[i]));
          return joined(grads, n);
        } finally {
          // A pass whose backward threw has freed itself; the later ones have not.
          for (let j = i + 1; j < passes.length; j++) passes[j].release();
          tf.dispose([...grads, ...dParts]);
        }
      },
      release() {
        for (const p of passes) p.release();
      },
    };
  };
  return {
    ...plan,
    run,
    forward: (x) => {
      if (x.shape[0] === size) return plan.forward(x);
      const parts = chunks(x);
      try {
        const outs = parts.map((part) => plan.forward(part));
        const y = joined(outs, x.shape[0]);
        tf.dispose(outs);
        return y;
      } finally {
        tf.dispose(parts);
      }
    },
  };
}

/** The nodes `output` depends on, in the graph's order. */
function needed(nodes: TranslatedNode[], output: number): TranslatedNode[] {
  const want = new Set([output]);
  const keep = new Set<TranslatedNode>();
  for (const n of [...nodes].reverse()) {
    if (!want.has(n.output)) continue;
    keep.add(n);
    for (const i of n.inputs) want.add(i);
  }
  return nodes.filter((n) => keep.has(n));
}

/** The Relu a Conv / Gemm can run fused with. */
function fusableRelu(
  n: TranslatedNode,
  soleRelu: (n: TranslatedNode) => TranslatedNode | undefined,
  shapeOf: (v: number) => number[] | undefined,
): TranslatedNode | undefined {
  if (n.spec.kind !== 'conv' && n.spec.kind !== 'dense') return undefined;
  if (fastStep(n, false, shapeOf) === undefined) return undefined;
  return soleRelu(n);
}

/** The node's fast step, or undefined for `autodiffStep`. */
function fastStep(
  n: TranslatedNode,
  relu: boolean,
  shapeOf: (v: number) => number[] | undefined,
): Step | undefined {
  const spec = n.spec;
  const ok = (s: Step | string) => (typeof s === 'string' ? undefined : s);
  switch (spec.kind) {
    case 'conv':
      return ok(steps.convStep(spec, relu));
    case 'dense':
      return steps.denseStep(spec, relu);
    case 'maxpool':
      return steps.maxPoolStep(spec, false);
    case 'avgpool':
      return ok(steps.avgPoolStep(spec));
    case 'global-avgpool':
      return steps.globalAvgPoolStep(shapeOf(n.output)?.length !== 2);
    case 'relu':
      return steps.reluStep;
    case 'clip':
      return steps.clipStep(spec);
    case 'sigmoid':
      return steps.sigmoidStep;
    case 'tanh':
      return steps.tanhStep;
    case 'hardsigmoid':
      return steps.hardSigmoidStep(spec);
    case 'hardswish':
      return steps.hardSwishStep;
    case 'affine':
      return steps.affineStep(spec);
    case 'identity':
      return steps.identityStep;
    case 'add':
    case 'sub':
    case 'mul':
    case 'div':
      return ok(steps.binaryStep(spec, n.inputs.length));
    case 'reshape':
      return steps.reshapeStep(spec);
    case 'transpose':
      return steps.transposeStep(spec);
    case 'concat':
      return concatStep(spec.axis);
    default:
      return undefined;
  }
}

/** How the node's output rows depend on its input's (see `live-region.ts`). */
function regionRule(n: TranslatedNode): RegionRule {
  const spec = n.spec;
  switch (spec.kind) {
    case 'conv': {
      // Padding is relative to the input's size: a cropped input would pad differently.
      if (spec.pads.some((p) => p !== 0)) return { kind: 'whole' };
      const [kh, kw] = spec.filter.shape;
      const [dh, dw] = spec.dilations;
      return {
        kind: 'window',
        kernel: [(kh - 1) * dh + 1, (kw - 1) * dw + 1],
        strides: spec.strides,
      };
    }
    case 'maxpool':
    case 'avgpool':
      return spec.pads.some((p) => p !== 0) || spec.ceilMode
        ? { kind: 'whole' }
        : { kind: 'window', kernel: spec.kernel, strides: spec.strides };
    case 'relu':
    case 'clip':
    case 'sigmoid':
    case 'tanh':
    case 'hardsigmoid':
    case 'hardswish':
    case 'affine':
    case 'identity':
      return { kind: 'pointwise' };
    case 'add':
    case 'sub':
    case 'mul':
    case 'div':
      // A constant operand broadcast over the rows would be read cropped too.
      return spec.constant && spec.constant.rank >= 3 ? { kind: 'whole' } : { kind: 'pointwise' };
    default:
      return { kind: 'whole' };
  }
}
