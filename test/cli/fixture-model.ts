/**
 * A small MNIST softmax-regression model (or an untrained one with another
 * class count) written as TF.js layers-model files
 * (model.json + weights.bin), trained for a moment on training images so the
 * CLI tests have a real, fast model that does not depend on the shipped ones.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadMnist } from '../../src/data/index.js';

export async function writeFixtureModel(dir: string, classes = 10): Promise<string> {
  mkdirSync(dir, { recursive: true });
  if (classes !== 10) {
    const model = tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [28, 28, 1] }),
        tf.layers.dense({ units: classes, kernelInitializer: 'zeros' }),
      ],
    });
    await save(model, dir);
    model.dispose();
    return path.join(dir, 'model.json');
  }
  const ds = loadMnist('train', { limit: 2000 });
  const xs = tf.tensor4d(ds.images, [ds.labels.length, 28, 28, 1]);
  const ys = tf.oneHot(tf.tensor1d(ds.labels, 'int32'), 10);
  const model = tf.sequential({
    name: 'cli-fixture',
    layers: [
      tf.layers.flatten({ inputShape: [28, 28, 1] }),
      tf.layers.dense({ units: 10, kernelInitializer: 'zeros' }),
    ],
  });
  model.compile({
    optimizer: tf.train.adam(0.01),
    loss: (y: tf.Tensor, z: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, z),
  });
  await model.fit(xs, ys, { epochs: 5, batchSize: 100, shuffle: false, verbose: 0 });
  tf.dispose([xs, ys]);
  await save(model, dir);
  model.dispose();
  return path.join(dir, 'model.json');
}

async function save(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const json = {
        format: 'layers-model',
        generatedBy: 'advkit cli tests',
        modelTopology: a.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
      };
      writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
      writeFileSync(path.join(dir, 'weights.bin'), new Uint8Array(a.weightData as ArrayBuffer));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}
