/**
 * `advkit train`: flags → adversarialTrain options → one `trainRun` call
 * (train with per-epoch checkpoints, save model.json + weights.bin, evaluate
 * under FGSM and PGD with restarts, write report.json), then a summary.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadMnist } from '../data/index.js';
import { loadClassifierFromFile } from '../model/load-node.js';
import { ARCH_NAMES, type EpochRecord, TRAIN_METHODS, wongSmall } from '../train/index.js';
import { trainRun } from '../train/run-node.js';
import { checkEpsilonsInRange, prepareOutDir } from './checks.js';
import { defineCommand, note, pct, print, table, timestamp } from './command.js';
import { number, oneOf, positiveInt, seedValue, text, toggle, UsageError, value } from './flags.js';
import { runFlags, startBackend } from './options.js';

const MNIST_TRAIN = 60000;

function positive(raw: string, flag: string): number {
  const v = number(raw, flag);
  if (v <= 0) throw new UsageError(`--${flag} must be positive; received ${JSON.stringify(raw)}`);
  return v;
}

const flags = {
  data: value(
    'SOURCE',
    oneOf(['mnist'] as const),
    'training data (MNIST train split; test split for the final evaluation)',
    {
      default: 'mnist' as const,
    },
  ),
  arch: value(
    'NAME|PATH',
    text,
    `architecture (${ARCH_NAMES.join(', ')}) or a layers-model model.json to start from`,
    {
      default: 'wong-small',
    },
  ),
  method: value(
    'M',
    oneOf(TRAIN_METHODS),
    'standard, fgsm (Goodfellow mix), fgsm-rs (Wong et al.) or pgd',
    {
      default: 'fgsm-rs' as const,
    },
  ),
  eps: value('E', positive, 'L∞ radius of the training and evaluation attacks, pixel units', {
    default: 0.3,
  }),
  alpha: value('A', positive, 'training attack step (fgsm-rs: 1.25ε; pgd: 2.5ε/steps)', {
    defaultText: 'per method',
  }),
  'pgd-steps': value('N', positiveInt, 'steps of the pgd training attack', { default: 7 }),
  'zero-start': toggle('fgsm-rs without the random start (shows catastrophic overfitting)'),
  'attack-label': value(
    'true|predicted',
    oneOf(['true', 'predicted'] as const),
    'label the training attack ascends (predicted avoids label leaking)',
    {
      default: 'true' as const,
    },
  ),
  epochs: value('N', positiveInt, 'epochs', { default: 10 }),
  'batch-size': value('N', positiveInt, 'examples per batch', { default: 100 }),
  lr: value('LR', positive, 'peak (cyclic) or initial learning rate', { default: 5e-3 }),
  schedule: value(
    'S',
    oneOf(['constant', 'cyclic', 'multistep'] as const),
    'learning-rate schedule',
    {
      defaultText: 'cyclic for fgsm-rs, else constant',
    },
  ),
  optimizer: value('O', oneOf(['adam', 'sgd'] as const), 'optimizer', { default: 'adam' as const }),
  seed: value('N', seedValue, 'seed of initialisation, order and attack starts', {
    default: 0,
  }),
  limit: value('N', positiveInt, 'train on the first N training images', {
    defaultText: 'all but the held-out',
  }),
  'held-out': value(
    'N',
    positiveInt,
    'last N training images, never trained on, for the per-epoch PGD check',
    {
      default: 1000,
    },
  ),
  'attack-limit': value(
    'N',
    positiveInt,
    'final FGSM/PGD on the first N test images (clean on all)',
    {
      default: 1000,
    },
  ),
  'eval-steps': value('N', positiveInt, 'final PGD steps', { default: 50 }),
  'eval-step-size': value('A', positive, 'final PGD step size', { default: 0.01 }),
  'eval-restarts': value('N', positiveInt, 'final PGD restarts', { default: 10 }),
  'early-stop': toggle('stop when catastrophic overfitting is detected'),
  out: value('DIR', text, 'output folder', { defaultText: 'advkit-out/train-<timestamp>' }),
  resume: toggle('continue from the checkpoint in --out'),
  ...runFlags,
};

export const trainCommand = defineCommand({
  name: 'train',
  summary: 'adversarially train an MNIST model (FGSM, FGSM-RS, PGD) with a held-out PGD check',
  usage:
    '[--arch wong-small|PATH] [--method fgsm-rs] [--eps 0.3] [--alpha A] [--epochs N] [--out DIR] [--resume]',
  description: [
    'Trains with adversarial examples crafted by advkit’s attacks (model in eval mode), logs clean and',
    'adversarial loss and accuracy, learning rate and time per epoch, checks robust accuracy on a',
    'held-out subset under PGD after every epoch, warns of catastrophic overfitting and keeps the best',
    'held-out epoch. Writes model.json + weights.bin (a standard TF.js layers model), report.json and',
    'checkpoints/ (one per epoch; --resume continues exactly where an interrupted run stopped).',
  ].join('\n'),
  examples: [
    'advkit train --data mnist --arch wong-small --method fgsm-rs --eps 0.3 --alpha 0.375 --epochs 10 --out runs/fast',
    'advkit train --method fgsm-rs --zero-start --alpha 0.6 --epochs 5 --limit 20000 --out runs/overfit',
    'advkit train --method pgd --pgd-steps 10 --attack-label predicted --out runs/pgd --resume',
  ],
  flags,
  async run(o) {
    const out = o.out ?? path.join('advkit-out', `train-${timestamp()}`);
    if (o.resume && !o.out)
      throw new UsageError('--resume needs --out: the folder of the run to continue');
    if (!o.resume && existsSync(path.join(out, 'checkpoints', 'checkpoint.json'))) {
      throw new UsageError(
        `${out} already holds a training checkpoint; add --resume to continue it, or pick another --out`,
      );
    }
    const checkpoint = path.join(out, 'checkpoints', 'checkpoint.json');
    if (o.resume && !existsSync(checkpoint)) {
      throw new UsageError(
        `--resume: there is no training checkpoint at ${checkpoint}; run without --resume first`,
      );
    }
    await prepareOutDir(out);
    if (o['held-out'] >= MNIST_TRAIN)
      throw new UsageError(`--held-out must be below ${MNIST_TRAIN}`);
    // MNIST pixels are in [0, 1], and training crafts L∞ attacks there.
    checkEpsilonsInRange([o.eps], 'linf', [0, 1], 28 * 28);
    await startBackend(o.backend, o.threads);
    let model: tf.LayersModel;
    if ((ARCH_NAMES as readonly string[]).includes(o.arch)) {
      model = wongSmall({ seed: o.seed });
    } else {
      const loaded = await loadClassifierFromFile(o.arch);
      loaded.model.dispose();
      if (!(loaded.network instanceof tf.LayersModel)) {
        throw new UsageError(`--arch ${o.arch} is a graph model; training needs a layers model`);
      }
      model = loaded.network;
    }
    const cut = MNIST_TRAIN - o['held-out'];
    const train = await loadMnist('train', { limit: Math.min(o.limit ?? cut, cut) });
    const heldOut = await loadMnist('train', { offset: cut, limit: o['held-out'] });
    const test = await loadMnist('test', {});
    const quiet = o.quiet;
    const epochLine = (r: EpochRecord) =>
      note(
        quiet,
        `epoch ${r.epoch}: clean ${pct(r.cleanTrainAccuracy)} (loss ${r.cleanTrainLoss.toFixed(3)}), adversarial ${r.advTrainAccuracy === null ? 'n/a' : pct(r.advTrainAccuracy)} (loss ${r.advTrainLoss?.toFixed(3) ?? 'n/a'}), held-out PGD ${r.heldOutPgdAccuracy === null ? 'n/a' : pct(r.heldOutPgdAccuracy)}, lr ${r.lrEnd.toExponential(2)}, ${r.seconds.toFixed(0)} s${r.overfit.overfit ? `\n  WARNING catastrophic overfitting: ${r.overfit.reasons.join('; ')}` : ''}`,
      );
    const report = await trainRun(model, {
      train,
      trainName: `MNIST train, first ${train.labels.length}`,
      test,
      testName: 'MNIST test',
      attackLimit: o['attack-limit'],
      out,
      training: {
        method: o.method,
        eps: o.eps,
        alpha: o.alpha,
        randomStart: !o['zero-start'],
        pgdSteps: o['pgd-steps'],
        attackLabel: o['attack-label'],
        epochs: o.epochs,
        batchSize: o['batch-size'],
        lr: o.lr,
        schedule: o.schedule,
        optimizer: o.optimizer,
        seed: o.seed,
        heldOut: { data: heldOut },
        earlyStopOnOverfit: o['early-stop'],
        resume: o.resume,
        onEpoch: epochLine,
      },
      evaluation: {
        pgdSteps: o['eval-steps'],
        pgdStepSize: o['eval-step-size'],
        pgdRestarts: o['eval-restarts'],
        seed: o.seed,
      },
      log: (l) => note(quiet, l),
    });
    const rows = report.evaluation?.rows ?? [];
    print(
      `trained ${report.result.history.length} epochs in ${report.result.seconds.toFixed(0)} s (${report.result.stopped}); best held-out PGD epoch ${report.result.best?.epoch ?? 'n/a'}${report.result.restoredBest ? ' (weights restored)' : ''}`,
      ...report.result.overfitWarnings.map(
        (w) => `WARNING catastrophic overfitting at epoch ${w.epoch}: ${w.reasons.join('; ')}`,
      ),
      '',
      table(
        ['evaluation', 'ε', 'examples', 'accuracy'],
        rows.map((r) => [r.description, String(r.eps), String(r.examples), pct(r.robustAccuracy)]),
      ),
      '',
      `model: ${path.join(out, 'model.json')}; report: ${path.join(out, 'report.json')}`,
    );
    return 0;
  },
});
