/**
 * The model under attack. A `Classifier` wraps a network — a TF.js
 * LayersModel, GraphModel, plain function or query-only model, each read
 * through its adapter in `networks/` — and carries what the threat model
 * needs: input bounds, preprocessing inside the differentiable path, the
 * mode (eval unless asked), the number of classes, and whether the network
 * emits logits or probabilities.
 */
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../errors.js';
import { checkOptionKeys } from '../options.js';
import { type Bounds, checkBounds, DEFAULT_BOUNDS } from '../threat-model/bounds.js';
import type { LayerPlan } from './layer-plan.js';
import { adapterFor, NETWORK_ADAPTERS, type Network } from './networks/index.js';
import type {
  ModelMode,
  NetworkAdapter,
  NetworkKind,
  OutputChoice,
  OutputKind,
} from './networks/types.js';
import { type PreparedPreprocess, type Preprocess, preparePreprocess } from './preprocess.js';
import { PlanMismatch } from './step-graph.js';

export type { ModelFunction, Network, QueryOnlyNetwork } from './networks/index.js';
export type { ModelMode, NetworkKind, OutputKind } from './networks/types.js';

export interface ClassifierOptions {
  /** Pixel bounds of valid inputs. Default [0, 1]. */
  bounds?: readonly number[];
  /** Normalisation or custom preprocessing, differentiated through. */
  preprocess?: Preprocess;
  /** 'eval' (default) runs dropout/batch-norm in inference mode. */
  mode?: ModelMode;
  /**
   * What the network outputs. Default: detected — 'probabilities' when a
   * LayersModel's last layer is a softmax or a GraphModel's graph ends in
   * Softmax (its logits are then read before the softmax), else 'logits'.
   */
  output?: OutputKind;
  /** Expected class count; checked against the network's output. */
  numClasses?: number;
  /** Input shape [h, w, c]; required for a plain function and a query-only model. */
  inputShape?: readonly number[];
  /** Name for reports. */
  name?: string;
}

/** The option names `Classifier.create` accepts (and every model loader). */
export const CLASSIFIER_OPTION_KEYS = [
  'bounds',
  'preprocess',
  'mode',
  'output',
  'numClasses',
  'inputShape',
  'name',
] as const satisfies readonly (keyof ClassifierOptions)[];

export interface ClassifierInfo {
  name: string;
  kind: NetworkKind;
  inputShape: [number, number, number];
  numClasses: number;
  bounds: Bounds;
  mode: ModelMode;
  output: OutputKind;
  /**
   * How `output` was decided, for reports, e.g. "graph ends in Softmax (node
   * 'dense/Softmax'); logits read from its input 'dense/BiasAdd'". An
   * `output` option that agrees with the network gives the same text (a
   * worker thread, which is handed the kind, rebuilds an identical info).
   */
  outputDetection: string;
  /** Set when the `output` option contradicts the network; reports show it as a warning. */
  outputConflict?: string;
  /**
   * True when `output` is 'logits' but the outputs on probe inputs (a blank
   * image at the lower bound and a ramp across the bounds) all lie in
   * [0, 1] and sum to 1, as probabilities do: whatever the kind of model
   * (a function, a converted ONNX graph), reports warn.
   */
  outputLooksLikeProbabilities?: true;
  preprocessing: string;
}

/** Slack for a float32 softmax's range and row sums. */
const PROBABILITY_SLACK = 1e-4;

/** Whether every row of `z` lies in [0, 1] and sums to 1, up to float32 rounding. */
function isDistribution(z: tf.Tensor): boolean {
  return tf.tidy(() => {
    const f = tf.cast(z, 'float32');
    const sums = tf.sum(f, -1);
    const [min, max, worst] = tf
      .stack([tf.min(f), tf.max(f), tf.max(tf.abs(tf.sub(sums, 1)))])
      .dataSync();
    return min >= -PROBABILITY_SLACK && max <= 1 + PROBABILITY_SLACK && worst <= PROBABILITY_SLACK;
  });
}

/**
 * Whether the outputs on a blank image at the lower bound (`blank`, already
 * computed by the class count's probe) and on a ramp across the bounds are
 * both distributions. One input at a time: some graphs have a fixed batch of
 * one. Call it inside a tidy (the ramp's tensors are left to it).
 */
function outputsLookLikeProbabilities(
  blank: tf.Tensor,
  forward: (x: tf.Tensor4D) => tf.Tensor,
  pre: PreparedPreprocess,
  inputShape: readonly [number, number, number],
  [lo, hi]: Bounds,
): boolean {
  if (!isDistribution(blank)) return false;
  const d = inputShape[0] * inputShape[1] * inputShape[2];
  return isDistribution(
    forward(pre.apply(tf.reshape(tf.linspace(lo, hi, d), [1, ...inputShape]) as tf.Tensor4D)),
  );
}

export class Classifier {
  readonly info: ClassifierInfo;
  /** The forward pass and head its adapter chose. */
  private readonly choice: OutputChoice;
  private readonly pre: PreparedPreprocess;
  /** The wrapped network, for checksums and saving. */
  readonly network: Network;
  /**
   * The `preprocess` option it was created with (undefined: none), so the
   * classifier can be created again elsewhere, e.g. in a worker thread.
   */
  readonly preprocess: Preprocess | undefined;
  /** The adapter of the network's kind (`networks/`): plan, checksum, worker transfer. */
  readonly adapter: NetworkAdapter<unknown>;

  private constructor(
    network: Network,
    adapter: NetworkAdapter<unknown>,
    info: ClassifierInfo,
    choice: OutputChoice,
    pre: PreparedPreprocess,
    preprocess: Preprocess | undefined,
  ) {
    this.network = network;
    this.adapter = adapter;
    this.info = info;
    this.choice = choice;
    this.pre = pre;
    this.preprocess = preprocess;
  }

  /**
   * Wrap a network. Runs one forward pass on a blank input to learn (and
   * check) the number of classes.
   */
  static create(network: Network, options: ClassifierOptions = {}): Classifier {
    checkOptionKeys(options, CLASSIFIER_OPTION_KEYS, 'Classifier options');
    const bounds = checkBounds(options.bounds ?? DEFAULT_BOUNDS);
    const mode = options.mode ?? 'eval';
    if (mode !== 'eval' && mode !== 'train') {
      throw new InputError(
        'INVALID_OPTION',
        `mode must be 'eval' or 'train'; received ${JSON.stringify(mode)}`,
      );
    }
    const forced = options.output;
    if (forced !== undefined && forced !== 'logits' && forced !== 'probabilities') {
      throw new InputError(
        'INVALID_OPTION',
        `output must be 'logits' or 'probabilities' (or unset, to detect it); received ${JSON.stringify(forced)}`,
      );
    }
    const adapter = adapterFor(network);
    if (!adapter) {
      throw new InputError(
        'INVALID_OPTION',
        `network must be ${NETWORK_ADAPTERS.map((a) => a.accepts).join(', ')}; received ${network === null ? 'null' : typeof network}`,
      );
    }
    adapter.check?.(network, { mode });
    const kind = adapter.kind;
    const shapeFromModel = adapter.inputShape(network);
    const given = options.inputShape ? [...options.inputShape] : undefined;
    if (given && (given.length !== 3 || !given.every((d) => Number.isInteger(d) && d > 0))) {
      throw new InputError(
        'INVALID_SHAPE',
        `inputShape must be [height, width, channels]; received [${given}]`,
      );
    }
    if (given && shapeFromModel && given.join() !== shapeFromModel.join()) {
      throw new InputError(
        'INVALID_SHAPE',
        `inputShape [${given}] does not match the model's input [${shapeFromModel}]`,
      );
    }
    const inputShape = (given ?? shapeFromModel) as [number, number, number] | undefined;
    if (!inputShape) {
      throw new InputError(
        'INVALID_SHAPE',
        'cannot tell the input shape of this model; pass inputShape: [height, width, channels]',
      );
    }
    const pre = preparePreprocess(options.preprocess, inputShape[2]);
    const probeShape = (f: (x: tf.Tensor4D) => tf.Tensor) =>
      tf.tidy(() => {
        const probe = tf.fill([1, ...inputShape], bounds[0]) as tf.Tensor4D;
        return f(pre.apply(probe)).shape;
      });
    // Whatever fails from here (a probe that throws included) frees the preprocessing's constants.
    try {
      const choice = adapter.output(network, {
        mode,
        forced,
        width: (f) => probeShape(f)[1] ?? 0,
      });
      const { forward, head } = choice;
      const { numClasses, looksLikeProbabilities } = tf.tidy(() => {
        // The blank probe's output: its shape gives the class count, its values feed the probability check.
        const blank = forward(pre.apply(tf.fill([1, ...inputShape], bounds[0]) as tf.Tensor4D));
        const outShape = [...blank.shape];
        if (head === 'binary' && outShape.length === 2) outShape[1] = 2;
        if (outShape.length !== 2 || outShape[0] !== 1) {
          throw new InputError(
            'INVALID_SHAPE',
            `the model must output [batch, classes]; it output [${outShape}] for one input`,
          );
        }
        const numClasses = outShape[1];
        if (options.numClasses !== undefined && options.numClasses !== numClasses) {
          throw new InputError(
            'CLASS_COUNT_MISMATCH',
            `expected ${options.numClasses} classes but the model outputs ${numClasses}`,
          );
        }
        if (numClasses < 2) {
          throw new InputError(
            'CLASS_COUNT_MISMATCH',
            `a classifier needs at least 2 output classes; the model outputs ${numClasses} (wrap a single-logit model as logits [0, z])`,
          );
        }
        return {
          numClasses,
          looksLikeProbabilities:
            choice.output === 'logits' &&
            outputsLookLikeProbabilities(blank, forward, pre, inputShape, bounds),
        };
      });
      const info: ClassifierInfo = {
        name: options.name ?? adapter.name(network),
        kind,
        inputShape,
        numClasses,
        bounds,
        mode,
        output: choice.output,
        outputDetection: choice.detection,
        ...(choice.conflict ? { outputConflict: choice.conflict } : {}),
        ...(looksLikeProbabilities ? { outputLooksLikeProbabilities: true } : {}),
        preprocessing: pre.description,
      };
      return new Classifier(network, adapter, info, choice, pre, options.preprocess);
    } catch (e) {
      pre.dispose();
      throw e;
    }
  }

  get bounds(): Bounds {
    return this.info.bounds;
  }
  get numClasses(): number {
    return this.info.numClasses;
  }
  get inputShape(): [number, number, number] {
    return this.info.inputShape;
  }

  /**
   * Logits of pixel-space inputs, differentiable. A network that outputs
   * probabilities yields log-probabilities, which softmax maps back to the
   * same probabilities, so no softmax is ever applied twice.
   */
  logits(x: tf.Tensor4D): tf.Tensor2D {
    const plan = this.plan();
    // Under a gradient tape the plan's kernels (which have no gradients of
    // their own) must not run: the tape needs TF.js's ops.
    if (plan && tf.engine().state.gradientDepth === 0) {
      try {
        return tf.tidy(() => {
          const out = plan.forward(this.networkInput(x));
          return this.logitsFromOutput(plan.outputSoftmax ? tf.softmax(out) : out);
        });
      } catch (e) {
        if (!(e instanceof PlanMismatch)) throw e;
      }
    }
    return tf.tidy(() => this.logitsFromOutput(this.choice.forward(this.networkInput(x))));
  }

  /**
   * Whether the network has a gradient: false for a query-only model, on
   * which gradient attacks refuse to run (NOT_DIFFERENTIABLE).
   */
  get differentiable(): boolean {
    return this.adapter.differentiable;
  }

  /**
   * The network's layer plan (`layer-plan.ts`), as its adapter gives it:
   * for a tfjs-layers model in 'eval' mode whose layers all have steps;
   * else undefined.
   */
  plan(): LayerPlan | undefined {
    return this.adapter.plan(this.network, this.info.mode, this.choice);
  }

  /** The network's input for pixel-space `x`: `x` preprocessed (`x` itself without preprocessing). */
  networkInput(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.pre.apply(x));
  }

  /**
   * The gradient with respect to pixel-space `x` from `dInput`, the gradient
   * with respect to `networkInput(x)`: the preprocessing's vector-Jacobian
   * product, in closed form for mean/std normalisation (one multiply, where
   * a taped pass re-runs the preprocessing), by TF.js's autodiff for custom
   * preprocessing.
   */
  networkInputBackward(x: tf.Tensor4D, dInput: tf.Tensor4D): tf.Tensor4D {
    const closed = this.pre.backward;
    if (closed) return tf.tidy(() => closed(dInput));
    return tf.grad((xi) => tf.sum(tf.mul(this.networkInput(xi as tf.Tensor4D), dInput)))(
      x,
    ) as tf.Tensor4D;
  }

  /**
   * `logits` from the forward pass's tensor: log-probabilities for a
   * probability output, [0, z] for a binary classifier's single logit. (A
   * graph that ends in Softmax is read before the softmax, so its tensor is
   * logits already.)
   */
  logitsFromOutput(out: tf.Tensor): tf.Tensor2D {
    return tf.tidy((): tf.Tensor2D => {
      const f = out.dtype === 'float32' ? out : tf.cast(out, 'float32');
      const { head } = this.choice;
      if (head === 'log') return tf.log(tf.maximum(f, 1e-30)) as tf.Tensor2D;
      if (head === 'binary') return tf.concat([tf.zerosLike(f), f], 1) as tf.Tensor2D;
      return f as tf.Tensor2D;
    });
  }

  /** Predicted class and its softmax probability, per example. */
  async predict(x: tf.Tensor4D): Promise<{ labels: Int32Array; confidence: Float32Array }> {
    const [lab, conf] = tf.tidy(() => {
      const p = tf.softmax(this.logits(x));
      return [tf.argMax(p, 1), tf.max(p, 1)];
    });
    const labels = new Int32Array(await lab.data());
    const confidence = new Float32Array(await conf.data());
    lab.dispose();
    conf.dispose();
    return { labels, confidence };
  }

  /** Frees tensors the classifier owns (not the wrapped network). */
  dispose(): void {
    this.pre.dispose();
  }
}
