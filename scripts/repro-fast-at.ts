/**
 * Reproduce fast adversarial training on MNIST (Wong, Rice & Kolter, "Fast is
 * better than free", ICLR 2020): FGSM-RS with ε = 0.3, α = 0.375, their small
 * net, Adam with the cyclic learning rate (peak 5e-3), batch 100, 10 epochs.
 * Published: clean 98.5 %, PGD-50 with 10 restarts 88.8 %.
 *
 * Then shows catastrophic overfitting being caught: the same run with a zero
 * start and a step of α = 2ε (that is, plain FGSM at ε = 0.3) must trigger
 * the detector.
 *
 *   npm run repro:fast-at                                 # both parts, full size
 *   npm run repro:fast-at -- --epochs 3 --train-limit 10000 --skip-demo
 *
 * Flags: --epochs N (10), --train-limit N (all 59,000), --held-out N (1,000, the
 * last training images, never trained on), --attack-limit N (1,000: FGSM and
 * PGD on the first N test images; clean accuracy on all 10,000), --demo-epochs
 * N (5), --demo-train-limit N (20,000), --skip-demo, --skip-main, --out DIR
 * (out/repro-fast-at), --seed N (0), --clip-start (clip the random start to
 * [0, 1] before the gradient, as the spec's FGSM-RS attack does; Wong et al.'s
 * code does not, and with it this run overfits catastrophically by epoch 3).
 */
import { join } from 'node:path';
import { setBackend } from '../src/index.js';
import { adversarialTrain, wongSmall } from '../src/train/index.js';
import { trainRun } from '../src/train/run-node.js';
import { type MnistSplit, mnistTrainSplit, parseArgs, printEpoch } from './train-robust.js';

const PUBLISHED = { clean: 0.985, pgd: 0.888 };

const args = parseArgs(process.argv.slice(2), {
  epochs: 10,
  'train-limit': 0,
  'held-out': 1000,
  'attack-limit': 1000,
  'demo-epochs': 5,
  'demo-train-limit': 20000,
  seed: 0,
});
const out = (args.out as string | undefined) ?? 'out/repro-fast-at';
const pct = (v: number | null | undefined) =>
  v == null ? '   n/a' : `${(100 * v).toFixed(1).padStart(5)} %`;

const backend = await setBackend();
const { train, heldOut, test } = mnistTrainSplit(args as MnistSplit);
console.log(
  `backend ${backend}; train ${train.labels.length}, held-out ${heldOut.labels.length}, test ${test.labels.length} (attacks on the first ${args['attack-limit']})`,
);

if (!args['skip-main']) {
  const t0 = performance.now();
  const report = await trainRun(wongSmall({ seed: args.seed as number }), {
    train,
    trainName: `MNIST train, first ${train.labels.length}`,
    test,
    testName: 'MNIST test',
    attackLimit: args['attack-limit'] as number,
    out: join(out, 'fgsm-rs'),
    training: {
      method: 'fgsm-rs',
      eps: 0.3,
      alpha: 0.375,
      clipStart: args['clip-start'] === true,
      epochs: args.epochs as number,
      batchSize: 100,
      lr: 5e-3,
      schedule: 'cyclic',
      seed: args.seed as number,
      heldOut: { data: heldOut },
      onEpoch: printEpoch,
    },
    evaluation: {
      onProgress: (what, done, total) => {
        if (done === total || done % 1000 === 0)
          process.stderr.write(`  eval ${what} ${done}/${total}\n`);
      },
    },
    log: (l) => console.log(l),
  });
  const wall = (performance.now() - t0) / 1000;
  const rows = report.evaluation?.rows ?? [];
  const clean = rows.find((r) => r.attack === 'none');
  const pgd = rows.find((r) => r.attack === 'pgd');
  const fgsm = rows.find((r) => r.attack === 'fgsm');
  console.log('\nFGSM-RS, ε = 0.3, α = 0.375          published   measured');
  console.log(
    `clean accuracy (${clean?.examples} test)          ${pct(PUBLISHED.clean)}   ${pct(clean?.robustAccuracy)}`,
  );
  console.log(
    `FGSM robust accuracy (${fgsm?.examples} test)        —      ${pct(fgsm?.robustAccuracy)}`,
  );
  console.log(
    `PGD-50 ×10 restarts (${pgd?.examples} test)       ${pct(PUBLISHED.pgd)}   ${pct(pgd?.robustAccuracy)}`,
  );
  console.log(
    `training ${report.result.seconds.toFixed(0)} s, evaluation ${rows.reduce((a, r) => a + r.seconds, 0).toFixed(0)} s, wall ${wall.toFixed(0)} s; best held-out epoch ${report.result.best?.epoch}; report ${join(out, 'fgsm-rs', 'report.json')}`,
  );
  if (report.result.overfitWarnings.length > 0)
    console.log('WARNING: the detector fired during the main run');
}

if (!args['skip-demo']) {
  const limit = args['demo-train-limit'] as number;
  const small = {
    images: train.images.subarray(0, limit * 784),
    labels: train.labels.subarray(0, limit),
  };
  console.log(
    `\ncatastrophic-overfitting demo: zero start, α = 2ε = 0.6 (plain FGSM at ε = 0.3), ${small.labels.length} examples, ${args['demo-epochs']} epochs`,
  );
  const t0 = performance.now();
  const result = await adversarialTrain(wongSmall({ seed: args.seed as number }), small, {
    method: 'fgsm-rs',
    randomStart: false,
    eps: 0.3,
    alpha: 0.6,
    epochs: args['demo-epochs'] as number,
    lr: 5e-3,
    schedule: 'cyclic',
    seed: args.seed as number,
    heldOut: { data: heldOut },
    onEpoch: printEpoch,
  });
  const fired = result.overfitWarnings[0];
  console.log(
    fired
      ? `detector fired at epoch ${fired.epoch}: ${fired.reasons.join('; ')}`
      : 'detector did NOT fire (no catastrophic overfitting seen in this run)',
  );
  console.log(`demo took ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
