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

/** Glorot-uniform initialisation drawn from `seed`, so a run is reproducible. */
export function wongSmall(
  options: { seed?: number; inputShape?: [number, number, number]; classes?: number } = {},
): tf.Sequential {
  const seed = options.seed ?? 0;
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 16 + k });
  const shape = options.inputShape ?? [28, 28, 1];
  return tf.sequential({
    name: 'wong-small',
    layers: [
      tf.layers.zeroPadding2d({ padding: 1, inputShape: shape }),
      tf.layers.conv2d({
        filters: 16,
        kernelSize: 4,
        strides: 2,
        activation: 'relu',
        kernelInitializer: init(1),
      }),
      tf.layers.zeroPadding2d({ padding: 1 }),
      tf.layers.conv2d({
        filters: 32,
        kernelSize: 4,
        strides: 2,
        activation: 'relu',
        kernelInitializer: init(2),
      }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 100, activation: 'relu', kernelInitializer: init(3) }),
      tf.layers.dense({ units: options.classes ?? 10, kernelInitializer: init(4) }),
    ],
  });
}
