/**
 * The shared ε driver. It validates the call, resolves targets, then for each
 * ε asks the attack for one perturbed batch, enforces the threat model
 * (ε-ball, then bounds) once more, and judges the result on the model. An
 * attack author writes only `perturb` for a single ε.
 */
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../errors.js';
import { Classifier } from '../model/classifier.js';
import { validateEpsilons, validateImages, validateLabels } from '../model/validate.js';
import { checkOptionKeys } from '../options.js';
import { clipToBounds } from '../threat-model/bounds.js';
import { checkLoss, crossEntropy, type LossName } from '../threat-model/losses.js';
import { getNorm, type Norm, type NormName } from '../threat-model/norms.js';
import { checkSeed } from '../threat-model/rng.js';
import { checkGoal, type Goal, resolveTargets } from '../threat-model/targets.js';
import { gradientLoop, type LoopConfig } from './gradient-loop.js';
import type { Attack, AttackCall, AttackDescription, AttackResult } from './types.js';

/** Everything a single-ε perturbation needs; tensors are owned by the driver. */
export interface AttackContext {
  model: Classifier;
  /** The model whose gradient is used: a surrogate, or `model` itself. */
  attacker: Classifier;
  x: tf.Tensor4D;
  labels: Int32Array;
  labelsT: tf.Tensor1D;
  targets?: Int32Array;
  targetsT?: tf.Tensor1D;
  goal: Goal;
  seed: number;
  indices: Int32Array;
}

/** A perturbed batch with the model queries each example cost (query-based attacks). */
export interface Perturbed {
  xAdv: tf.Tensor4D;
  queries: number[];
}

/**
 * What a query attack refuses before its options are read: a surrogate (it
 * differentiates nothing, so a transfer source would be silently unused) and
 * the L1 norm (the query attacks' windows and draws exist for L∞ and L2).
 */
export function checkQueryAttackOptions(attack: string, options: object): void {
  if ((options as { surrogate?: unknown }).surrogate !== undefined) {
    throw new InputError(
      'INVALID_OPTION',
      `${attack} takes no surrogate: it queries only the attacked model and uses no gradient`,
    );
  }
  if ((options as { norm?: unknown }).norm === 'l1') {
    throw new InputError(
      'UNKNOWN_NORM',
      `${attack} supports the norms 'linf' and 'l2'; received 'l1'`,
    );
  }
}

export interface BaseOptions {
  /** Threat-model norm. Default 'linf'. */
  norm?: NormName;
  /** Loss the attack ascends: 'ce' (default), 'cw' or 'dlr'. */
  loss?: LossName;
  /** Take gradients from this model instead (transfer attack); results are judged on the attacked model. */
  surrogate?: Classifier;
}

/** The option names every attack on this driver accepts; each attack adds its own. */
export const BASE_OPTION_KEYS = [
  'norm',
  'loss',
  'surrogate',
] as const satisfies readonly (keyof BaseOptions)[];

export abstract class FixedEpsilonAttack implements Attack {
  abstract readonly name: string;
  readonly norm: NormName;
  protected readonly normImpl: Norm;
  protected readonly loss: LossName;
  protected readonly surrogate?: Classifier;
  /**
   * Whether `perturb` differentiates the attacker; false for the query
   * attacks, which alone run on a query-only model (the registry's
   * `needsGradient` column says the same, and a test holds them together).
   */
  protected readonly needsGradient: boolean = true;

  /**
   * `ownKeys` are the option names the attack accepts beyond
   * `BASE_OPTION_KEYS`; any other name is an INVALID_OPTION error here, so
   * a misspelt option is never silently dropped.
   */
  constructor(options: BaseOptions = {}, ownKeys: readonly string[] = []) {
    checkOptionKeys(options, [...BASE_OPTION_KEYS, ...ownKeys], `${new.target.name} options`);
    this.normImpl = getNorm(options.norm ?? 'linf');
    this.norm = this.normImpl.name;
    this.loss = checkLoss(options.loss ?? 'ce');
    if (options.surrogate !== undefined && !(options.surrogate instanceof Classifier)) {
      throw new InputError(
        'INVALID_OPTION',
        `surrogate must be a Classifier (Classifier.create or a loader); received ${typeof options.surrogate}`,
      );
    }
    this.surrogate = options.surrogate;
  }

  abstract describe(): AttackDescription;

  /**
   * One perturbed batch at `eps` > 0, in the ε-ball and the bounds; a
   * query-based attack also returns its per-example query counts.
   */
  protected abstract perturb(ctx: AttackContext, eps: number): Promise<tf.Tensor4D | Perturbed>;

  /**
   * Run the shared gradient loop with this attack's norm and loss; a preset
   * names only what differs from one plain step from x (steps 1, no random
   * start, one restart, last iterate).
   */
  protected loop(
    ctx: AttackContext,
    eps: number,
    preset: Pick<LoopConfig, 'stepSize'> & Partial<Omit<LoopConfig, 'norm' | 'loss' | 'eps'>>,
  ): Promise<tf.Tensor4D> {
    return gradientLoop(ctx, {
      norm: this.normImpl,
      loss: this.loss,
      eps,
      steps: 1,
      start: { kind: 'none' },
      restarts: 1,
      keep: 'last',
      ...preset,
    });
  }

  protected baseDescription(): Pick<AttackDescription, 'norm' | 'loss' | 'transfer'> {
    return { norm: this.norm, loss: this.loss, transfer: this.surrogate !== undefined };
  }

  async run(
    model: Classifier,
    call: AttackCall,
    epsilons: number | readonly number[],
  ): Promise<AttackResult[]> {
    const epsList = validateEpsilons(epsilons);
    const x = await validateImages(model, call.x);
    const n = x.shape[0];
    const labels = await validateLabels(model, call.labels, n);
    const attacker = this.surrogate ?? model;
    if (this.needsGradient && !attacker.differentiable) {
      // Imported here, once every attack module has loaded: the registry imports them all.
      const { queryAttackNames } = await import('./registry.js');
      throw new InputError(
        'NOT_DIFFERENTIABLE',
        `${this.name} needs the model's gradient, but the model ${JSON.stringify(attacker.info.name)} is query-only (it has no gradient); attacks that only query the model: ${queryAttackNames().join(', ')} (or give a differentiable surrogate for a transfer attack)`,
      );
    }
    if (attacker !== model) {
      if (
        attacker.inputShape.join() !== model.inputShape.join() ||
        attacker.numClasses !== model.numClasses
      ) {
        throw new InputError(
          'CLASS_COUNT_MISMATCH',
          `the surrogate (input [${attacker.inputShape}], ${attacker.numClasses} classes) must match the attacked model (input [${model.inputShape}], ${model.numClasses} classes)`,
        );
      }
    }
    const goal = checkGoal(call.goal);
    const seed = checkSeed(call.seed ?? 0);
    const indices = Int32Array.from(call.indices ?? Array.from({ length: n }, (_, i) => i));
    if (indices.length !== n) {
      throw new InputError(
        'INVALID_OPTION',
        `indices has ${indices.length} entries but the batch has ${n} images`,
      );
    }
    let targets: Int32Array | undefined;
    if (goal.kind === 'targeted') {
      let leastLikely: Int32Array | undefined;
      if (goal.rule.kind === 'least-likely') {
        const ll = tf.tidy(() => tf.argMin(attacker.logits(x), 1));
        leastLikely = new Int32Array(await ll.data());
        ll.dispose();
      }
      targets = resolveTargets(goal.rule, labels, model.numClasses, seed, indices, leastLikely);
    }
    const labelsT = tf.tensor1d(labels, 'int32');
    const targetsT = targets ? tf.tensor1d(targets, 'int32') : undefined;
    const ctx: AttackContext = {
      model,
      attacker,
      x,
      labels,
      labelsT,
      targets,
      targetsT,
      goal,
      seed,
      indices,
    };
    const results: AttackResult[] = [];
    try {
      for (const eps of epsList) {
        const out = eps === 0 ? tf.clone(x) : await this.perturb(ctx, eps);
        const raw = out instanceof tf.Tensor ? out : out.xAdv;
        const xAdv =
          eps === 0
            ? raw
            : tf.tidy(
                () =>
                  clipToBounds(
                    this.normImpl.projectAround(raw, x, eps),
                    model.bounds,
                  ) as tf.Tensor4D,
              );
        if (xAdv !== raw) raw.dispose();
        const result = await judge(ctx, this.normImpl, xAdv, eps);
        if (!(out instanceof tf.Tensor)) result.queries = out.queries;
        // A query attack's ε = 0 never reaches `perturb`: it costs no query.
        else if (eps === 0 && !this.needsGradient) result.queries = new Array(n).fill(0);
        results.push(result);
      }
    } catch (e) {
      for (const r of results) r.xAdv.dispose();
      throw e;
    } finally {
      labelsT.dispose();
      targetsT?.dispose();
    }
    return results;
  }
}

async function judge(
  ctx: AttackContext,
  norm: Norm,
  xAdv: tf.Tensor4D,
  eps: number,
): Promise<AttackResult> {
  const packed = tf.tidy(() => {
    const z = ctx.model.logits(xAdv);
    const p = tf.softmax(z);
    return [
      tf.argMax(z, 1),
      tf.max(p, 1),
      crossEntropy(z, ctx.labelsT),
      norm.distance(tf.sub(xAdv, ctx.x)),
    ];
  });
  const [pred, conf, loss, dist] = await Promise.all(packed.map((t) => t.data()));
  tf.dispose(packed);
  const predicted = Array.from(pred as Int32Array);
  const success = predicted.map((p, i) =>
    ctx.targets ? p === ctx.targets[i] : p !== ctx.labels[i],
  );
  return {
    epsilon: eps,
    xAdv,
    success,
    predicted,
    confidence: Array.from(conf),
    loss: Array.from(loss),
    distance: Array.from(dist),
    targets: ctx.targets ? Array.from(ctx.targets) : undefined,
  };
}
