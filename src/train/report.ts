/**
 * The training report: what was trained how, the epoch history with the
 * detector's verdicts, and the final evaluation under FGSM and PGD with
 * restarts. Plain data (JSON), browser-safe; `finalEvaluation` runs the
 * attacks.
 */
import { FGSM } from '../attacks/fgsm.js';
import { PGD } from '../attacks/pgd.js';
import type { Classifier } from '../model/classifier.js';
import { attackAccuracy } from './held-out.js';
import type { TrainingData } from './options.js';
import type { TrainResult } from './train.js';

export interface FinalEvaluationOptions {
  eps: number;
  /** PGD steps, step size and restarts. Default 50 steps of 0.01, 10 restarts (Wong et al.'s MNIST check). */
  pgdSteps?: number;
  pgdStepSize?: number;
  pgdRestarts?: number;
  seed?: number;
  onProgress?: (what: string, done: number, total: number) => void;
}

export interface EvaluationRow {
  attack: 'none' | 'fgsm' | 'pgd';
  description: string;
  eps: number;
  examples: number;
  /** Clean accuracy of the attacked subset. */
  cleanAccuracy: number;
  /** Correct clean and under attack / all examples of the subset. */
  robustAccuracy: number;
  seconds: number;
}

export interface FinalEvaluation {
  bounds: readonly [number, number];
  norm: 'linf';
  goal: 'untargeted';
  modelMode: 'eval';
  seed: number;
  rows: EvaluationRow[];
}

/** Clean accuracy on `clean`; FGSM and PGD-with-restarts robust accuracy on `attacked`. */
export async function finalEvaluation(
  model: Classifier,
  clean: TrainingData,
  attacked: TrainingData,
  o: FinalEvaluationOptions,
): Promise<FinalEvaluation> {
  const seed = o.seed ?? 0;
  const steps = o.pgdSteps ?? 50;
  const stepSize = o.pgdStepSize ?? 0.01;
  const restarts = o.pgdRestarts ?? 10;
  const rows: EvaluationRow[] = [];
  const timed = async (
    attack: EvaluationRow['attack'],
    description: string,
    run: () => ReturnType<typeof attackAccuracy>,
  ) => {
    const t0 = performance.now();
    const r = await run();
    rows.push({
      attack,
      description,
      eps: attack === 'none' ? 0 : o.eps,
      examples: r.examples,
      cleanAccuracy: r.cleanAccuracy,
      robustAccuracy: r.robustAccuracy ?? r.cleanAccuracy,
      seconds: (performance.now() - t0) / 1000,
    });
  };
  const progress = (what: string) => (done: number, total: number) =>
    o.onProgress?.(what, done, total);
  await timed('none', 'clean', () =>
    attackAccuracy(model, clean, undefined, 0, { onBatch: progress('clean') }),
  );
  await timed('fgsm', 'FGSM (one step of ε, zero start)', () =>
    attackAccuracy(model, attacked, new FGSM(), o.eps, { seed, onBatch: progress('fgsm') }),
  );
  const pgd = new PGD({ steps, stepSize, restarts, randomStart: true });
  await timed('pgd', `PGD-${steps}, step ${stepSize}, ${restarts} restarts, random start`, () =>
    attackAccuracy(model, attacked, pgd, o.eps, { seed, onBatch: progress('pgd') }),
  );
  return { bounds: model.bounds, norm: 'linf', goal: 'untargeted', modelMode: 'eval', seed, rows };
}

export interface TrainingReport {
  format: 'advkit-training-report';
  version: 1;
  model: { name: string; checksum?: string; parameters: number };
  data: { train: string; heldOut?: string; evaluation?: string };
  backend: string;
  result: Omit<TrainResult, 'seconds'> & { seconds: number };
  evaluation?: FinalEvaluation;
}
