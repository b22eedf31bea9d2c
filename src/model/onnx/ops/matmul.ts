/**
 * Gemm and MatMul. A constant right-hand side is a dense layer: its kernel
 * [in, out] (Gemm's transB, alpha and beta applied at load) runs as one
 * fused matMul over the last axis, whatever the rank of the left side
 * (ConvNeXt's channels-last Linear, ViT's token MLPs). Two runtime sides
 * (attention) are a batched matMul in ONNX order.
 */
import * as tf from '@tensorflow/tfjs';
import type { OpContext } from '../context.js';
import type { TranslatorTable } from './types.js';

function dense(c: OpContext, kernel: tf.Tensor2D, bias: tf.Tensor1D | undefined): void {
  c.emit({
    inputs: [c.input(0, 'plain')],
    apply: ([x]) => {
      if (x.rank === 2) return tf.fused.matMul({ a: x as tf.Tensor2D, b: kernel, bias });
      const lead = x.shape.slice(0, -1);
      const y = tf.fused.matMul({
        a: x.reshape([-1, kernel.shape[0]]) as tf.Tensor2D,
        b: kernel,
        bias,
      });
      return y.reshape([...lead, kernel.shape[1]]);
    },
    layout: 'plain',
    spec: { kind: 'dense', kernel, bias },
    keep: bias ? [kernel, bias] : [kernel],
  });
}

function gemm(c: OpContext): void {
  const alpha = c.attr.float('alpha', 1);
  const beta = c.attr.float('beta', 1);
  const transA = c.attr.int('transA', 0) === 1;
  const transB = c.attr.int('transB', 0) === 1;
  if (c.folding || !c.isConst(1) || transA) {
    const operands = [
      c.input(0, 'plain'),
      c.input(1, 'plain'),
      ...(c.has(2) ? [c.input(2, 'plain')] : []),
    ];
    c.emit({
      inputs: operands,
      apply: ([a, b, bias]) => {
        const y = tf.mul(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, transA, transB), alpha);
        return bias ? tf.add(y, tf.mul(bias, beta)) : y;
      },
      layout: 'plain',
      spec: { kind: 'other' },
    });
    return;
  }
  const n = c.constant(1).shape[transB ? 0 : 1];
  if (c.has(2) && !c.isConst(2))
    throw c.fail('its bias C depends on the input image; advkit needs a constant bias');
  if (c.has(2) && c.constant(2).size !== n)
    throw c.fail(
      `bias C of shape [${c.constant(2).shape}] for ${n} outputs: only a per-output bias is supported`,
    );
  const flat = c.flatNhwc(0);
  const [kernel, bias] = tf.tidy(() => {
    const b = c.constant(1).toFloat();
    let k = tf.mul(transB ? b.transpose() : b, alpha) as tf.Tensor2D;
    if (flat) {
      // rows in ONNX order (c, h, w) → the order the input is held in (h, w, c)
      const [ch, h, w] = flat;
      const rows = new Int32Array(ch * h * w);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          for (let q = 0; q < ch; q++) rows[(y * w + x) * ch + q] = (q * h + y) * w + x;
      k = tf.gather(k, tf.tensor1d(rows, 'int32')) as tf.Tensor2D;
    }
    const bi = c.has(2)
      ? (tf.mul(c.constant(2).toFloat().reshape([-1]), beta) as tf.Tensor1D)
      : undefined;
    return [k, bi] as [tf.Tensor2D, tf.Tensor1D | undefined];
  });
  dense(c, kernel, bias);
}

function matMul(c: OpContext): void {
  if (!c.folding && c.isConst(1) && c.constant(1).rank === 2 && !c.isConst(0)) {
    dense(c, tf.tidy(() => c.constant(1).toFloat().clone()) as tf.Tensor2D, undefined);
    return;
  }
  if (!c.folding && (c.isConst(0) || c.isConst(1)))
    throw c.fail('a constant operand of rank other than 2 on the right is not supported');
  c.emit({
    inputs: [c.input(0, 'plain'), c.input(1, 'plain')],
    apply: ([a, b]) => tf.matMul(a, b),
    layout: 'plain',
    spec: c.folding ? { kind: 'other' } : { kind: 'matmul' },
  });
}

export const matmulOps: TranslatorTable = {
  Gemm: { translate: gemm },
  MatMul: { translate: matMul },
};
