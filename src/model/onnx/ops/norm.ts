/**
 * ReduceMean and LayerNormalization (the pieces of ConvNeXt's and ViT's
 * layer norms; opset 17 has the op, older exports spell it out with
 * ReduceMean/Sub/Pow/Sqrt/Div).
 */
import * as tf from '@tensorflow/tfjs';
import { NHWC_AXIS, normAxis, type OpContext } from '../context.js';
import type { TranslatorTable } from './types.js';

function reduceMean(c: OpContext): void {
  const rank = c.shape(0).length;
  const keepDims = c.attr.int('keepdims', 1) === 1;
  const given = c.opset >= 18 ? (c.has(1) ? c.ints(1) : []) : c.attr.ints('axes', []);
  const axes = (given.length ? given : Array.from({ length: rank }, (_, i) => i)).map((a) =>
    normAxis(a, rank),
  );
  let nhwc = !c.folding && c.layout(0) === 'nhwc';
  if (nhwc && !keepDims) {
    const kept = [0, 1, 2, 3].filter((a) => !axes.includes(a)).map((a) => NHWC_AXIS[a]);
    nhwc = kept.every((v, i) => i === 0 || v > kept[i - 1]);
  }
  const held = nhwc ? axes.map((a) => NHWC_AXIS[a]) : axes;
  c.emit({
    inputs: [c.input(0, nhwc ? 'nhwc' : 'plain')],
    apply: ([x]) => tf.mean(x, held, keepDims),
    layout: nhwc && keepDims ? 'nhwc' : 'plain',
    spec: { kind: 'reduce-mean', axes: held, keepDims },
  });
}

function layerNorm(c: OpContext): void {
  const rank = c.shape(0).length;
  const axis = normAxis(c.attr.int('axis', -1), rank);
  const epsilon = c.attr.float('epsilon', 1e-5);
  const axes = Array.from({ length: rank - axis }, (_, i) => axis + i);
  for (const i of [1, 2])
    if (c.has(i) && !c.isConst(i)) throw c.fail('its scale and bias must be constants');
  const scale = c.has(1) ? tf.tidy(() => c.constant(1).toFloat().clone()) : undefined;
  const bias = c.has(2) ? tf.tidy(() => c.constant(2).toFloat().clone()) : undefined;
  c.emit({
    inputs: [c.input(0, 'plain')],
    apply: ([x]) =>
      tf.tidy(() => {
        const mean = tf.mean(x, axes, true);
        const d = tf.sub(x, mean);
        let y = tf.mul(d, tf.rsqrt(tf.add(tf.mean(tf.square(d), axes, true), epsilon)));
        if (scale) y = tf.mul(y, scale);
        return bias ? tf.add(y, bias) : y;
      }),
    layout: 'plain',
    spec: { kind: 'layernorm', axis, epsilon, scale, bias },
    keep: [scale, bias].filter((t): t is tf.Tensor => t !== undefined),
  });
}

export const normOps: TranslatorTable = {
  ReduceMean: { translate: reduceMean },
  LayerNormalization: { translate: layerNorm },
};
