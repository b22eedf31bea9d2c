/**
 * The benchmark architectures, built with tfjs-layers and seeded weights:
 * the shipped MNIST CNN (its training script's architecture), a small
 * CIFAR-size ResNet with batch norm, and MobileNetV2 at 224×224. `bench/torch_reference.py` builds the
 * same three in PyTorch.
 */
import * as tf from '@tensorflow/tfjs';
import { mnistCnn } from '../scripts/train-mnist-cnn.js';

export type BenchModelName = 'mnist-cnn' | 'resnet-small' | 'mobilenetv2';

export interface BenchModel {
  name: BenchModelName;
  model: tf.LayersModel;
  inputShape: [number, number, number];
  classes: number;
}

let seed = 1;
const init = () => tf.initializers.heNormal({ seed: seed++ });

function convBn(
  x: tf.SymbolicTensor,
  filters: number,
  kernel: number,
  stride: number,
  relu: boolean,
): tf.SymbolicTensor {
  let y = tf.layers
    .conv2d({
      filters,
      kernelSize: kernel,
      strides: stride,
      padding: 'same',
      useBias: false,
      kernelInitializer: init(),
    })
    .apply(x) as tf.SymbolicTensor;
  y = tf.layers.batchNormalization().apply(y) as tf.SymbolicTensor;
  return relu ? (tf.layers.reLU().apply(y) as tf.SymbolicTensor) : y;
}

function resnetSmall(): tf.LayersModel {
  const input = tf.input({ shape: [32, 32, 3] });
  let x = convBn(input, 16, 3, 1, true);
  for (const [cout, stride] of [
    [16, 1],
    [32, 2],
    [64, 2],
  ]) {
    const cin = x.shape[3];
    const y = convBn(convBn(x, cout, 3, stride, true), cout, 3, 1, false);
    const shortcut = stride !== 1 || cin !== cout ? convBn(x, cout, 1, stride, false) : x;
    x = tf.layers.reLU().apply(tf.layers.add().apply([y, shortcut])) as tf.SymbolicTensor;
  }
  const pooled = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: 10, kernelInitializer: init() })
    .apply(pooled) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

function mobilenetV2(): tf.LayersModel {
  const relu6 = (t: tf.SymbolicTensor) =>
    tf.layers.reLU({ maxValue: 6 }).apply(t) as tf.SymbolicTensor;
  const bn = (t: tf.SymbolicTensor) => tf.layers.batchNormalization().apply(t) as tf.SymbolicTensor;
  const pw = (t: tf.SymbolicTensor, f: number) =>
    tf.layers
      .conv2d({ filters: f, kernelSize: 1, useBias: false, kernelInitializer: init() })
      .apply(t) as tf.SymbolicTensor;
  const input = tf.input({ shape: [224, 224, 3] });
  let x = relu6(
    bn(
      tf.layers
        .conv2d({
          filters: 32,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          useBias: false,
          kernelInitializer: init(),
        })
        .apply(input) as tf.SymbolicTensor,
    ),
  );
  // (expansion, channels, repeats, stride), as in the paper's table.
  const table: [number, number, number, number][] = [
    [1, 16, 1, 1],
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
  ];
  for (const [t, c, n, s] of table) {
    for (let i = 0; i < n; i++) {
      const cin = x.shape[3] as number;
      const stride = i === 0 ? s : 1;
      let y = t === 1 ? x : relu6(bn(pw(x, cin * t)));
      y = relu6(
        bn(
          tf.layers
            .depthwiseConv2d({
              kernelSize: 3,
              strides: stride,
              padding: 'same',
              useBias: false,
              depthwiseInitializer: init(),
            })
            .apply(y) as tf.SymbolicTensor,
        ),
      );
      y = bn(pw(y, c));
      x = stride === 1 && cin === c ? (tf.layers.add().apply([x, y]) as tf.SymbolicTensor) : y;
    }
  }
  x = relu6(bn(pw(x, 1280)));
  const pooled = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: 1000, kernelInitializer: init() })
    .apply(pooled) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

export function buildBenchModel(name: BenchModelName): BenchModel {
  seed = 1;
  switch (name) {
    case 'mnist-cnn':
      // The shipped model's own architecture (weights are random here).
      return { name, model: mnistCnn.build(0), inputShape: [28, 28, 1], classes: 10 };
    case 'resnet-small':
      return { name, model: resnetSmall(), inputShape: [32, 32, 3], classes: 10 };
    case 'mobilenetv2':
      return { name, model: mobilenetV2(), inputShape: [224, 224, 3], classes: 1000 };
  }
}
