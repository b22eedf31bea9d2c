/**
 * Conv and BatchNormalization. ONNX weights [cout, cin/groups, kh, kw]
 * become HWIO filters (depthwise: [kh, kw, c, multiplier]) once at load; a
 * BatchNormalization that alone reads a Conv is folded into its filter and
 * bias. Dilated filters are spread out with zeros at load, because TF.js
 * has no gradient for dilated convolutions.
 */
import * as tf from '@tensorflow/tfjs';
import type { OpContext } from '../context.js';
import type { Pads2D } from '../graph.js';
import type { NodeProto } from '../proto.js';
import type { TranslatorTable } from './types.js';

/** [top, bottom, left, right] from ONNX pads/auto_pad for input size [h, w]. */
export function pads2d(
  c: OpContext,
  inSize: [number, number],
  kernel: [number, number],
  strides: [number, number],
  dilations: [number, number],
): Pads2D {
  const autoPad = c.attr.string('auto_pad', 'NOTSET');
  if (autoPad === 'VALID') return [0, 0, 0, 0];
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const total = [0, 1].map((d) => {
      const out = Math.ceil(inSize[d] / strides[d]);
      return Math.max((out - 1) * strides[d] + (kernel[d] - 1) * dilations[d] + 1 - inSize[d], 0);
    });
    const split = (t: number) =>
      autoPad === 'SAME_UPPER'
        ? [Math.floor(t / 2), t - Math.floor(t / 2)]
        : [t - Math.floor(t / 2), Math.floor(t / 2)];
    const [t, b] = split(total[0]);
    const [l, r] = split(total[1]);
    return [t, b, l, r];
  }
  if (autoPad !== 'NOTSET')
    throw c.fail(`auto_pad ${JSON.stringify(autoPad)} is not an ONNX value`);
  const p = c.attr.ints('pads', [0, 0, 0, 0]);
  if (p.length !== 4)
    throw c.fail(
      `pads [${p}] are not the 4 values of a 2-D op (only 2-D convolutions and pools are supported)`,
    );
  return [p[0], p[2], p[1], p[3]];
}

export const explicitPad = (p: Pads2D): tf.backend_util.ExplicitPadding => [
  [0, 0],
  [p[0], p[1]],
  [p[2], p[3]],
  [0, 0],
];

/** Spreads a filter's taps `d` apart (zeros between): a dilated conv as a plain one. */
function dilate(f: tf.Tensor4D, dh: number, dw: number): tf.Tensor4D {
  const [kh, kw, a, b] = f.shape;
  const [h2, w2] = [(kh - 1) * dh + 1, (kw - 1) * dw + 1];
  const src = f.dataSync();
  const out = new Float32Array(h2 * w2 * a * b);
  const inner = a * b;
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      out.set(
        src.subarray((i * kw + j) * inner, (i * kw + j + 1) * inner),
        (i * dh * w2 + j * dw) * inner,
      );
  return tf.tensor4d(out, [h2, w2, a, b]);
}

/** The BatchNormalization that alone reads this Conv, with its constants, if any. */
function soleBatchNorm(c: OpContext): { bn: NodeProto; params: tf.Tensor[] } | undefined {
  const { nodes, graphOutput } = c.consumers(0);
  if (graphOutput || nodes.length !== 1 || nodes[0].opType !== 'BatchNormalization')
    return undefined;
  const bn = nodes[0];
  if (bn.input[0] !== c.node.output[0] || bn.output.filter((o) => o).length > 1) return undefined;
  const params = bn.input.slice(1, 5).map((n) => c.constantOf(n));
  if (params.some((p) => p === undefined)) return undefined;
  return { bn, params: params as tf.Tensor[] };
}

/** scale = γ / √(var + ε), offset = β − mean · scale. */
export function bnAffine(params: tf.Tensor[], epsilon: number): [tf.Tensor1D, tf.Tensor1D] {
  return tf.tidy(() => {
    const [gamma, beta, mean, variance] = params.map((p) => p.toFloat().reshape([-1]));
    const scale = tf.div(gamma, tf.sqrt(tf.add(variance, epsilon)));
    return [scale as tf.Tensor1D, tf.sub(beta, tf.mul(mean, scale)) as tf.Tensor1D];
  });
}

function conv(c: OpContext): void {
  if (!c.isConst(1))
    throw c.fail('its weights depend on the input image; advkit needs constant Conv weights');
  const w = c.constant(1);
  if (w.rank !== 4)
    throw c.fail(`weights of rank ${w.rank}: only 2-D convolutions (4-D weights) are supported`);
  const [cout, cinG, kh, kw] = w.shape;
  const groups = c.attr.int('group', 1);
  const inShape = c.shape(0);
  const cin = inShape[1];
  if (cinG * groups !== cin)
    throw c.fail(`weights for ${cinG * groups} input channels; the input has ${cin}`);
  const strides = c.attr.ints('strides', [1, 1]) as [number, number];
  const dilations = c.attr.ints('dilations', [1, 1]) as [number, number];
  const pads = pads2d(c, [inShape[2], inShape[3]], [kh, kw], strides, dilations);
  const fold = soleBatchNorm(c);
  const depthwise = groups === cin && groups > 1;
  const [filter, bias] = tf.tidy(() => {
    let wt = w.toFloat() as tf.Tensor4D;
    let b: tf.Tensor1D | undefined = c.has(2)
      ? (c.constant(2).toFloat().reshape([-1]) as tf.Tensor1D)
      : undefined;
    if (fold) {
      const [scale, offset] = bnAffine(
        fold.params,
        fold.bn.attribute.find((a) => a.name === 'epsilon')?.f ?? 1e-5,
      );
      wt = tf.mul(wt, scale.reshape([-1, 1, 1, 1]));
      b = tf.add(b ? tf.mul(b, scale) : tf.zeros([cout]), offset) as tf.Tensor1D;
    }
    const f = depthwise
      ? tf.transpose(wt.reshape([cin, cout / cin, kh, kw]), [2, 3, 0, 1])
      : tf.transpose(wt, [2, 3, 1, 0]);
    return [f as tf.Tensor4D, b];
  });
  let f = filter;
  if (dilations[0] > 1 || dilations[1] > 1) {
    f = dilate(filter, dilations[0], dilations[1]);
    filter.dispose();
  }
  if (fold) c.absorb(fold.bn);
  const pad = pads.every((p) => p === 0) ? 'valid' : explicitPad(pads);
  // tf.fused.depthwiseConv2d takes one pad for all sides; asymmetric pads go through tf.pad
  const samePads = pads.every((p) => p === pads[0]);
  const run = (x: tf.Tensor4D, fi: tf.Tensor4D, bi?: tf.Tensor1D): tf.Tensor4D =>
    depthwise
      ? tf.fused.depthwiseConv2d({
          x: samePads ? x : (tf.pad(x, explicitPad(pads)) as tf.Tensor4D),
          filter: fi,
          strides,
          pad: samePads ? pads[0] : 'valid',
          bias: bi,
        })
      : tf.fused.conv2d({ x, filter: fi, strides, pad, bias: bi });
  let apply: (xs: tf.Tensor[]) => tf.Tensor;
  if (groups > 1 && !depthwise) {
    const fs = tf.split(f, groups, 3) as tf.Tensor4D[];
    const bs = bias ? (tf.split(bias, groups) as tf.Tensor1D[]) : undefined;
    apply = ([x]) =>
      tf.tidy(() => {
        const xs = tf.split(x as tf.Tensor4D, groups, 3);
        return tf.concat(
          xs.map((xi, g) => run(xi as tf.Tensor4D, fs[g], bs?.[g])),
          3,
        );
      });
    c.emit({
      inputs: [c.input(0, 'nhwc')],
      apply,
      layout: 'nhwc',
      spec: { kind: 'conv', filter: f, bias, strides, pads, dilations: [1, 1], groups, depthwise },
      keep: [f, ...(bias ? [bias] : []), ...fs, ...(bs ?? [])],
    });
    return;
  }
  apply = ([x]) => run(x as tf.Tensor4D, f, bias);
  c.emit({
    inputs: [c.input(0, 'nhwc')],
    apply,
    layout: 'nhwc',
    spec: { kind: 'conv', filter: f, bias, strides, pads, dilations: [1, 1], groups, depthwise },
    keep: bias ? [f, bias] : [f],
  });
}

function batchNorm(c: OpContext): void {
  for (let i = 1; i < 5; i++)
    if (!c.isConst(i))
      throw c.fail('its scale, bias, mean and variance must be constants (inference mode)');
  const [scale, offset] = bnAffine(
    [1, 2, 3, 4].map((i) => c.constant(i)),
    c.attr.float('epsilon', 1e-5),
  );
  const rank = c.shape(0).length;
  if (c.folding || rank === 3) {
    const [s, o] =
      rank >= 3
        ? [
            scale.reshape([-1, ...new Array(rank - 2).fill(1)]),
            offset.reshape([-1, ...new Array(rank - 2).fill(1)]),
          ]
        : [scale, offset];
    c.emit({
      inputs: [c.input(0)],
      apply: ([x]) => tf.add(tf.mul(x, s), o),
      layout: 'plain',
      spec: { kind: 'other' },
      keep: [s, o, scale, offset],
    });
    return;
  }
  if (rank !== 4 && rank !== 2)
    throw c.fail(
      `a rank-${rank} input; advkit supports BatchNormalization on 2-D, 3-D and 4-D values`,
    );
  c.emit({
    inputs: [c.input(0, 'nhwc')],
    apply: ([x]) => tf.add(tf.mul(x, scale), offset),
    layout: 'nhwc',
    spec: { kind: 'affine', scale, offset },
    keep: [scale, offset],
  });
}

export const convOps: TranslatorTable = {
  Conv: { translate: conv },
  BatchNormalization: { translate: batchNorm },
};
