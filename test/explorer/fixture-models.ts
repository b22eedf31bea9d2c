/**
 * Models for the explorer's browser tests, written as TF.js layers-model
 * files (model.json + weights.bin) into a models directory the explorer
 * serves: a softmax-regression MNIST classifier trained for a few seconds on
 * test images 100… (the explorer's samples are the first 100, which it never
 * sees), and a 32×32×3 model whose input shape does not fit MNIST.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readMnistTest } from '../../explorer/mnist-samples.js';

async function save(model: tf.LayersModel, dir: string): Promise<tf.io.ModelArtifacts> {
  mkdirSync(dir, { recursive: true });
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      const json = {
        format: 'layers-model',
        generatedBy: 'advkit explorer tests',
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      };
      writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
      writeFileSync(
        path.join(dir, 'weights.bin'),
        new Uint8Array(artifacts.weightData as ArrayBuffer),
      );
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return saved!;
}

/** Softmax regression on MNIST (logits output), ~88 % on the test set. */
export async function writeMnistSoftmax(dir: string): Promise<tf.io.ModelArtifacts> {
  const { images, labels } = readMnistTest(2100);
  const n = 2000;
  const xs = tf.tidy(() =>
    tf.tensor4d(images.subarray(100 * 784), [n, 28, 28, 1], 'float32').div(255),
  );
  const ys = tf.oneHot(tf.tensor1d(labels.subarray(100), 'int32'), 10);
  const model = tf.sequential({
    name: 'mnist-softmax-fixture',
    layers: [
      tf.layers.flatten({ inputShape: [28, 28, 1] }),
      tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.zeros() }),
    ],
  });
  model.compile({
    optimizer: tf.train.adam(0.01),
    loss: (y: tf.Tensor, z: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, z),
  });
  await model.fit(xs, ys, { epochs: 8, batchSize: 100, shuffle: false, verbose: 0 });
  tf.dispose([xs, ys]);
  const artifacts = await save(model, dir);
  model.dispose();
  return artifacts;
}

/** A valid model with a 32×32×3 input: loads, but does not fit the MNIST samples. */
export async function writeRgbModel(dir: string): Promise<void> {
  const model = tf.sequential({
    name: 'rgb-32',
    layers: [tf.layers.flatten({ inputShape: [32, 32, 3] }), tf.layers.dense({ units: 10 })],
  });
  await save(model, dir);
  model.dispose();
}

/** A 224×224×3 classifier (global average pooling, 5 classes): photos at their real size. */
export async function writePhotoModel(dir: string): Promise<void> {
  const model = tf.sequential({
    name: 'photo-224',
    layers: [
      tf.layers.conv2d({ inputShape: [224, 224, 3], filters: 4, kernelSize: 3, strides: 4 }),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({ units: 5 }),
    ],
  });
  await save(model, dir);
  model.dispose();
}
