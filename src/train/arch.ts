/**
 * Architectures for adversarial training.
 *
 * wongSmall — the small MNIST net of Wong, Rice & Kolter (2020), from their
 * `mnist_net`: conv 16 4×4 stride 2 pad 1 → relu → conv 32 4×4 stride 2 pad 1
 * → relu → flatten → fc 100 → relu → fc 10 (logits). 28×28×1 → 14×14×16 →
 * 7×7×32 → 100 → 10; 166,406 parameters.
 */
import * as tf from '@tensorflow/tfjs';

export const ARCH_NAMES = ['wong-small'] as const;
export type ArchName = (typeof ARCH_NAMES)[number];

/**
 * PyTorch's default initialisation (kaiming-uniform with a = √5), which the
 * published runs used: weights and biases uniform in ±1/√fan_in. Drawn from
 * `seed`, so a run is reproducible.
 */
function torchUniform(
  fanIn: number,
  seed: number,
): ReturnType<typeof tf.initializers.randomUniform> {
  const b = 1 / Math.sqrt(fanIn);
  return tf.initializers.randomUniform({ minval: -b, maxval: b, seed });
}

export function wongSmall(
  options: { seed?: number; inputShape?: [number, number, number]; classes?: number } = {},
): tf.Sequential {
  const seed = (options.seed ?? 0) * 16;
  const [h, w, c] = options.inputShape ?? [28, 28, 1];
  const flat =
    Math.floor((Math.floor((h + 2 - 4) / 2 + 1) + 2 - 4) / 2 + 1) *
    Math.floor((Math.floor((w + 2 - 4) / 2 + 1) + 2 - 4) / 2 + 1) *
    32;
  const conv = (filters: number, fanIn: number, k: number) => ({
    filters,
    kernelSize: 4,
    strides: 2,
    activation: 'relu' as const,
    kernelInitializer: torchUniform(fanIn, seed + k),
    biasInitializer: torchUniform(fanIn, seed + k + 8),
  });
  const dense = (units: number, fanIn: number, k: number) => ({
    units,
    kernelInitializer: torchUniform(fanIn, seed + k),
    biasInitializer: torchUniform(fanIn, seed + k + 8),
  });
  return tf.sequential({
    name: 'wong-small',
    layers: [
      tf.layers.zeroPadding2d({ padding: 1, inputShape: [h, w, c] }),
      tf.layers.conv2d(conv(16, c * 16, 1)),
      tf.layers.zeroPadding2d({ padding: 1 }),
      tf.layers.conv2d(conv(32, 16 * 16, 2)),
      tf.layers.flatten(),
      tf.layers.dense({ ...dense(100, flat, 3), activation: 'relu' }),
      tf.layers.dense(dense(options.classes ?? 10, 100, 4)),
    ],
  });
}
