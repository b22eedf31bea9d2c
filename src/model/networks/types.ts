/**
 * The model-adapter seam: what advkit needs to know about one kind of
 * network (a TF.js LayersModel, a GraphModel, a function, a query-only
 * model, an ONNX graph). `Classifier.create` asks the adapters in
 * `index.ts` in turn which one recognises the network and reads everything
 * kind-specific through it, so a new kind is one file here and one row in
 * that table.
 */
import type * as tf from '@tensorflow/tfjs';
import type { LayerPlan } from '../layer-plan.js';

export type ModelMode = 'eval' | 'train';
export type OutputKind = 'logits' | 'probabilities';

/** The kinds `ClassifierInfo.kind` reports (the first three strings predate the seam). */
export type NetworkKind = 'layers-model' | 'graph-model' | 'function' | 'query' | 'onnx';

/**
 * How the forward pass's tensor becomes logits: as it is, log of
 * probabilities, or a binary classifier's single logit z as [0, z]
 * (softmax([0, z]) = [1 − σ(z), σ(z)]).
 */
export type Head = 'logits' | 'log' | 'binary';

/** The forward pass an adapter chose and what it found the network outputs. */
export interface OutputChoice {
  forward: (x: tf.Tensor4D) => tf.Tensor;
  head: Head;
  output: OutputKind;
  /** How `output` was decided, for reports. */
  detection: string;
  /** Set when the `output` option contradicts the network. */
  conflict?: string;
  /**
   * The forward pass reads the input of the network's final activation
   * (a Softmax or Sigmoid read before it): a plan must stop there too.
   */
  beforeActivation?: true;
}

export interface OutputContext {
  mode: ModelMode;
  /** The `output` option, when given. */
  forced: OutputKind | undefined;
  /** The class count `f` gives on one blank (preprocessed) input: lets an adapter probe raw outputs. */
  width: (f: (x: tf.Tensor4D) => tf.Tensor) => number;
}

/**
 * How an evaluation worker thread gets its own copy of the network: `send`
 * turns it into structured-cloneable data, `receive` (in the worker) makes
 * the network again. A kind that cannot travel says why instead.
 */
export type WorkerTransfer<N> =
  | {
      send(network: N, name: string): Promise<unknown>;
      receive(payload: unknown): Promise<N>;
    }
  | { refused: string };

export interface NetworkAdapter<N = unknown> {
  readonly kind: NetworkKind;
  /** What the adapter takes, for the error listing every kind, e.g. "a tf.LayersModel". */
  readonly accepts: string;
  /** Whether this adapter handles `network` (asked in table order). */
  recognise(network: unknown): network is N;
  /**
   * False for a model one can only query: gradient attacks and diagnostics
   * refuse it with NOT_DIFFERENTIABLE.
   */
  readonly differentiable: boolean;
  /** Checks the options that this kind refuses (e.g. 'train' mode of a graph); throws InputError. */
  check?(network: N, options: { mode: ModelMode }): void;
  /** The network's fixed input [h, w, c], when it declares one. */
  inputShape(network: N): number[] | undefined;
  /** The name reports use when none is given. */
  name(network: N): string;
  /** The forward pass and output detection (may throw InputError for an unusable output). */
  output(network: N, context: OutputContext): OutputChoice;
  /**
   * A layer plan (fast input gradients) of the forward pass `output` chose,
   * or undefined to use TF.js's autodiff.
   */
  plan(network: N, mode: ModelMode, output: OutputChoice): LayerPlan | undefined;
  /** sha256 hex of the network's definition and weights, or null when they cannot be read back. */
  checksum(network: N): Promise<string | null>;
  readonly transfer: WorkerTransfer<N>;
}
