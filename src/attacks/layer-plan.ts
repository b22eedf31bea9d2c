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
 * Plans exist for graphs of the layers in `makers` below, with one input,
 * one output and no layer called twice; any other model, or a configuration
 * a maker declines (dilation, channels-first, an unknown activation), has no
 * plan, and attacks use TF.js's autodiff as before. Values agree with the
 * autodiff gradient up to float rounding (a fused kernel adds the bias
 * inside the convolution).
 */
import * as tf from '@tensorflow/tfjs';
import { type ClipMask, clipGradient, RELU_MASK } from '../backend/clip-grad.js';
import {
  FOLDED_CONV,
  FOLDED_CONV_INPUT_GRAD,
  type FoldedConvAttrs,
} from '../backend/folded-conv.js';
import { advkitKernelsInUse } from '../backend/register.js';

/** One layer call. Tensors in `saved` belong to the pass. */
interface Step {
  forward(xs: tf.Tensor[]): { y: tf.Tensor; saved: tf.Tensor[] };
  /** Gradients for the inputs (new tensors); `dy` stays the caller's. */
  backward(dy: tf.Tensor, saved: tf.Tensor[], inShapes: number[][]): tf.Tensor[];
}

interface Node {
  name: string;
  step: Step;
  inputs: number[];
  output: number;
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
  run(x: tf.Tensor4D): LayerPass;
  /** The model ends in a softmax that `output` leaves for the caller to apply. */
  outputSoftmax: boolean;
  /** Layer names in execution order (for tests and diagnostics). */
  layers: string[];
}

const plans = new WeakMap<tf.LayersModel, LayerPlan | string>();
let enabled = true;

/**
 * Turn plans off (or back on), to compare with TF.js's autodiff. Plans are
 * also off while `useKernels('stock')` is in effect.
 */
export function useLayerPlans(on: boolean): void {
  enabled = on;
}

/** The model's plan, or undefined when some layer has none. */
export function layerPlan(model: tf.LayersModel): LayerPlan | undefined {
  if (!enabled || !advkitKernelsInUse()) return undefined;
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

/* ---------- activations ---------- */

type Activation = 'linear' | 'relu' | 'relu6' | 'sigmoid' | 'tanh';
const ACTIVATIONS: readonly string[] = ['linear', 'relu', 'relu6', 'sigmoid', 'tanh'];
/** Fused by TF.js's kernels, with a gradient that is a function of the output. */
type Fusable = 'linear' | 'relu' | 'sigmoid';
const FUSABLE: readonly string[] = ['linear', 'relu', 'sigmoid'] satisfies Fusable[];
const RELU6_MASK: ClipMask = { min: 0, max: 6, openMin: true };

function activate(a: Activation, z: tf.Tensor): tf.Tensor {
  switch (a) {
    case 'linear':
      return tf.clone(z);
    case 'relu':
      return tf.relu(z);
    case 'relu6':
      return tf.relu6(z);
    case 'sigmoid':
      return tf.sigmoid(z);
    case 'tanh':
      return tf.tanh(z);
  }
}

/**
 * The gradient through activation `a`. `s` is its output, except for relu6,
 * whose mask needs the input (x = 6 and x > 6 both give 6). relu's output is
 * positive exactly where its input is, so its mask is TF.js's.
 */
function activationGrad(a: Activation, dy: tf.Tensor, s: tf.Tensor | undefined): tf.Tensor {
  if (a === 'linear' || s === undefined) return tf.clone(dy);
  if (a === 'relu') return clipGradient(dy, s, RELU_MASK);
  if (a === 'relu6') return clipGradient(dy, s, RELU6_MASK);
  return tf.tidy(() =>
    a === 'sigmoid' ? tf.mul(dy, tf.mul(s, tf.sub(1, s))) : tf.mul(dy, tf.sub(1, tf.square(s))),
  );
}

/**
 * A convolution or dense layer: its linear map `f` (fused with the bias and,
 * when the gradient allows, the activation) and the map's input gradient.
 */
function linearStep(
  act: Activation,
  f: (x: tf.Tensor, fused: Fusable) => tf.Tensor,
  inputGrad: (dz: tf.Tensor, xShape: number[]) => tf.Tensor,
): Step {
  const fused = FUSABLE.includes(act);
  return {
    forward([x]) {
      if (fused) {
        const y = f(x, act as Fusable);
        return { y, saved: act === 'linear' ? [] : [y] };
      }
      const z = f(x, 'linear');
      const y = activate(act, z);
      if (act === 'relu6') return { y, saved: [z] };
      z.dispose();
      return { y, saved: [y] };
    },
    backward(dy, [s], [xShape]) {
      const dz = act === 'linear' ? dy : activationGrad(act, dy, s);
      const dx = inputGrad(dz, xShape);
      if (dz !== dy) dz.dispose();
      return [dx];
    },
  };
}

/* ---------- layers ---------- */

type Config = Record<string, unknown>;
type Pair = [number, number];
/** A step for the layer, or why there is none. */
type Maker = (cfg: Config, weights: tf.Tensor[], last: boolean) => Step | string;

const pair = (v: unknown): Pair | undefined => {
  if (Number.isInteger(v)) return [v as number, v as number];
  if (Array.isArray(v) && v.length === 2 && v.every((n) => Number.isInteger(n))) return v as Pair;
  return undefined;
};
const padOf = (v: unknown): 'valid' | 'same' | undefined =>
  v === 'valid' || v === 'same' ? v : undefined;

/** The activation option of a conv / dense layer, or why it is not planned. */
function activationOption(cfg: Config): Activation | string {
  const a = cfg.activation ?? 'linear';
  return typeof a === 'string' && ACTIVATIONS.includes(a)
    ? (a as Activation)
    : `activation ${JSON.stringify(a)}`;
}

function convOptions(cfg: Config): { strides: Pair; pad: 'valid' | 'same' } | string {
  const strides = pair(cfg.strides);
  const pad = padOf(cfg.padding);
  const dilation = pair(cfg.dilationRate ?? 1);
  if (!strides || !pad) return `strides ${cfg.strides}, padding ${cfg.padding}`;
  // TF.js's input-gradient ops take no dilation.
  if (dilation?.[0] !== 1 || dilation[1] !== 1) return `dilation ${cfg.dilationRate}`;
  if ((cfg.dataFormat ?? 'channelsLast') !== 'channelsLast') return `${cfg.dataFormat}`;
  return { strides, pad };
}

const passThrough: Step = {
  forward: ([x]) => ({ y: tf.clone(x), saved: [] }),
  backward: (dy) => [tf.clone(dy)],
};

const makers: Record<string, Maker> = {
  Conv2D(cfg, [kernel, bias]) {
    const o = convOptions(cfg);
    const act = activationOption(cfg);
    if (typeof o === 'string') return o;
    if (typeof act === 'string' && !ACTIVATIONS.includes(act)) return act;
    const filter = kernel as tf.Tensor4D;
    return linearStep(
      act as Activation,
      (x, activation) =>
        tf.fused.conv2d({
          x: x as tf.Tensor4D,
          filter,
          strides: o.strides,
          pad: o.pad,
          bias: cfg.useBias ? bias : undefined,
          activation,
        }),
      (dz, xShape) =>
        tf.conv2dTranspose(
          dz as tf.Tensor4D,
          filter,
          xShape as [number, number, number, number],
          o.strides,
          o.pad,
        ),
    );
  },

  DepthwiseConv2D(cfg, [kernel, bias]) {
    const o = convOptions(cfg);
    const act = activationOption(cfg);
    if (typeof o === 'string') return o;
    if (typeof act === 'string' && !ACTIVATIONS.includes(act)) return act;
    const filter = kernel as tf.Tensor4D;
    return linearStep(
      act as Activation,
      (x, activation) =>
        tf.fused.depthwiseConv2d({
          x: x as tf.Tensor4D,
          filter,
          strides: o.strides,
          pad: o.pad,
          bias: cfg.useBias ? bias : undefined,
          activation,
        }),
      (dz, xShape) =>
        tf
          .engine()
          .runKernel(
            tf.DepthwiseConv2dNativeBackpropInput,
            { dy: dz, filter },
            { strides: o.strides, pad: o.pad, dilations: [1, 1], inputShape: xShape },
          ) as tf.Tensor,
    );
  },

  Dense(cfg, [kernel, bias], last) {
    let act = activationOption(cfg);
    // A final softmax is left to the caller (see `outputSoftmax`).
    if (last && cfg.activation === 'softmax') act = 'linear';
    if (typeof act === 'string' && !ACTIVATIONS.includes(act)) return act;
    const w = kernel as tf.Tensor2D;
    return linearStep(
      act as Activation,
      (x, activation) => {
        if (x.rank !== 2) throw new PlanMismatch(`Dense on a rank-${x.rank} input`);
        return tf.fused.matMul({
          a: x as tf.Tensor2D,
          b: w,
          bias: cfg.useBias ? bias : undefined,
          activation,
        });
      },
      (dz) => tf.matMul(dz as tf.Tensor2D, w, false, true),
    );
  },

  BatchNormalization(cfg, weights) {
    if (cfg.axis !== -1 && cfg.axis !== 3) return `batch norm on axis ${cfg.axis}`;
    const { gamma, beta, mean, variance, eps } = batchNormWeights(cfg, weights);
    return {
      forward: ([x]) => ({
        y: tf.batchNorm(x as tf.Tensor4D, mean, variance, beta, gamma, eps),
        saved: [],
      }),
      // dy·γ/√(σ² + ε) is batch norm with mean 0 and no offset, which runs
      // as one fast kernel; a broadcast multiply is several times slower on wasm.
      backward: (dy) => [
        tf.tidy(() =>
          tf.batchNorm(dy as tf.Tensor4D, tf.zerosLike(mean), variance, undefined, gamma, eps),
        ),
      ],
    };
  },

  ReLU(cfg) {
    const max = cfg.maxValue;
    if (max == null) return activationStep('relu');
    if (typeof max !== 'number') return `maxValue ${max}`;
    // tfjs-layers clips relu(x): the gradient passes 0 < x ≤ max.
    const mask: ClipMask = { min: 0, max, openMin: true };
    return {
      forward: ([x]) => ({ y: tf.clipByValue(x, 0, max), saved: [x] }),
      backward: (dy, [x]) => [clipGradient(dy, x, mask)],
    };
  },

  Activation(cfg, _w, last) {
    if (last && cfg.activation === 'softmax') return passThrough;
    const a = activationOption(cfg);
    if (!ACTIVATIONS.includes(a)) return a;
    return activationStep(a as Activation);
  },

  MaxPooling2D(cfg) {
    const size = pair(cfg.poolSize);
    const strides = pair(cfg.strides ?? cfg.poolSize);
    const pad = padOf(cfg.padding);
    if (!size || !strides || !pad || cfg.dataFormat !== 'channelsLast') return 'pooling options';
    return {
      forward: ([x]) => {
        const y = tf.maxPool(x as tf.Tensor4D, size, strides, pad);
        return { y, saved: [x, y] };
      },
      backward: (dy, [x, y]) => [
        tf
          .engine()
          .runKernel(
            tf.MaxPoolGrad,
            { dy, input: x, output: y },
            { filterSize: size, strides, pad },
          ) as tf.Tensor,
      ],
    };
  },

  AveragePooling2D(cfg) {
    const size = pair(cfg.poolSize);
    const strides = pair(cfg.strides ?? cfg.poolSize);
    const pad = padOf(cfg.padding);
    if (!size || !strides || !pad || cfg.dataFormat !== 'channelsLast') return 'pooling options';
    return {
      forward: ([x]) => ({ y: tf.avgPool(x as tf.Tensor4D, size, strides, pad), saved: [x] }),
      backward: (dy, [x]) => [
        tf
          .engine()
          .runKernel(
            tf.AvgPoolGrad,
            { dy, input: x },
            { filterSize: size, strides, pad },
          ) as tf.Tensor,
      ],
    };
  },

  GlobalAveragePooling2D(cfg) {
    if ((cfg.dataFormat ?? 'channelsLast') !== 'channelsLast') return `${cfg.dataFormat}`;
    return {
      forward: ([x]) => ({ y: tf.mean(x, [1, 2]), saved: [] }),
      // Spread dy/(h·w) over the window: a 1×1 → h×w nearest-neighbour resize
      // is one pass (broadcastTo's Tile is ~80× slower on wasm).
      backward: (dy, _s, [[n, h, w, c]]) => [
        tf.tidy(() =>
          tf.image.resizeNearestNeighbor(
            tf.reshape(tf.mul(dy, 1 / (h * w)), [n, 1, 1, c]) as tf.Tensor4D,
            [h, w],
          ),
        ),
      ],
    };
  },

  Flatten: () => reshapeStep((x) => [x.shape[0], -1]),

  Reshape(cfg) {
    const target = cfg.targetShape;
    if (!Array.isArray(target)) return 'target shape';
    return reshapeStep((x) => [x.shape[0], ...(target as number[])]);
  },

  ZeroPadding2D(cfg) {
    const p = cfg.padding as [Pair, Pair] | undefined;
    if (cfg.dataFormat !== 'channelsLast' || !Array.isArray(p) || !p.every((q) => pair(q)))
      return 'padding options';
    const [[top, bottom], [left, right]] = p;
    return {
      forward: ([x]) => ({
        y: tf.pad(x, [
          [0, 0],
          [top, bottom],
          [left, right],
          [0, 0],
        ]),
        saved: [],
      }),
      backward: (dy, _s, [shape]) => [tf.slice(dy, [0, top, left, 0], shape)],
    };
  },

  Add: () => ({
    forward: (xs) => ({ y: xs.length === 2 ? tf.add(xs[0], xs[1]) : tf.addN(xs), saved: [] }),
    backward: (dy, _s, shapes) => shapes.map(() => tf.clone(dy)),
  }),

  Concatenate(cfg) {
    const axis = cfg.axis as number;
    return {
      forward: (xs) => ({ y: tf.concat(xs, axis), saved: [] }),
      backward: (dy, _s, shapes) => {
        const a = axis < 0 ? dy.rank + axis : axis;
        return tf.split(
          dy,
          shapes.map((s) => s[a]),
          a,
        );
      },
    };
  },

  // Inference mode: these are the identity.
  Dropout: () => passThrough,
  SpatialDropout1D: () => passThrough,
  GaussianNoise: () => passThrough,
  GaussianDropout: () => passThrough,
  AlphaDropout: () => passThrough,
};

/** γ, β, μ, σ² of a batch-norm layer (γ and β absent with `scale` / `center` false). */
function batchNormWeights(cfg: Config, weights: tf.Tensor[]) {
  const w = [...weights];
  const gamma = cfg.scale ? w.shift() : undefined;
  const beta = cfg.center ? w.shift() : undefined;
  const [mean, variance] = w as tf.Tensor1D[];
  return { gamma, beta, mean, variance, eps: cfg.epsilon as number };
}

const defined = (m: Record<string, tf.Tensor | undefined>): tf.NamedTensorMap =>
  Object.fromEntries(Object.entries(m).filter(([, t]) => t !== undefined)) as tf.NamedTensorMap;

/**
 * Conv2D / DepthwiseConv2D (linear) → BatchNormalization (→ ReLU) as one
 * convolution with the batch norm folded into its weights (`folded-conv.ts`).
 */
function foldedStep(
  conv: { cfg: Config; weights: tf.Tensor[]; depthwise: boolean },
  bn: { cfg: Config; weights: tf.Tensor[] },
  relu: boolean,
): Step | string {
  const o = convOptions(conv.cfg);
  if (typeof o === 'string') return o;
  const [filter, bias] = conv.weights;
  const { gamma, beta, mean, variance, eps } = batchNormWeights(bn.cfg, bn.weights);
  const attrs: FoldedConvAttrs = {
    strides: o.strides,
    pad: o.pad,
    eps,
    depthwise: conv.depthwise,
    activation: relu ? 'relu' : 'linear',
  };
  const inputs = { filter, bias: conv.cfg.useBias ? bias : undefined, mean, variance };
  return {
    forward([x]) {
      if (tf.getKernel(FOLDED_CONV, tf.getBackend()) == null)
        throw new PlanMismatch(`no ${FOLDED_CONV} kernel on ${tf.getBackend()}`);
      const y = tf
        .engine()
        .runKernel(
          FOLDED_CONV,
          defined({ x, ...inputs, scale: gamma, offset: beta }),
          attrs as unknown as tf.NamedAttrMap,
        ) as tf.Tensor;
      return { y, saved: relu ? [y] : [] };
    },
    backward(dy, [y], [xShape]) {
      const dz = relu ? clipGradient(dy, y, RELU_MASK) : dy;
      const dx = tf
        .engine()
        .runKernel(FOLDED_CONV_INPUT_GRAD, defined({ dy: dz, filter, variance, scale: gamma }), {
          ...attrs,
          inputShape: xShape,
        } as unknown as tf.NamedAttrMap) as tf.Tensor;
      if (dz !== dy) dz.dispose();
      return [dx];
    },
  };
}

function activationStep(a: Activation): Step {
  return {
    forward([x]) {
      const y = activate(a, x);
      return { y, saved: a === 'linear' ? [] : [a === 'relu6' ? x : y] };
    },
    backward: (dy, [s]) => [activationGrad(a, dy, s)],
  };
}

function reshapeStep(shape: (x: tf.Tensor) => number[]): Step {
  return {
    forward: ([x]) => ({ y: tf.reshape(x, shape(x)), saved: [] }),
    backward: (dy, _s, [xShape]) => [tf.reshape(dy, xShape)],
  };
}

/** A layer met an input its step does not handle; the plan is dropped. */
class PlanMismatch extends Error {}

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
  const nodes: Node[] = [];
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
      });
      continue;
    }
    const maker = makers[kind];
    if (!maker) return `no plan for ${kind} layers (${layer.name})`;
    const out = idsOf(layer.output);
    if (out.length !== 1) return `layer ${layer.name} has several outputs`;
    const cfg = layer.getConfig() as Config;
    const last = out[0] === output;
    const step = maker(cfg, layer.getWeights(), last);
    if (typeof step === 'string') return `${layer.name}: ${step}`;
    if (last && cfg.activation === 'softmax') outputSoftmax = true;
    nodes.push({ name: layer.name, step, inputs: idsOf(layer.input), output: out[0] });
  }
  const order = topological(nodes, input);
  if (typeof order === 'string') return order;
  if (!order.some((n) => n.output === output) && output !== input)
    return 'the output is not computed from the input';
  return {
    outputSoftmax,
    layers: order.map((n) => n.name),
    run: (x) => runPass(order, input, output, x),
  };
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

function topological(nodes: Node[], input: number): Node[] | string {
  const ready = new Set([input]);
  const order: Node[] = [];
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

function runPass(order: Node[], input: number, output: number, x: tf.Tensor4D): LayerPass {
  // Values are freed once their last consumer has run, unless a step saved
  // them; saved tensors are counted and freed once no step needs them.
  const values = new Map<number, tf.Tensor>([[input, x]]);
  const uses = new Map<number, number>();
  for (const n of order) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  const records: { node: Node; saved: tf.Tensor[]; shapes: number[][] }[] = [];
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
      for (const t of saved) savedBy.set(t, (savedBy.get(t) ?? 0) + 1);
      records.push({ node, saved, shapes: xs.map((t) => t.shape) });
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
        const dx = grads.get(input) ?? tf.zerosLike(x);
        grads.delete(input);
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

export { PlanMismatch };
