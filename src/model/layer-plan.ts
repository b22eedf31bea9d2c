/**
 * The input gradient of a tfjs-layers model in inference mode, without
 * TF.js's tape. Under `tf.grad`, tfjs-layers splits every Conv2D / Dense
 * with a bias and an activation into three kernels (TF.js fuses only while
 * no gradient is recorded), the tape keeps every intermediate it saves, and
 * each layer's gradient also computes its weights' gradients. A plan runs the
 * same layers forward with the fused kernels `predict` uses, keeps only what
 * the backward pass needs, and walks back computing input gradients alone: a
 * convolution's backward is one `Conv2DBackpropInput`, an activation's a
 * mask applied to the incoming gradient.
 *
 * A convolution followed by a batch norm (and a ReLU) runs as one
 * convolution with the batch norm folded into its weights
 * (`src/backend/folded-conv.ts`). A ReLU read only by a max pool leaves
 * its mask to the pool, which applies it to the pooled gradient.
 *
 * Plans exist for graphs of the layers `layer-steps.ts` has steps for, with
 * one input, one output and no layer called twice; any other model, or a
 * configuration a step declines (dilation, channels-first, an unknown
 * activation), has no plan, and attacks use TF.js's autodiff as before
 * (`noPlanReason` says why). Values agree with the autodiff gradient up to
 * float rounding (fused kernels add the bias inside the convolution).
 */
import type * as tf from '@tensorflow/tfjs';
import { advkitKernelsInUse } from '../backend/register.js';
import { type Config, foldedStep, makers, maxPoolStep } from './layer-steps.js';
import type { Extent, RegionRule } from './live-region.js';
import { type LayerPlan, planFromSteps, type Step, type StepNode } from './step-graph.js';

export type { LayerPass, LayerPlan } from './step-graph.js';

const plans = new WeakMap<tf.LayersModel, LayerPlan | string>();
let enabled = true;

/**
 * Turn plans off (or back on), to compare with TF.js's autodiff. Plans are
 * also off while `useKernels('stock')` is in effect.
 */
export function useLayerPlans(on: boolean): void {
  enabled = on;
}

/** Whether attacks use plans now (of layers and ONNX models alike). */
export function plansInUse(): boolean {
  return enabled && advkitKernelsInUse();
}

/** The model's plan, or undefined when some layer has none. */
export function layerPlan(model: tf.LayersModel): LayerPlan | undefined {
  if (!plansInUse()) return undefined;
  const plan = planOrReason(model);
  return typeof plan === 'string' ? undefined : plan;
}

/** Why `model` has no plan, or undefined when it has one. */
export function noPlanReason(model: tf.LayersModel): string | undefined {
  const plan = planOrReason(model);
  return typeof plan === 'string' ? plan : undefined;
}

function planOrReason(model: tf.LayersModel): LayerPlan | string {
  let plan = plans.get(model);
  if (plan === undefined) {
    plan = buildPlan(model);
    plans.set(model, plan);
  }
  return plan;
}

/* ---------- the graph ---------- */

interface SymbolicLike {
  id: number;
}

function idsOf(t: unknown): number[] {
  return (Array.isArray(t) ? t : [t]).map((s) => (s as SymbolicLike).id);
}

function buildPlan(model: tf.LayersModel): LayerPlan | string {
  if (model.inputs.length !== 1 || model.outputs.length !== 1)
    return 'the model has more than one input or output';
  const input = model.inputs[0].id;
  const output = model.outputs[0].id;
  const nodes: StepNode[] = [];
  let outputSoftmax = false;
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  for (const layer of layers)
    if (layer.inboundNodes.length !== 1) return `layer ${layer.name} is called more than once`;
  const consumers = new Map<number, tf.layers.Layer[]>();
  for (const layer of layers)
    for (const id of idsOf(layer.input)) consumers.set(id, [...(consumers.get(id) ?? []), layer]);
  /** The one layer reading `layer`'s output, when it is of `kinds` and not the model's output. */
  const soleConsumer = (layer: tf.layers.Layer, kinds: string[]) => {
    const [id] = idsOf(layer.output);
    const next = consumers.get(id);
    return id !== output && next?.length === 1 && kinds.includes(next[0].getClassName())
      ? next[0]
      : undefined;
  };
  const absorbed = new Set<tf.layers.Layer>();
  for (const layer of layers) {
    if (absorbed.has(layer)) continue;
    const kind = layer.getClassName();
    const fold = foldable(layer, soleConsumer);
    if (fold) {
      const { bn, relu } = fold;
      const step = foldedStep(
        { cfg: layer.getConfig(), weights: layer.getWeights(), depthwise: kind !== 'Conv2D' },
        { cfg: bn.getConfig(), weights: bn.getWeights() },
        relu !== undefined,
      );
      if (typeof step === 'string') return `${layer.name}: ${step}`;
      const last = relu ?? bn;
      absorbed.add(bn);
      if (relu) absorbed.add(relu);
      nodes.push({
        name: [layer, bn, ...(relu ? [relu] : [])].map((l) => l.name).join('+'),
        step,
        inputs: idsOf(layer.input),
        output: idsOf(last.output)[0],
        rule: regionRule(layer),
      });
      continue;
    }
    const maker = makers[kind];
    if (!maker) return `no plan for ${kind} layers (${layer.name})`;
    // TF.js's Dense also takes rank-3+ inputs (per position); plans do rank 2.
    const inRank = (layer.input as { shape?: unknown[] }).shape?.length;
    if (kind === 'Dense' && inRank !== 2) return `${layer.name}: Dense on a rank-${inRank} input`;
    const out = idsOf(layer.output);
    if (out.length !== 1) return `layer ${layer.name} has several outputs`;
    const cfg = layer.getConfig() as Config;
    const last = out[0] === output;
    let step = maker(cfg, layer.getWeights(), last);
    if (typeof step === 'string') return `${layer.name}: ${step}`;
    const relu = kind === 'MaxPooling2D' ? reluFeeding(layer, nodes, consumers) : undefined;
    if (relu) {
      relu.step = { ...relu.step, backward: relu.step.unmaskedBackward as Step['backward'] };
      step = maxPoolStep(cfg, true) as Step;
    }
    if (last && (cfg.activation === 'softmax' || kind === 'Softmax')) outputSoftmax = true;
    nodes.push({
      name: layer.name,
      step,
      inputs: idsOf(layer.input),
      output: out[0],
      rule: regionRule(layer),
    });
  }
  const [, h, w] = model.inputs[0].shape;
  return planFromSteps({
    nodes,
    input,
    output,
    extents: extents(model, layers),
    inputSize: [h ?? -1, w ?? -1],
    outputSoftmax,
  });
}

/** The spatial extent of every tensor in the model (undefined unless NHWC with known size). */
function extents(model: tf.LayersModel, layers: tf.layers.Layer[]): Map<number, Extent> {
  const map = new Map<number, Extent>();
  const add = (t: unknown) => {
    for (const s of (Array.isArray(t) ? t : [t]) as { id: number; shape: (number | null)[] }[]) {
      const [, h, w] = s.shape;
      map.set(s.id, s.shape.length === 4 && h != null && w != null ? [h, w] : undefined);
    }
  };
  add(model.inputs);
  for (const layer of layers) add(layer.output);
  return map;
}

/** How `layer`'s output rows depend on its input's (see `live-region.ts`). */
function regionRule(layer: tf.layers.Layer): RegionRule {
  const cfg = layer.getConfig() as Config;
  const kind = layer.getClassName();
  const pair = (v: unknown): [number, number] =>
    Array.isArray(v) ? [v[0] as number, v[1] as number] : [v as number, v as number];
  switch (kind) {
    case 'Conv2D':
    case 'DepthwiseConv2D':
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      const pool = kind.endsWith('Pooling2D');
      const kernel = pair(pool ? cfg.poolSize : cfg.kernelSize);
      const strides = pair(cfg.strides ?? cfg.poolSize);
      // 'same' pads by the input's size, so a cropped input could pad
      // differently; only a 1-wide window never pads.
      return cfg.padding === 'valid' || (kernel[0] === 1 && kernel[1] === 1)
        ? { kind: 'window', kernel, strides }
        : { kind: 'whole' };
    }
    case 'ZeroPadding2D': {
      const [[top, bottom], [left, right]] = cfg.padding as [number, number][];
      return { kind: 'pad', before: [top, left], after: [bottom, right] };
    }
    case 'Concatenate':
      return cfg.axis === -1 || cfg.axis === 3 ? { kind: 'pointwise' } : { kind: 'whole' };
    case 'BatchNormalization':
    case 'ReLU':
    case 'Activation':
    case 'Add':
    case 'Dropout':
    case 'SpatialDropout1D':
    case 'GaussianNoise':
    case 'GaussianDropout':
    case 'AlphaDropout':
      return { kind: 'pointwise' };
    default:
      return { kind: 'whole' };
  }
}

/**
 * The node whose ReLU output only `pool` reads, if its backward can leave
 * the mask to the pool (`Step.unmaskedBackward`).
 */
function reluFeeding(
  pool: tf.layers.Layer,
  nodes: StepNode[],
  consumers: Map<number, tf.layers.Layer[]>,
): StepNode | undefined {
  const [id] = idsOf(pool.input);
  const producer = nodes.find((n) => n.output === id);
  if (producer?.step.unmaskedBackward === undefined) return undefined;
  return consumers.get(id)?.length === 1 ? producer : undefined;
}

/**
 * A linear Conv2D / DepthwiseConv2D whose output only a channels-last batch
 * norm reads, with the plain ReLU that alone reads the batch norm's output,
 * if there is one: the layers `foldedStep` runs as one convolution.
 */
function foldable(
  layer: tf.layers.Layer,
  soleConsumer: (l: tf.layers.Layer, kinds: string[]) => tf.layers.Layer | undefined,
): { bn: tf.layers.Layer; relu?: tf.layers.Layer } | undefined {
  const kind = layer.getClassName();
  if (kind !== 'Conv2D' && kind !== 'DepthwiseConv2D') return undefined;
  if ((layer.getConfig() as Config).activation !== 'linear') return undefined;
  const bn = soleConsumer(layer, ['BatchNormalization']);
  const axis = (bn?.getConfig() as Config | undefined)?.axis;
  if (!bn || (axis !== -1 && axis !== 3)) return undefined;
  const next = soleConsumer(bn, ['ReLU', 'Activation']);
  const nc = next?.getConfig() as Config | undefined;
  const plainRelu =
    nc && (next?.getClassName() === 'ReLU' ? nc.maxValue == null : nc.activation === 'relu');
  return { bn, relu: plainRelu ? next : undefined };
}
