/**
 * MaxPool, AveragePool and GlobalAveragePool on NHWC-held values. Pads
 * (explicit, auto_pad, and the extra bottom/right rows ceil_mode needs) are
 * applied with tf.pad before a 'valid' pool: a very negative value for max
 * pooling, zeros for averages (divided by the count of real pixels when
 * count_include_pad is 0).
 */
import * as tf from '@tensorflow/tfjs';
import type { OpContext } from '../context.js';
import type { Pads2D } from '../graph.js';
import { explicitPad, pads2d } from './conv.js';
import type { TranslatorTable } from './types.js';

const LOWEST = -3.4e38;

function poolGeometry(c: OpContext) {
  const kernel = c.attr.ints('kernel_shape', []) as [number, number];
  if (kernel.length !== 2) throw c.fail(`kernel_shape [${kernel}]: only 2-D pools are supported`);
  const strides = c.attr.ints('strides', [1, 1]) as [number, number];
  const dil = c.attr.ints('dilations', [1, 1]);
  if (dil.some((d) => d !== 1)) throw c.fail(`dilations [${dil}] are not supported for pools`);
  const shape = c.shape(0);
  if (shape.length !== 4) throw c.fail(`a rank-${shape.length} input; pools need 4-D NCHW values`);
  const size: [number, number] = [shape[2], shape[3]];
  const pads = pads2d(c, size, kernel, strides, [1, 1]);
  const ceilMode = c.attr.int('ceil_mode', 0) === 1;
  // ceil_mode: PyTorch's rule — the last window must start inside the image or its leading pad.
  const padded: Pads2D = [...pads];
  if (ceilMode)
    [0, 1].forEach((d) => {
      const lead = pads[2 * d];
      const span = size[d] + lead + pads[2 * d + 1];
      let out = Math.ceil((span - kernel[d]) / strides[d]) + 1;
      if ((out - 1) * strides[d] >= size[d] + lead) out--;
      padded[2 * d + 1] += Math.max(0, (out - 1) * strides[d] + kernel[d] - span);
    });
  return { kernel, strides, pads, padded, ceilMode, size };
}

function maxPool(c: OpContext): void {
  if (c.node.output.length > 1 && c.node.output[1])
    throw c.fail('its Indices output is not supported');
  const g = poolGeometry(c);
  const padded = g.padded.some((p) => p > 0);
  c.emit({
    inputs: [c.input(0, 'nhwc')],
    apply: ([x]) =>
      tf.maxPool(
        (padded ? tf.pad(x, explicitPad(g.padded), LOWEST) : x) as tf.Tensor4D,
        g.kernel,
        g.strides,
        'valid',
      ),
    layout: 'nhwc',
    spec: {
      kind: 'maxpool',
      kernel: g.kernel,
      strides: g.strides,
      pads: g.pads,
      ceilMode: g.ceilMode,
      countIncludePad: false,
    },
  });
}

function avgPool(c: OpContext): void {
  const g = poolGeometry(c);
  const includePad = c.attr.int('count_include_pad', 0) === 1;
  const padded = g.padded.some((p) => p > 0);
  let counts: tf.Tensor4D | undefined;
  if (padded) {
    // Real pixels per window (ceil_mode's extra rows never count, as in PyTorch).
    const real: Pads2D = includePad ? g.pads : [0, 0, 0, 0];
    const [h, w] = [g.size[0] + real[0] + real[1], g.size[1] + real[2] + real[3]];
    counts = tf.tidy((): tf.Tensor4D => {
      const ones = tf.pad(
        tf.ones([1, h, w, 1]),
        explicitPad(g.padded.map((p, i) => p - real[i]) as Pads2D),
      );
      return tf.mul(
        tf.avgPool(ones as tf.Tensor4D, g.kernel, g.strides, 'valid'),
        g.kernel[0] * g.kernel[1],
      ) as tf.Tensor4D;
    });
  }
  c.emit({
    inputs: [c.input(0, 'nhwc')],
    apply: ([x]) =>
      tf.tidy(() => {
        if (!counts) return tf.avgPool(x as tf.Tensor4D, g.kernel, g.strides, 'valid');
        const sums = tf.mul(
          tf.avgPool(tf.pad(x, explicitPad(g.padded)) as tf.Tensor4D, g.kernel, g.strides, 'valid'),
          g.kernel[0] * g.kernel[1],
        );
        return tf.div(sums, counts);
      }),
    layout: 'nhwc',
    spec: {
      kind: 'avgpool',
      kernel: g.kernel,
      strides: g.strides,
      pads: g.pads,
      ceilMode: g.ceilMode,
      countIncludePad: includePad,
    },
    keep: counts ? [counts] : [],
  });
}

function globalAvgPool(c: OpContext): void {
  const rank = c.shape(0).length;
  if (rank === 4 && !c.folding) {
    c.emit({
      inputs: [c.input(0, 'nhwc')],
      apply: ([x]) => tf.mean(x, [1, 2], true),
      layout: 'nhwc',
      spec: { kind: 'global-avgpool' },
    });
    return;
  }
  const axes = Array.from({ length: rank - 2 }, (_, i) => i + 2);
  c.emit({
    inputs: [c.input(0, 'plain')],
    apply: ([x]) => tf.mean(x, axes, true),
    layout: 'plain',
    spec: { kind: 'other' },
  });
}

export const poolOps: TranslatorTable = {
  MaxPool: { translate: maxPool },
  AveragePool: { translate: avgPool },
  GlobalAveragePool: { translate: globalAvgPool },
};
