/**
 * One batch of an evaluation: clean predictions, every attack at every ε
 * (or, for a cascade, each attack on the examples still robust), the
 * minimal-ε search, and the raw numbers the diagnostics need, appended to
 * the run state as per-example columns.
 */
import * as tf from '@tensorflow/tfjs';
import {
  type Attack,
  type AttackName,
  disposeResults,
  objectiveGradient,
} from '../attacks/index.js';
import type { Classifier } from '../model/classifier.js';
import { clipToBounds } from '../threat-model/bounds.js';
import { crossEntropy } from '../threat-model/losses.js';
import type { Norm } from '../threat-model/norms.js';
import { exampleRng, Stream } from '../threat-model/rng.js';
import type { Goal } from '../threat-model/targets.js';
import { minimalEpsilons } from './minimal-epsilon.js';
import type { BatchColumns } from './state.js';
import type { AttackReport, AutoAttackVersion, EvaluatePhase } from './types.js';

export interface PlannedAttack {
  /** Display name, unique in the suite ("pgd", or "pgd (2)" for a second PGD). */
  key: string;
  name: AttackName;
  attack: Attack;
  role: AttackReport['role'];
  minimal: boolean;
  /** Uses no gradient (Square): what the black-box-vs-white-box diagnostic compares. Default false. */
  blackBox?: boolean;
}

export interface Plan {
  model: Classifier;
  goal: Goal;
  seed: number;
  /** Sorted ascending, distinct. */
  epsilons: number[];
  attacks: PlannedAttack[];
  /** Index into `epsilons` of the image grids' ε. */
  imageEpsilon: number;
  exampleImages: number;
  diagnostics: boolean;
  /** The norm the diagnostics use (FGSM's, else the suite's). */
  diagnosticNorm: Norm;
  minimal: { epsMax: number; grid: number[]; bisectionSteps: number } | null;
  /**
   * Run the attacks as a worst-case cascade (each on the examples every
   * earlier one left robust); `version` names the AutoAttack preset, if any.
   */
  cascade: { version: AutoAttackVersion | null } | null;
}

export interface BatchInput {
  x: tf.Tensor4D;
  /** The batch's pixels, row-major, for image grids. */
  pixels: Float32Array;
  labels: Int32Array;
  indices: Int32Array;
}

type Progress = (phase: EvaluatePhase, attack?: string) => void;

/**
 * Run one batch and append its columns to `state` (a whole run state, or the
 * empty columns of one batch). Reads nothing of earlier batches except how
 * many example images `state` holds already, against `plan.exampleImages`.
 */
export async function runBatch(
  plan: Plan,
  state: BatchColumns,
  b: BatchInput,
  progress: Progress,
): Promise<void> {
  const { model } = plan;
  const n = b.labels.length;
  const d = b.pixels.length / n;
  progress('clean');
  const labelsT = tf.tensor1d(b.labels, 'int32');
  try {
    const packed = tf.tidy(() => {
      const z = model.logits(b.x);
      const out = [tf.argMax(z, 1), tf.max(tf.softmax(z), 1), crossEntropy(z, labelsT)];
      if (plan.diagnostics) {
        // A model random at inference (dropout on, randomised preprocessing)
        // answers the same input differently: relative to the logits' size.
        const again = model.logits(b.x);
        const scale = tf.add(1, tf.max(tf.abs(z), 1));
        out.push(tf.div(tf.max(tf.abs(tf.sub(z, again)), 1), scale));
      }
      return out;
    });
    const [pred, conf, loss, repeat] = await Promise.all(packed.map((t) => t.data()));
    tf.dispose(packed);
    const cleanPred = Array.from(pred as Int32Array);
    state.clean.index.push(...b.indices);
    state.clean.label.push(...b.labels);
    state.clean.predicted.push(...cleanPred);
    state.clean.confidence.push(...conf);
    state.clean.loss.push(...loss);
    if (repeat) {
      state.diagnostics.repeatDifference = state.diagnostics.repeatDifference ?? [];
      state.diagnostics.repeatDifference.push(...repeat);
    }

    let targets: number[] | undefined;
    if (plan.cascade) {
      await runCascade(plan, state, b, cleanPred, Array.from(conf), Array.from(loss), progress);
    }
    // Ordinary suites: every attack on every example at every ε.
    const everyExample = plan.cascade ? [] : plan.attacks;
    for (let a = 0; a < everyExample.length; a++) {
      const planned = everyExample[a];
      progress('attack', planned.key);
      const results = await planned.attack.run(
        model,
        { x: b.x, labels: b.labels, goal: plan.goal, seed: plan.seed, indices: b.indices },
        plan.epsilons,
      );
      try {
        const cols = state.attacks[a];
        for (let e = 0; e < results.length; e++) {
          const r = results[e];
          const c = cols.perEpsilon[e];
          c.predicted.push(...r.predicted);
          c.confidence.push(...r.confidence);
          c.loss.push(...r.loss);
          c.distance.push(...r.distance);
          c.success.push(...r.success);
          c.outOfBounds.push(...(await outOfBounds(r.xAdv, model.bounds)));
          if (r.queries) {
            c.queries = c.queries ?? [];
            c.queries.push(...r.queries);
          }
          if (r.targets) {
            c.targets = c.targets ?? [];
            c.targets.push(...r.targets);
            targets = targets ?? r.targets;
          }
          if (e === plan.imageEpsilon) {
            const adv = (await r.xAdv.data()) as Float32Array;
            keepImages(plan, cols.images, b, cleanPred, conf, adv, r.predicted, r.confidence, d);
          }
        }
        if (planned.minimal && plan.minimal) {
          progress('minimal-epsilon', planned.key);
          const m = plan.minimal;
          const gridSuccess: boolean[][] = [];
          const grid: number[] = [];
          plan.epsilons.forEach((eps, e) => {
            if (eps > 0 && eps <= m.epsMax) {
              grid.push(eps);
              gridSuccess.push(results[e].success);
            }
          });
          if (grid[grid.length - 1] !== m.epsMax) {
            const [top] = await planned.attack.run(
              model,
              { x: b.x, labels: b.labels, goal: plan.goal, seed: plan.seed, indices: b.indices },
              [m.epsMax],
            );
            top.xAdv.dispose();
            grid.push(m.epsMax);
            gridSuccess.push(top.success);
          }
          const t = results[0].targets;
          const successAtZero = cleanPred.map((p, i) => (t ? p === t[i] : p !== b.labels[i]));
          const values = await minimalEpsilons({
            attack: planned.attack,
            model,
            x: b.x,
            labels: b.labels,
            indices: b.indices,
            goal: plan.goal,
            seed: plan.seed,
            grid,
            gridSuccess,
            successAtZero,
            bisectionSteps: m.bisectionSteps,
          });
          cols.minimalEpsilon = cols.minimalEpsilon ?? [];
          cols.minimalEpsilon.push(...values);
        }
      } finally {
        disposeResults(results);
      }
    }

    if (plan.diagnostics) {
      progress('diagnostics');
      await gradientDiagnostics(plan, state, b.x, labelsT, d);
      await noiseBaseline(plan, state, b, targets);
    }
  } finally {
    labelsT.dispose();
  }
}

/**
 * The cascade: per ε, each attack in turn runs on the examples that are
 * clean-correct and that no earlier attack broke (per-example randomness is
 * keyed by the example's index, so a subset gets the values the whole batch
 * would). Each stage's columns describe the ensemble so far: an example it
 * did not attack keeps the values of the stage that broke it (or its clean
 * values), so a stage's success column is "broken by this or an earlier
 * stage" and its robust accuracy that of the ensemble up to it.
 */
async function runCascade(
  plan: Plan,
  state: BatchColumns,
  b: BatchInput,
  cleanPred: number[],
  cleanConf: number[],
  cleanLoss: number[],
  progress: Progress,
): Promise<void> {
  const { model } = plan;
  const n = b.labels.length;
  const d = b.pixels.length / n;
  const current = plan.epsilons.map(() => ({
    predicted: [...cleanPred],
    confidence: [...cleanConf],
    loss: [...cleanLoss],
    distance: new Array<number>(n).fill(0),
    success: cleanPred.map((p, i) => p !== b.labels[i]),
    outOfBounds: new Array<boolean>(n).fill(false),
  }));
  const adv = b.pixels.slice();
  for (let a = 0; a < plan.attacks.length; a++) {
    const planned = plan.attacks[a];
    progress('attack', planned.key);
    for (let e = 0; e < plan.epsilons.length; e++) {
      const cur = current[e];
      const rows: number[] = [];
      for (let i = 0; i < n; i++) if (!cur.success[i]) rows.push(i);
      const attacked = new Array<boolean>(n).fill(false);
      const queries = planned.blackBox ? new Array<number>(n).fill(0) : undefined;
      if (rows.length > 0) {
        const rowsT = tf.tensor1d(rows, 'int32');
        const xs = tf.gather(b.x, rowsT) as tf.Tensor4D;
        rowsT.dispose();
        try {
          const [r] = await planned.attack.run(
            model,
            {
              x: xs,
              labels: rows.map((i) => b.labels[i]),
              goal: plan.goal,
              seed: plan.seed,
              indices: rows.map((i) => b.indices[i]),
            },
            [plan.epsilons[e]],
          );
          try {
            const oob = await outOfBounds(r.xAdv, model.bounds);
            const px =
              e === plan.imageEpsilon ? ((await r.xAdv.data()) as Float32Array) : undefined;
            rows.forEach((i, j) => {
              attacked[i] = true;
              cur.predicted[i] = r.predicted[j];
              cur.confidence[i] = r.confidence[j];
              cur.loss[i] = r.loss[j];
              cur.distance[i] = r.distance[j];
              cur.success[i] = r.success[j];
              cur.outOfBounds[i] = oob[j];
              if (px) adv.set(px.subarray(j * d, (j + 1) * d), i * d);
              if (queries && r.queries) queries[i] = r.queries[j];
            });
          } finally {
            r.xAdv.dispose();
          }
        } finally {
          xs.dispose();
        }
      }
      const c = state.attacks[a].perEpsilon[e];
      c.predicted.push(...cur.predicted);
      c.confidence.push(...cur.confidence);
      c.loss.push(...cur.loss);
      c.distance.push(...cur.distance);
      c.success.push(...cur.success);
      c.outOfBounds.push(...cur.outOfBounds);
      c.attacked = c.attacked ?? [];
      c.attacked.push(...attacked);
      if (queries) {
        c.queries = c.queries ?? [];
        c.queries.push(...queries);
      }
      if (e === plan.imageEpsilon) {
        const images = state.attacks[a].images;
        keepImages(plan, images, b, cleanPred, cleanConf, adv, cur.predicted, cur.confidence, d);
      }
    }
  }
}

/** Per example: does any coordinate leave the bounds (beyond float tolerance)? */
async function outOfBounds(x: tf.Tensor4D, bounds: readonly [number, number]): Promise<boolean[]> {
  const tol = 1e-6 * (bounds[1] - bounds[0]);
  const t = tf.tidy(() => {
    const flat = x.reshape([x.shape[0], -1]);
    return tf.logicalOr(
      tf.less(tf.min(flat, 1), bounds[0] - tol),
      tf.greater(tf.max(flat, 1), bounds[1] + tol),
    );
  });
  const v = await t.data();
  t.dispose();
  return Array.from(v, Boolean);
}

function keepImages(
  plan: Plan,
  into: BatchColumns['attacks'][number]['images'],
  b: BatchInput,
  cleanPred: number[],
  cleanConf: ArrayLike<number>,
  adv: Float32Array,
  advPred: number[],
  advConf: number[],
  d: number,
): void {
  const rows: number[] = [];
  for (let i = 0; i < b.indices.length; i++) {
    if (into.length + rows.length < plan.exampleImages) rows.push(i);
  }
  if (rows.length === 0) return;
  for (const i of rows) {
    into.push({
      index: b.indices[i],
      label: b.labels[i],
      cleanPrediction: cleanPred[i],
      cleanConfidence: cleanConf[i],
      adversarialPrediction: advPred[i],
      adversarialConfidence: advConf[i],
      original: Array.from(b.pixels.subarray(i * d, (i + 1) * d)),
      adversarial: Array.from(adv.subarray(i * d, (i + 1) * d)),
    });
  }
}

/** Zero-gradient coordinates and the dual norm of ∇ₓCE at the clean inputs. */
async function gradientDiagnostics(
  plan: Plan,
  state: BatchColumns,
  x: tf.Tensor4D,
  labelsT: tf.Tensor1D,
  d: number,
): Promise<void> {
  const step = objectiveGradient(plan.model, x, labelsT, 'ce');
  const packed = tf.tidy(() => {
    const g = step.grad.reshape([x.shape[0], -1]);
    const zeros = tf.sum(tf.cast(tf.equal(g, 0), 'float32'), 1);
    const a = tf.abs(g);
    // Dual norms: L∞ ↔ L1, L2 ↔ L2, L1 ↔ L∞.
    const name = plan.diagnosticNorm.name;
    const dual =
      name === 'linf'
        ? tf.sum(a, 1)
        : name === 'l2'
          ? tf.sqrt(tf.sum(tf.square(g), 1))
          : tf.max(a, 1);
    return [zeros, dual];
  });
  step.dispose();
  const [zeros, dual] = await Promise.all(packed.map((t) => t.data()));
  tf.dispose(packed);
  state.diagnostics.zeroCoordinates.push(...zeros);
  state.diagnostics.dualNorm.push(...dual);
  state.diagnostics.coordinates = d;
}

/**
 * Random noise of the same size as FGSM's step: uniform random signs ±ε
 * (L∞), a random direction of length ε (L2), all of ε on one random
 * coordinate with a random sign (L1); clipped to the bounds.
 */
export function noiseRow(
  norm: Norm['name'],
  d: number,
  eps: number,
  seed: number,
  index: number,
  round: number,
): Float32Array {
  const rng = exampleRng(seed, index, Stream.noise, round);
  const out = new Float32Array(d);
  if (norm === 'linf') {
    for (let i = 0; i < d; i++) out[i] = rng.next() < 0.5 ? -eps : eps;
  } else if (norm === 'l2') {
    let s = 0;
    for (let i = 0; i < d; i++) {
      out[i] = rng.normal();
      s += out[i] * out[i];
    }
    const k = eps / Math.sqrt(s || 1);
    for (let i = 0; i < d; i++) out[i] *= k;
  } else {
    out[rng.int(d)] = rng.next() < 0.5 ? -eps : eps;
  }
  return out;
}

async function noiseBaseline(
  plan: Plan,
  state: BatchColumns,
  b: BatchInput,
  targets: number[] | undefined,
): Promise<void> {
  const n = b.labels.length;
  const d = b.pixels.length / n;
  for (let e = 0; e < plan.epsilons.length; e++) {
    const eps = plan.epsilons[e];
    const buf = new Float32Array(n * d);
    if (eps > 0) {
      for (let i = 0; i < n; i++) {
        buf.set(noiseRow(plan.diagnosticNorm.name, d, eps, plan.seed, b.indices[i], e), i * d);
      }
    }
    const predT = tf.tidy(() => {
      const noisy = clipToBounds(tf.add(b.x, tf.tensor(buf, b.x.shape)), plan.model.bounds);
      return tf.argMax(plan.model.logits(noisy as tf.Tensor4D), 1);
    });
    const pred = await predT.data();
    predT.dispose();
    const success = Array.from(pred, (p, i) => (targets ? p === targets[i] : p !== b.labels[i]));
    state.diagnostics.noiseSuccess[e].push(...success);
  }
}
