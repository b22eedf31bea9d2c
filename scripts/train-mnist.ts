/**
 * Train the shipped natural MNIST models, seeded and deterministic, and
 * record their clean test accuracy:
 *
 *   models/mnist-cnn         conv 32 3×3 → max-pool → conv 64 3×3 → max-pool → fc 128 → fc 10
 *   models/mnist-softmax     softmax regression (Goodfellow et al. 2015 §4's shallow model)
 *   models/mnist-logreg-3v7  logistic regression on digits 3 and 7 (Goodfellow et al. 2015
 *                            Fig. 2), as two logits [class "3", class "7"]
 *
 *   npm run train:mnist [-- --only mnist-cnn] [-- --epochs 3]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import {
  adversarialTrain,
  Classifier,
  loadMnist,
  saveModelFiles,
  setBackend,
} from '../src/node.js';

type Name = 'mnist-cnn' | 'mnist-softmax' | 'mnist-logreg-3v7';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    epochs: { type: 'string' },
    seed: { type: 'string', default: '0' },
  },
});
const seed = Number(args.seed);

const glorot = (k: number) => tf.initializers.glorotUniform({ seed: seed * 10 + k });

function architecture(name: Name): {
  model: tf.Sequential;
  text: string;
  epochs: number;
  lr: number;
  schedule: 'constant' | 'cyclic';
} {
  if (name === 'mnist-cnn') {
    const model = tf.sequential({
      name,
      layers: [
        tf.layers.conv2d({
          inputShape: [28, 28, 1],
          filters: 32,
          kernelSize: 3,
          activation: 'relu',
          kernelInitializer: glorot(1),
        }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({
          filters: 64,
          kernelSize: 3,
          activation: 'relu',
          kernelInitializer: glorot(2),
        }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: glorot(3) }),
        tf.layers.dense({ units: 10, kernelInitializer: glorot(4) }),
      ],
    });
    return {
      model,
      text: 'conv 32 3×3 relu → max-pool 2 → conv 64 3×3 relu → max-pool 2 → fc 128 relu → fc 10 (logits)',
      epochs: 5,
      lr: 3e-3,
      schedule: 'cyclic' as const,
    };
  }
  const classes = name === 'mnist-softmax' ? 10 : 2;
  const model = tf.sequential({
    name,
    layers: [
      tf.layers.flatten({ inputShape: [28, 28, 1] }),
      tf.layers.dense({ units: classes, kernelInitializer: tf.initializers.zeros() }),
    ],
  });
  const text =
    name === 'mnist-softmax'
      ? 'softmax regression: fc 10 on the 784 pixels (logits)'
      : 'logistic regression: fc 2 on the 784 pixels (logits for "3", "7")';
  return { model, text, epochs: 5, lr: 5e-3, schedule: 'constant' as const };
}

async function trainOne(name: Name): Promise<void> {
  const digits = name === 'mnist-logreg-3v7' ? [3, 7] : undefined;
  const train = loadMnist('train', { digits });
  const test = loadMnist('test', { digits });
  const { model, text, epochs: defaultEpochs, lr, schedule } = architecture(name);
  const epochs = args.epochs ? Number(args.epochs) : defaultEpochs;
  const t0 = performance.now();
  await adversarialTrain(model, train, {
    method: 'standard',
    epochs,
    batchSize: 128,
    lr,
    schedule,
    seed,
    onEpoch: (r) =>
      console.log(
        `${name} epoch ${r.epoch}: loss ${r.cleanTrainLoss.toFixed(4)} acc ${(100 * r.cleanTrainAccuracy).toFixed(2)}% (${r.seconds.toFixed(0)} s)`,
      ),
  });
  const seconds = (performance.now() - t0) / 1000;
  const out = join('models', name);
  const checksum = await saveModelFiles(model, out);
  const classifier = Classifier.create(model);
  let correct = 0;
  const per = 784;
  for (let i = 0; i < test.labels.length; i += 1000) {
    const n = Math.min(1000, test.labels.length - i);
    const x = tf.tensor4d(test.images.subarray(i * per, (i + n) * per), [n, 28, 28, 1]);
    const { labels } = await classifier.predict(x);
    x.dispose();
    for (let k = 0; k < n; k++) if (labels[k] === test.labels[i + k]) correct++;
  }
  const metrics = {
    name,
    architecture: text,
    trainedOn: train.source,
    epochs,
    optimizer: `Adam, ${schedule === 'cyclic' ? 'one-cycle lr peaking at' : 'lr'} ${lr}, batch 128`,
    seed,
    cleanAccuracyTest: correct / test.labels.length,
    testExamples: test.labels.length,
    testData: test.source,
    trainSeconds: Math.round(seconds),
    backend: tf.getBackend(),
    outputs: 'logits',
    bounds: [0, 1],
    classNames: train.classNames,
    checksum,
    command: `npm run train:mnist -- --only ${name}`,
  };
  writeFileSync(join(out, 'metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`);
  console.log(
    `${name}: clean test accuracy ${(100 * metrics.cleanAccuracyTest).toFixed(2)}% in ${metrics.trainSeconds} s → ${out}`,
  );
  classifier.dispose();
  model.dispose();
}

await setBackend();
const names: Name[] = args.only
  ? (args.only.split(',') as Name[])
  : ['mnist-softmax', 'mnist-logreg-3v7', 'mnist-cnn'];
for (const n of names) await trainOne(n);
process.exit(0);
