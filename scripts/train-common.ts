/**
 * What the shipped-model training scripts share: flags, the seeded training
 * run (the library's `adversarialTrain` with method 'standard', whose epoch
 * order is a seeded Fisher–Yates shuffle per (seed, epoch)), saving through
 * `fileSaveHandler`, the clean test accuracy of the files as saved, and
 * `metrics.json`.
 *
 * Each script names its layers, so its topology (and checksum) does not
 * depend on what else ran in the same process.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { type BackendName, setBackend } from '../src/backend/index.js';
import { batches, loadMnist } from '../src/data/index.js';
import { writeFileAtomic } from '../src/files/atomic.js';
import { checksumModelFiles, fileLoadHandler, fileSaveHandler } from '../src/model/io-node.js';
import { adversarialTrain } from '../src/train/index.js';
import type { ScheduleName } from '../src/train/schedule.js';

export interface ShippedModel {
  name: string;
  /** One line for metrics.json and the README. */
  architecture: string;
  /** Keep only these MNIST digits, relabelled 0..k−1 in this order. */
  digits?: number[];
  /** The untrained network; every initialiser seeded from `seed`. */
  build(seed: number): tf.Sequential;
  epochs: number;
  lr: number;
  schedule: ScheduleName;
  batchSize: number;
  /** The clean test accuracy below which the run is reported as failed. */
  minAccuracy: number;
}

export interface TrainFlags {
  epochs?: number;
  seed: number;
  out?: string;
  backend?: BackendName;
}

/** Seeded Glorot-uniform initialiser number `k` of a network built from `seed`. */
export const glorot = (seed: number, k: number) =>
  tf.initializers.glorotUniform({ seed: seed * 10 + k });

export function parseTrainFlags(argv = process.argv.slice(2)): TrainFlags & { only?: string } {
  const { values } = parseArgs({
    args: argv,
    options: {
      epochs: { type: 'string' },
      seed: { type: 'string', default: '0' },
      out: { type: 'string' },
      backend: { type: 'string' },
      only: { type: 'string' },
    },
  });
  const int = (name: string, v: string | undefined, min: number) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min)
      throw new Error(`--${name} must be an integer ≥ ${min}; received ${v}`);
    return n;
  };
  const backend = values.backend as BackendName | undefined;
  if (backend !== undefined && backend !== 'wasm' && backend !== 'cpu') {
    throw new Error(`--backend must be wasm or cpu; received ${backend}`);
  }
  return {
    epochs: int('epochs', values.epochs, 1),
    seed: int('seed', values.seed, 0) ?? 0,
    out: values.out,
    backend,
    only: values.only,
  };
}

/** Fraction of `ds` the saved model at `modelJson` classifies correctly. */
async function cleanAccuracy(modelJson: string, ds: ReturnType<typeof loadMnist>): Promise<number> {
  const net = await tf.loadLayersModel(fileLoadHandler(modelJson));
  let correct = 0;
  for (const { x, labels } of batches(ds, 1000)) {
    const pred = tf.tidy(() => (net.predict(x) as tf.Tensor).argMax(-1).dataSync());
    x.dispose();
    for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) correct++;
  }
  net.dispose();
  return correct / ds.labels.length;
}

/** Train, save and measure one shipped model; returns its metrics. */
export async function trainShipped(spec: ShippedModel, flags: TrainFlags) {
  const backend = await setBackend(flags.backend);
  const train = loadMnist('train', { digits: spec.digits });
  const test = loadMnist('test', { digits: spec.digits });
  const epochs = flags.epochs ?? spec.epochs;
  const model = spec.build(flags.seed);
  const t0 = performance.now();
  await adversarialTrain(model, train, {
    method: 'standard',
    epochs,
    batchSize: spec.batchSize,
    lr: spec.lr,
    schedule: spec.schedule,
    optimizer: 'adam',
    seed: flags.seed,
    onEpoch: (r) =>
      console.log(
        `${spec.name} epoch ${r.epoch}/${epochs}: train loss ${r.cleanTrainLoss.toFixed(4)}, accuracy ${(100 * r.cleanTrainAccuracy).toFixed(2)} % (${r.seconds.toFixed(0)} s)`,
      ),
  });
  const trainSeconds = (performance.now() - t0) / 1000;
  const out = flags.out ?? path.join('models', spec.name);
  await model.save(fileSaveHandler(out));
  const modelJson = path.join(out, 'model.json');
  const accuracy = await cleanAccuracy(modelJson, test);
  const metrics = {
    name: spec.name,
    architecture: spec.architecture,
    trainedOn: train.source,
    epochs,
    optimizer: `Adam, ${spec.schedule === 'cyclic' ? 'one-cycle lr peaking at' : 'constant lr'} ${spec.lr}, batch ${spec.batchSize}`,
    seed: flags.seed,
    cleanAccuracyTest: accuracy,
    testExamples: test.labels.length,
    testData: test.source,
    trainSeconds: Math.round(trainSeconds),
    backend,
    outputs: 'logits',
    bounds: [0, 1],
    classNames: train.classNames,
    parameters: model.countParams(),
    checksum: await checksumModelFiles(modelJson),
    command: `node --import tsx scripts/train-${spec.name}.ts --seed ${flags.seed}${flags.epochs ? ` --epochs ${epochs}` : ''}`,
  };
  await writeFileAtomic(path.join(out, 'metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`);
  model.dispose();
  console.log(
    `${spec.name}: clean test accuracy ${(100 * accuracy).toFixed(2)} % on ${test.labels.length} examples, trained in ${metrics.trainSeconds} s on ${backend} → ${out}`,
  );
  if (accuracy < spec.minAccuracy) {
    console.error(
      `${spec.name}: accuracy ${(100 * accuracy).toFixed(2)} % is below the ${(100 * spec.minAccuracy).toFixed(1)} % this model should reach; check the epochs and learning rate`,
    );
    process.exitCode = 1;
  }
  return metrics;
}

/** True when the module at `url` is the script node was started with. */
export function isMain(url: string): boolean {
  return !!process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === url;
}
