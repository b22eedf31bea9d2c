import type * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../model/classifier.js';
import type { NormName } from '../threat-model/norms.js';
import type { Goal } from '../threat-model/targets.js';

/** What one attack call is given: the model comes separately, the goal here. */
export interface AttackCall {
  /** Pixel-space images [n, h, w, c] inside the model's bounds. Never modified. */
  x: tf.Tensor4D;
  /** True labels, one per image. */
  labels: ArrayLike<number> | tf.Tensor1D;
  /** Untargeted (default) or targeted with a target rule. */
  goal?: Goal;
  /** Seed for random starts and random targets. Default 0. */
  seed?: number;
  /**
   * Global example ids (e.g. positions in the data set). Randomness for an
   * example depends on (seed, id), so a batch equals its examples run one by
   * one. Default 0..n−1.
   */
  indices?: ArrayLike<number>;
}

/** The outcome at one ε. `xAdv` belongs to the caller: dispose it. */
export interface AttackResult {
  epsilon: number;
  xAdv: tf.Tensor4D;
  /** Untargeted: prediction ≠ label. Targeted: prediction = target. */
  success: boolean[];
  /** Prediction on `xAdv` (by the judged model). */
  predicted: number[];
  /** Softmax probability of the prediction. */
  confidence: number[];
  /** Cross-entropy of the true label at `xAdv`. */
  loss: number[];
  /** ‖xAdv − x‖ in the attack's norm. */
  distance: number[];
  /** Target classes, for targeted calls. */
  targets?: number[];
  /** Model queries spent per example, for query-based (black-box) attacks such as Square. */
  queries?: number[];
}

/** Report-ready description of an attack and its resolved hyper-parameters. */
export interface AttackDescription {
  name: string;
  /** Short citation. */
  paper: string;
  norm: NormName;
  loss: string;
  /** "bounds only" or "ε-ball, then bounds". */
  clipping: string;
  /** Whether a surrogate supplies the gradient (transfer attack). */
  transfer: boolean;
  options: Record<string, number | string | boolean>;
}

/**
 * An attack holds its hyper-parameters; the model, inputs and goal come with
 * each call, and ε is always a list (one result per ε).
 */
export interface Attack {
  readonly name: string;
  readonly norm: NormName;
  describe(): AttackDescription;
  run(
    model: Classifier,
    call: AttackCall,
    epsilons: number | readonly number[],
  ): Promise<AttackResult[]>;
}

/** Dispose every `xAdv` of a result list. */
export function disposeResults(results: readonly AttackResult[]): void {
  for (const r of results) r.xAdv.dispose();
}
