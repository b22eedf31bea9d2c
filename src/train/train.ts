/**
 * adversarialTrain — adversarial training of a TF.js LayersModel with
 * advkit's attacks: standard, FGSM (Goodfellow et al. 2015), fast FGSM with
 * random start (Wong, Rice & Kolter 2020) or PGD (Madry et al. 2018).
 *
 * Every epoch logs clean and adversarial training loss and accuracy, the
 * learning rate and the time, checks robust accuracy on a held-out subset
 * under PGD, runs the catastrophic-overfitting detector, keeps the best
 * weights by held-out PGD accuracy and writes a checkpoint; a resumed run
 * reproduces the uninterrupted one exactly.
 *
 *   const result = await adversarialTrain(wongSmall(), train, {
 *     method: 'fgsm-rs', eps: 0.3, alpha: 0.375, epochs: 10, heldOut: { data: val } });
 */
import * as tf from '@tensorflow/tfjs';
import { PGD } from '../attacks/pgd.js';
import { InputError } from '../errors.js';
import { Classifier } from '../model/classifier.js';
import { epochSeed, gatherBatch, permutation } from './batch.js';
import {
  checkFingerprint,
  decodeBlocks,
  encodeCheckpoint,
  restoreCheckpoint,
  setWeightValues,
  weightValues,
} from './checkpoint.js';
import { attackAccuracy } from './held-out.js';
import { TrainOptimizer } from './optimizer.js';
import {
  type AdversarialTrainOptions,
  checkData,
  type EpochRecord,
  fingerprint,
  type ResolvedOptions,
  resolveOptions,
  type TrainingData,
} from './options.js';
import { detectCatastrophicOverfitting, type OverfitVerdict } from './overfit.js';
import { learningRate } from './schedule.js';
import { type StepContext, trainingAttack, trainStep, widensBounds } from './step.js';

const STREAM_SHUFFLE = 1;
const STREAM_ATTACK = 2;
const STREAM_HELD_OUT = 3;

export interface TrainResult {
  options: ResolvedOptions;
  history: EpochRecord[];
  /** 'completed', 'overfit' (early stop) or 'aborted' (signal). */
  stopped: 'completed' | 'overfit' | 'aborted';
  /** The epoch the run continued from, or null for a fresh run. */
  resumedFrom: number | null;
  /** Best held-out PGD epoch; null without a held-out set. */
  best: { epoch: number; pgdAccuracy: number } | null;
  /** Whether the model now holds the best epoch's weights rather than the last. */
  restoredBest: boolean;
  /** Every epoch at which the detector fired. */
  overfitWarnings: OverfitVerdict[];
  /** Wall time of this call, seconds. */
  seconds: number;
}

function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

export async function adversarialTrain(
  model: tf.LayersModel,
  data: TrainingData,
  options: AdversarialTrainOptions = {},
): Promise<TrainResult> {
  if (!(model instanceof tf.LayersModel)) {
    throw new InputError('INVALID_OPTION', 'model must be a tf.LayersModel (e.g. tf.sequential)');
  }
  const r = resolveOptions(options);
  const started = performance.now();
  const evalModel = Classifier.create(model, { bounds: r.bounds, mode: 'eval' });
  const trainModel = Classifier.create(model, { bounds: r.bounds, mode: 'train' });
  const craftModel = widensBounds(r)
    ? Classifier.create(model, { bounds: [r.bounds[0] - r.eps, r.bounds[1] + r.eps], mode: 'eval' })
    : evalModel;
  const optimizer = new TrainOptimizer(r.optimizer, trainableVariables(model));
  try {
    const n = checkData('data', data, evalModel.inputShape, evalModel.numClasses, r.bounds);
    const heldOut = options.heldOut?.data;
    if (heldOut)
      checkData('heldOut.data', heldOut, evalModel.inputShape, evalModel.numClasses, r.bounds);
    const print = fingerprint(r, n, heldOut?.labels.length ?? 0);
    const store = options.checkpoint;
    let history: EpochRecord[] = [];
    let best: TrainResult['best'] = null;
    let bestWeights: Float32Array[] | undefined;
    let resumedFrom: number | null = null;
    if (store && options.resume !== false) {
      const ckpt = await store.load();
      if (ckpt) {
        checkFingerprint(ckpt.meta.fingerprint, print);
        restoreCheckpoint(model, optimizer, ckpt);
        history = ckpt.meta.history;
        best = ckpt.meta.best;
        resumedFrom = ckpt.meta.epoch;
        if (best && best.epoch === ckpt.meta.epoch) bestWeights = decodeBlocks(ckpt).weights;
        else if (best && store.loadBest) {
          const b = await store.loadBest();
          if (b) bestWeights = decodeBlocks(b).weights;
        }
      }
    }
    const ctx: StepContext = {
      evalModel,
      craftModel,
      trainModel,
      attack: trainingAttack(r),
      vars: trainableVariables(model),
      optimizer,
      options: r,
    };
    const heldOutAttack =
      r.eps > 0
        ? new PGD({
            steps: r.heldOutSteps,
            stepSize: r.heldOutStepSize,
            restarts: r.heldOutRestarts,
          })
        : undefined;
    const batches = Math.ceil(n / r.batchSize);
    let stopped: TrainResult['stopped'] = 'completed';
    for (let epoch = history.length; epoch < r.epochs; epoch++) {
      const t0 = performance.now();
      const order = permutation(n, epochSeed(r.seed, epoch, STREAM_SHUFFLE));
      const attackSeed = epochSeed(r.seed, epoch, STREAM_ATTACK);
      const sums = { clean: 0, cleanOk: 0, adv: 0, advOk: 0 };
      let lrStart = 0;
      let lrEnd = 0;
      for (let b = 0; b < batches; b++) {
        if (options.signal?.aborted) {
          stopped = 'aborted';
          break;
        }
        const lr = learningRate(r.schedule, r.lr, epoch + (b + 1) / batches, r.epochs);
        if (b === 0) lrStart = lr;
        lrEnd = lr;
        const batch = gatherBatch(
          data,
          order.subarray(b * r.batchSize, (b + 1) * r.batchSize),
          evalModel.inputShape,
        );
        try {
          const s = await trainStep(ctx, batch, lr, attackSeed);
          sums.clean += s.cleanLossSum;
          sums.cleanOk += s.cleanCorrect;
          sums.adv += s.advLossSum;
          sums.advOk += s.advCorrect;
          options.onBatch?.({ epoch: epoch + 1, batch: b + 1, batches, lr, loss: s.loss });
        } finally {
          batch.x.dispose();
        }
      }
      if (stopped === 'aborted') break;
      const check = heldOut
        ? await attackAccuracy(evalModel, heldOut, heldOutAttack, r.eps, {
            seed: epochSeed(r.seed, epoch, STREAM_HELD_OUT),
          })
        : undefined;
      const adversarial = ctx.attack !== undefined;
      const partial = {
        epoch: epoch + 1,
        advTrainAccuracy: adversarial ? sums.advOk / n : null,
        advTrainLoss: adversarial ? sums.adv / n : null,
        heldOutPgdAccuracy: check && r.eps > 0 ? check.robustAccuracy : null,
      };
      const verdict = detectCatastrophicOverfitting([...history, partial], options.overfit);
      const record: EpochRecord = {
        ...partial,
        cleanTrainLoss: sums.clean / n,
        cleanTrainAccuracy: sums.cleanOk / n,
        lrStart,
        lrEnd,
        seconds: (performance.now() - t0) / 1000,
        heldOutCleanAccuracy: check ? check.cleanAccuracy : null,
        overfit: verdict,
      };
      history.push(record);
      const weights = await weightValues(model);
      const improved =
        record.heldOutPgdAccuracy !== null &&
        (best === null || record.heldOutPgdAccuracy > best.pgdAccuracy);
      if (improved && record.heldOutPgdAccuracy !== null) {
        best = { epoch: epoch + 1, pgdAccuracy: record.heldOutPgdAccuracy };
        bestWeights = weights;
      }
      if (store) {
        const ckpt = await encodeCheckpoint(
          model,
          optimizer,
          { epoch: epoch + 1, fingerprint: print, history, best },
          weights,
        );
        if (improved && store.saveBest) await store.saveBest(ckpt);
        await store.save(ckpt);
      }
      await options.onEpoch?.(record);
      if (verdict.overfit && options.earlyStopOnOverfit) {
        stopped = 'overfit';
        break;
      }
    }
    let restoredBest = false;
    const last = history[history.length - 1];
    if (options.restoreBest !== false && best && bestWeights && last && best.epoch !== last.epoch) {
      setWeightValues(model, bestWeights);
      restoredBest = true;
    }
    return {
      options: r,
      history,
      stopped,
      resumedFrom,
      best,
      restoredBest,
      overfitWarnings: history.filter((h) => h.overfit.overfit).map((h) => h.overfit),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    optimizer.dispose();
    evalModel.dispose();
    trainModel.dispose();
    if (craftModel !== evalModel) craftModel.dispose();
  }
}
