/**
 * Elementwise ops. Unary ops keep their input's layout. A binary op with a
 * constant operand holds the constant in the runtime operand's layout
 * (ONNX broadcasts it against NCHW; NHWC needs its channel axis last); two
 * runtime operands are brought to one layout. Integer/bool-only ops
 * (Equal, Where, …) appear only in shape arithmetic and are folded.
 */
import * as tf from '@tensorflow/tfjs';
import { constantToNhwc, type Layout, type OpContext } from '../context.js';
import type { NodeSpec } from '../graph.js';
import type { TranslatorTable } from './types.js';

type Fn1 = (x: tf.Tensor) => tf.Tensor;
type Fn2 = (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

function unary(fn: (c: OpContext) => Fn1, spec: (c: OpContext) => NodeSpec) {
  return {
    translate(c: OpContext) {
      const f = fn(c);
      const layout = c.layout(0);
      c.emit({ inputs: [c.input(0)], apply: ([x]) => f(x), layout, spec: spec(c) });
    },
  };
}

const simple = (f: Fn1, kind: 'relu' | 'sigmoid' | 'tanh' | 'erf' | 'sqrt' | 'hardswish') =>
  unary(
    () => f,
    () => ({ kind }),
  );

function clipBounds(c: OpContext): [number, number] {
  if (c.opset < 11) return [c.attr.float('min', -3.4e38), c.attr.float('max', 3.4e38)];
  const bound = (i: number, fallback: number) => {
    if (!c.has(i)) return fallback;
    if (!c.isConst(i))
      throw c.fail(
        `its bound (input ${i}) depends on the input image; advkit needs constant Clip bounds`,
      );
    return c.constant(i).dataSync()[0];
  };
  return [bound(1, -3.4e38), bound(2, 3.4e38)];
}

const hardSigmoid = (x: tf.Tensor, alpha: number, beta: number) =>
  tf.clipByValue(tf.add(tf.mul(x, alpha), beta), 0, 1);

const asFloat = (t: tf.Tensor) => (t.dtype === 'float32' ? t : t.toFloat());

function binary(fn: Fn2, kind?: 'add' | 'mul' | 'sub' | 'div') {
  return {
    translate(c: OpContext) {
      if (c.folding) {
        c.emit({
          inputs: [c.input(0), c.input(1)],
          apply: ([a, b]) => fn(a, b),
          layout: 'plain',
          spec: { kind: 'other' },
        });
        return;
      }
      const runtime = [0, 1].filter((i) => !c.isConst(i));
      if (runtime.length === 2) {
        const ranks = [c.shape(0).length, c.shape(1).length];
        const nhwc =
          ranks[0] === 4 && ranks[1] === 4 && (c.layout(0) === 'nhwc' || c.layout(1) === 'nhwc');
        const want: Layout = nhwc ? 'nhwc' : 'plain';
        c.emit({
          inputs: [c.input(0, want), c.input(1, want)],
          apply: ([a, b]) => fn(a, b),
          layout: want,
          spec: kind ? { kind } : { kind: 'other' },
        });
        return;
      }
      const r = runtime[0];
      const layout = c.layout(r);
      const raw = c.constant(1 - r);
      if (layout === 'nhwc' && raw.rank > 4)
        throw c.fail(`a rank-${raw.rank} constant against a 4-D value`);
      const k = tf.tidy(() =>
        layout === 'nhwc' ? constantToNhwc(asFloat(raw), tf) : asFloat(raw).clone(),
      );
      const constantFirst = r === 1;
      c.emit({
        inputs: [c.input(r)],
        apply: ([x]) => (constantFirst ? fn(k, x) : fn(x, k)),
        layout,
        spec: kind ? { kind, constant: k, constantFirst } : { kind: 'other' },
        keep: [k],
      });
    },
  };
}

function pow(c: OpContext): void {
  if (!c.folding && c.isConst(1) && c.constant(1).size === 1) {
    const e = c.constant(1).dataSync()[0];
    const f: Fn1 =
      e === 2 ? tf.square : e === 0.5 ? tf.sqrt : e === 1 ? (x) => x : (x) => tf.pow(x, e);
    c.emit({
      inputs: [c.input(0)],
      apply: ([x]) => f(x),
      layout: c.layout(0),
      spec: { kind: 'pow', exponent: e },
    });
    return;
  }
  binary((a, b) => tf.pow(asFloat(a), asFloat(b))).translate(c);
}

function softmaxLike(op: 'softmax' | 'logsoftmax') {
  const f = op === 'softmax' ? tf.softmax : tf.logSoftmax;
  return {
    translate(c: OpContext) {
      const shape = c.shape(0);
      const rank = shape.length;
      let axis = c.attr.int('axis', c.opset < 13 ? 1 : -1);
      if (axis < 0) axis += rank;
      if (c.opset < 13 && axis !== rank - 1) {
        // before opset 13: the input is flattened to 2-D at `axis`
        c.emit({
          inputs: [c.input(0, 'plain')],
          apply: ([x]) => {
            const lead = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
            return f(x.reshape([lead, -1]) as tf.Tensor2D).reshape(x.shape);
          },
          layout: 'plain',
          spec: { kind: 'other' },
        });
        return;
      }
      const layout = c.layout(0);
      const held = layout === 'nhwc' ? [0, 3, 1, 2][axis] : axis;
      const last = rank - 1;
      const perm = Array.from({ length: rank }, (_, i) => i);
      [perm[held], perm[last]] = [perm[last], perm[held]];
      c.emit({
        inputs: [c.input(0)],
        apply: ([x]) => (held === last ? f(x) : tf.transpose(f(tf.transpose(x, perm)), perm)),
        layout,
        spec: { kind: op, axis: held },
      });
    },
  };
}

export const elementwiseOps: TranslatorTable = {
  Relu: simple(tf.relu, 'relu'),
  Sigmoid: simple(tf.sigmoid, 'sigmoid'),
  Tanh: simple(tf.tanh, 'tanh'),
  Erf: simple(tf.erf, 'erf'),
  Sqrt: simple(tf.sqrt, 'sqrt'),
  HardSwish: simple((x) => tf.mul(x, hardSigmoid(x, 1 / 6, 0.5)), 'hardswish'),
  Neg: unary(
    () => tf.neg,
    () => ({ kind: 'other' }),
  ),
  Exp: unary(
    () => tf.exp,
    () => ({ kind: 'other' }),
  ),
  Abs: unary(
    () => tf.abs,
    () => ({ kind: 'other' }),
  ),
  Reciprocal: unary(
    () => tf.reciprocal,
    () => ({ kind: 'other' }),
  ),
  LeakyRelu: unary(
    (c) => (x) => tf.leakyRelu(x, c.attr.float('alpha', 0.01)),
    (c) => ({ kind: 'leakyrelu', alpha: c.attr.float('alpha', 0.01) }),
  ),
  HardSigmoid: unary(
    (c) => (x) => hardSigmoid(x, c.attr.float('alpha', 0.2), c.attr.float('beta', 0.5)),
    (c) => ({
      kind: 'hardsigmoid',
      alpha: c.attr.float('alpha', 0.2),
      beta: c.attr.float('beta', 0.5),
    }),
  ),
  Clip: {
    translate(c) {
      const [min, max] = clipBounds(c);
      c.emit({
        inputs: [c.input(0)],
        apply: ([x]) => tf.clipByValue(x, min, max),
        layout: c.layout(0),
        spec: { kind: 'clip', min, max },
      });
    },
  },
  Gelu: unary(
    (c) =>
      c.attr.string('approximate', 'none') === 'tanh'
        ? (x) =>
            tf.mul(
              tf.mul(x, 0.5),
              tf.add(
                1,
                tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))))),
              ),
            )
        : (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2)))),
    (c) => ({
      kind: 'gelu',
      approximate: c.attr.string('approximate', 'none') === 'tanh' ? 'tanh' : 'none',
    }),
  ),
  Add: binary(tf.add, 'add'),
  Sub: binary(tf.sub, 'sub'),
  Mul: binary(tf.mul, 'mul'),
  Div: binary(
    (a, b) =>
      a.dtype === 'int32' && b.dtype === 'int32'
        ? tf.floorDiv(a, b)
        : tf.div(asFloat(a), asFloat(b)),
    'div',
  ),
  Pow: { translate: pow },
  Equal: binary(tf.equal),
  Less: binary(tf.less),
  Greater: binary(tf.greater),
  Not: unary(
    () => tf.logicalNot,
    () => ({ kind: 'other' }),
  ),
  Where: {
    translate(c) {
      if (!c.folding)
        throw c.fail('Where is supported only in shape arithmetic (all inputs known at load)');
      c.emit({
        inputs: [c.input(0), c.input(1), c.input(2)],
        apply: ([cond, a, b]) => tf.where(cond.toBool(), a, b),
        layout: 'plain',
        spec: { kind: 'other' },
      });
    },
  },
  Softmax: softmaxLike('softmax'),
  LogSoftmax: softmaxLike('logsoftmax'),
};
