/**
 * Shape and layout ops. On runtime values the translator keeps NHWC where
 * the op allows it (Slice, Split, Pad, Concat remap their axes; a Flatten
 * of [N, C, 1, 1] needs no transpose; a Transpose that undoes the NHWC
 * holding is free) and otherwise reads the value in ONNX order (an inserted
 * transpose to NCHW). Everything on known values — the Shape → Gather →
 * Concat → Reshape chains of PyTorch exports — is folded at load.
 */
import * as tf from '@tensorflow/tfjs';
import { NHWC_AXIS, normAxis, type OpContext, TO_NHWC } from '../context.js';
import { toNumber } from '../proto.js';
import { decodeTensor } from '../tensors.js';
import type { TranslatorTable } from './types.js';

const prod = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

/** Axes from the attribute (older opsets) or from input `i` (newer). */
function axesOf(c: OpContext, i: number, fallback: number[] = []): number[] {
  if (c.attr.has('axes')) return c.attr.ints('axes', fallback);
  return c.has(i) ? c.ints(i) : fallback;
}

/** Removing `removed` ONNX axes of an NHWC-held value leaves its other axes in ONNX order. */
function dropKeepsOrder(removed: number[]): boolean {
  const kept = [0, 1, 2, 3].filter((a) => !removed.includes(a)).map((a) => NHWC_AXIS[a]);
  return kept.every((v, i) => i === 0 || v > kept[i - 1]);
}

function reshapeTo(x: tf.Tensor, target: number[]): tf.Tensor {
  return x.reshape(target.map((d, k) => (d === 0 ? x.shape[k] : d)));
}

export const shapeOps: TranslatorTable = {
  Identity: { translate: (c) => c.alias(0) },
  Dropout: { translate: (c) => c.alias(0) },
  Cast: {
    translate(c) {
      const to = c.attr.int('to', 1);
      const dtype = [1, 10, 11, 16].includes(to) ? 'float32' : to === 9 ? 'bool' : 'int32';
      if (!c.folding && dtype === 'float32') return c.alias(0);
      if (!c.folding)
        throw c.fail(`a cast of an image-dependent value to ${dtype} is not differentiable`);
      c.emit({
        inputs: [c.input(0)],
        apply: ([x]) => tf.cast(x, dtype),
        layout: 'plain',
        spec: { kind: 'other' },
      });
    },
  },
  Shape: {
    shapeOnly: true,
    translate(c) {
      const shape = c.shape(0);
      const start = normAxis(c.attr.int('start', 0), shape.length);
      const end = c.attr.has('end')
        ? normAxis(c.attr.int('end', shape.length), shape.length)
        : shape.length;
      const dims = shape.slice(start, end);
      c.emit({
        inputs: [],
        apply: () => tf.tensor1d(dims, 'int32'),
        layout: 'plain',
        spec: { kind: 'other' },
      });
    },
  },
  ConstantOfShape: {
    translate(c) {
      const proto = c.attr.raw('value')?.t;
      const value = proto
        ? decodeTensor(proto, `node ${JSON.stringify(c.name)}'s value`)
        : undefined;
      const fill = value ? value.dataSync()[0] : 0;
      const dtype = value?.dtype === 'int32' ? 'int32' : 'float32';
      value?.dispose();
      const shape = c.ints(0);
      c.emit({
        inputs: [],
        apply: () => tf.fill(shape, fill, dtype),
        layout: 'plain',
        spec: { kind: 'other' },
      });
    },
  },
  Range: {
    translate(c) {
      const [start, limit, delta] = [0, 1, 2].map((i) => c.constant(i).dataSync()[0]);
      const dtype = c.constant(0).dtype === 'int32' ? 'int32' : 'float32';
      c.emit({
        inputs: [],
        apply: () => tf.range(start, limit, delta, dtype),
        layout: 'plain',
        spec: { kind: 'other' },
      });
    },
  },
  Gather: {
    translate(c) {
      if (!c.isConst(1))
        throw c.fail(
          'its indices depend on the input image; advkit supports Gather with constant indices',
        );
      const rank = c.shape(0).length;
      const axis = normAxis(c.attr.int('axis', 0), rank);
      const idx = c.constant(1);
      const dim = c.shape(0)[axis];
      const flat = Array.from(idx.dataSync()).map((v) => (v < 0 ? v + dim : v));
      const idxShape = idx.shape;
      const indices = tf.tensor1d(flat, 'int32');
      c.emit({
        inputs: [c.input(0, 'plain')],
        apply: ([x]) => {
          const g = tf.gather(x, indices, axis);
          return g.reshape([...x.shape.slice(0, axis), ...idxShape, ...x.shape.slice(axis + 1)]);
        },
        layout: 'plain',
        spec: { kind: 'other' },
        keep: [indices],
      });
    },
  },
  Unsqueeze: {
    translate(c) {
      const rank = c.shape(0).length;
      const axes = axesOf(c, 1)
        .map((a) => normAxis(a, rank + axesOf(c, 1).length))
        .sort((a, b) => a - b);
      c.emit({
        inputs: [c.input(0, 'plain')],
        apply: ([x]) => {
          const shape = [...x.shape];
          for (const a of axes) shape.splice(a, 0, 1);
          return x.reshape(shape);
        },
        layout: 'plain',
        spec: { kind: 'other' },
      });
    },
  },
  Squeeze: {
    translate(c) {
      const shape = c.shape(0);
      const given = axesOf(c, 1);
      const axes = (given.length ? given : shape.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) =>
        normAxis(a, shape.length),
      );
      const nhwc = c.layout(0) === 'nhwc' && dropKeepsOrder(axes);
      const held = nhwc ? axes.map((a) => NHWC_AXIS[a]) : axes;
      c.emit({
        inputs: [c.input(0, nhwc ? 'nhwc' : 'plain')],
        apply: ([x]) => tf.squeeze(x, held),
        layout: 'plain',
        spec: { kind: 'other' },
      });
    },
  },
  Flatten: {
    translate(c) {
      const shape = c.shape(0);
      const axis = normAxis(c.attr.int('axis', 1), shape.length);
      // [N, C, 1, 1] is the same data NHWC or NCHW: no transpose (GlobalAveragePool → Flatten → Gemm)
      const free = c.layout(0) === 'nhwc' && axis === 1 && shape[2] === 1 && shape[3] === 1;
      // A larger map read only by Gemms with constant weights: flatten as held, and the
      // Gemms permute their weight rows at load (no transpose at run time).
      const readers = c.consumers(0);
      const gemmsOnly =
        !free &&
        !c.folding &&
        c.layout(0) === 'nhwc' &&
        axis === 1 &&
        !readers.graphOutput &&
        readers.nodes.length > 0 &&
        readers.nodes.every(
          (n) =>
            n.opType === 'Gemm' &&
            n.input[0] === c.node.output[0] &&
            n.input[1] !== c.node.output[0] &&
            c.constantOf(n.input[1]) !== undefined &&
            !n.attribute.some((a) => a.name === 'transA' && toNumber(a.i) === 1),
        );
      if (gemmsOnly) {
        c.emit({
          inputs: [c.input(0, 'nhwc')],
          apply: ([x]) => x.reshape([x.shape[0], -1]),
          layout: 'plain',
          spec: { kind: 'reshape', shape: [-1, prod(shape.slice(1))] },
          flatNhwc: [shape[1], shape[2], shape[3]],
        });
        return;
      }
      c.emit({
        inputs: [c.input(0, free ? 'nhwc' : 'plain')],
        apply: ([x]) => x.reshape([prod(x.shape.slice(0, axis)), -1]),
        layout: 'plain',
        spec: { kind: 'reshape', shape: [-1, prod(shape.slice(axis))] },
      });
    },
  },
  Reshape: {
    translate(c) {
      if (c.folding) {
        const target = c.ints(1);
        c.emit({
          inputs: [c.input(0)],
          apply: ([x]) => reshapeTo(x, target),
          layout: 'plain',
          spec: { kind: 'other' },
        });
        return;
      }
      if (!c.isConst(1))
        throw c.fail(
          'its target shape depends on the image values; advkit needs shapes known at load',
        );
      const at = c.batchInts(1);
      const fixed = at(1).every((v, k) => v === at(2)[k]);
      const { inputs, read } = c.batchReader([c.input(0, 'plain')]);
      c.emit({
        inputs,
        apply: (xs) => reshapeTo(xs[0], fixed ? at(1) : at(read(xs))),
        layout: 'plain',
        spec:
          fixed && at(1).includes(-1) && !at(1).includes(0)
            ? { kind: 'reshape', shape: at(1) }
            : { kind: 'other' },
      });
    },
  },
  Expand: {
    translate(c) {
      if (c.folding) {
        const target = c.ints(1);
        c.emit({
          inputs: [c.input(0)],
          apply: ([x]) => expand(x, target),
          layout: 'plain',
          spec: { kind: 'other' },
        });
        return;
      }
      const at = c.batchInts(1);
      if (c.isConst(0)) {
        const data = c.constant(0).clone();
        const { inputs, read } = c.batchReader([]);
        c.emit({
          inputs,
          apply: (xs) => expand(data, at(read(xs))),
          layout: 'plain',
          spec: { kind: 'other' },
          keep: [data],
        });
        return;
      }
      const { inputs, read } = c.batchReader([c.input(0, 'plain')]);
      c.emit({
        inputs,
        apply: (xs) => expand(xs[0], at(read(xs))),
        layout: 'plain',
        spec: { kind: 'other' },
      });
    },
  },
  Transpose: {
    translate(c) {
      const rank = c.shape(0).length;
      const p = c.attr.ints(
        'perm',
        Array.from({ length: rank }, (_, i) => rank - 1 - i),
      );
      if (c.folding) {
        c.emit({
          inputs: [c.input(0)],
          apply: ([x]) => tf.transpose(x, p),
          layout: 'plain',
          spec: { kind: 'other' },
        });
        return;
      }
      const from = c.layout(0);
      const heldOf = (a: number) => (from === 'nhwc' ? NHWC_AXIS[a] : a);
      const permFor = (out: 'nhwc' | 'plain') =>
        Array.from({ length: rank }, (_, k) => heldOf(p[out === 'nhwc' ? TO_NHWC[k] : k]));
      const isId = (m: number[]) => m.every((v, i) => v === i);
      const candidates: ('nhwc' | 'plain')[] = rank === 4 ? ['plain', 'nhwc'] : ['plain'];
      const free = candidates.find((l) => isId(permFor(l)));
      if (free) {
        // held data already in the order ONNX asks for: re-read it, no node
        c.aliasAs(0, free);
        return;
      }
      const m = permFor('plain');
      c.emit({
        inputs: [c.input(0)],
        apply: ([x]) => tf.transpose(x, m),
        layout: 'plain',
        spec: { kind: 'transpose', perm: m },
      });
    },
  },
  Concat: {
    translate(c) {
      const n = c.node.input.length;
      const rank = c.shape(0).length;
      const axis = normAxis(c.attr.int('axis', 0), rank);
      if (c.folding) {
        const hs = Array.from({ length: n }, (_, i) => c.input(i));
        c.emit({
          inputs: hs,
          apply: (xs) => tf.concat(xs, axis),
          layout: 'plain',
          spec: { kind: 'other' },
        });
        return;
      }
      const nhwc =
        rank === 4 &&
        Array.from({ length: n }, (_, i) => i).some((i) => !c.isConst(i) && c.layout(i) === 'nhwc');
      const parts: (number | tf.Tensor)[] = [];
      const inputs: number[] = [];
      const keep: tf.Tensor[] = [];
      for (let i = 0; i < n; i++) {
        if (c.isConst(i)) {
          const k = tf.tidy(() =>
            nhwc ? tf.transpose(c.constant(i).toFloat(), TO_NHWC) : c.constant(i).toFloat().clone(),
          );
          keep.push(k);
          parts.push(k);
        } else {
          parts.push(inputs.length);
          inputs.push(c.input(i, nhwc ? 'nhwc' : 'plain'));
        }
      }
      const held = nhwc ? NHWC_AXIS[axis] : axis;
      const { inputs: withBatch } = c.batchReader(inputs);
      c.emit({
        inputs: withBatch.slice(0, inputs.length),
        apply: (xs) =>
          tf.concat(
            parts.map((p) => (typeof p === 'number' ? xs[p] : p)),
            held,
          ),
        layout: nhwc ? 'nhwc' : 'plain',
        spec: keep.length === 0 ? { kind: 'concat', axis: held } : { kind: 'other' },
        keep,
      });
    },
  },
  Slice: {
    translate(c) {
      const shape = c.shape(0);
      const rank = shape.length;
      const legacy = c.opset < 10;
      const starts = legacy ? c.attr.ints('starts', []) : c.ints(1);
      const ends = legacy ? c.attr.ints('ends', []) : c.ints(2);
      const axes = (
        legacy
          ? c.attr.ints(
              'axes',
              starts.map((_, i) => i),
            )
          : c.has(3)
            ? c.ints(3)
            : starts.map((_, i) => i)
      ).map((a) => normAxis(a, rank));
      const steps = !legacy && c.has(4) ? c.ints(4) : starts.map(() => 1);
      if (steps.some((s) => s <= 0))
        throw c.fail(`steps [${steps}]: only positive Slice steps are supported`);
      const nhwc = !c.folding && c.layout(0) === 'nhwc';
      const heldAxes = axes.map((a) => (nhwc ? NHWC_AXIS[a] : a));
      const apply = ([x]: tf.Tensor[]) => {
        const begin = new Array(x.rank).fill(0);
        const end = [...x.shape];
        const stride = new Array(x.rank).fill(1);
        heldAxes.forEach((a, i) => {
          const d = x.shape[a];
          const clamp = (v: number) => Math.max(0, Math.min(d, v < 0 ? v + d : v));
          begin[a] = clamp(starts[i]);
          end[a] = Math.max(begin[a], clamp(ends[i]));
          stride[a] = steps[i];
        });
        if (stride.every((s) => s === 1))
          return tf.slice(
            x,
            begin,
            end.map((e, k) => e - begin[k]),
          );
        return tf.stridedSlice(x, begin, end, stride);
      };
      c.emit({
        inputs: [c.input(0)],
        apply,
        layout: nhwc ? 'nhwc' : 'plain',
        spec: { kind: 'other' },
      });
    },
  },
  Split: {
    translate(c) {
      const shape = c.shape(0);
      const axis = normAxis(c.attr.int('axis', 0), shape.length);
      const outs = c.node.output.length;
      let sizes = c.attr.has('split') ? c.attr.ints('split', []) : c.has(1) ? c.ints(1) : [];
      if (sizes.length === 0) {
        const n = c.attr.int('num_outputs', outs);
        const each = Math.ceil(shape[axis] / n);
        sizes = Array.from({ length: n }, (_, i) => Math.min(each, shape[axis] - each * i));
      }
      const nhwc = !c.folding && c.layout(0) === 'nhwc';
      const held = nhwc ? NHWC_AXIS[axis] : axis;
      let offset = 0;
      sizes.forEach((size, o) => {
        const start = offset;
        offset += size;
        if (!c.node.output[o]) return;
        c.emit({
          inputs: [c.input(0)],
          apply: ([x]) => {
            const begin = new Array(x.rank).fill(0);
            const len = [...x.shape];
            begin[held] = start;
            len[held] = size;
            return tf.slice(x, begin, len);
          },
          layout: nhwc ? 'nhwc' : 'plain',
          spec: { kind: 'other' },
          output: o,
        });
      });
    },
  },
  Pad: {
    translate(c) {
      const mode = c.attr.string('mode', 'constant');
      if (mode !== 'constant')
        throw c.fail(`mode ${JSON.stringify(mode)}: only constant padding is supported`);
      const given = c.opset < 11 ? c.attr.ints('pads', []) : c.ints(1);
      const value =
        c.opset < 11 ? c.attr.float('value', 0) : c.has(2) ? c.constant(2).dataSync()[0] : 0;
      const rank = c.shape(0).length;
      // Opset 18's axes input: the pads name only those axes (begins, then ends).
      let pads = given;
      if (c.opset >= 18 && c.has(3)) {
        const axes = c.ints(3).map((a) => normAxis(a, rank));
        if (given.length !== 2 * axes.length)
          throw c.fail(
            `${given.length} pads for ${axes.length} axes (expected ${2 * axes.length})`,
          );
        pads = new Array(2 * rank).fill(0);
        axes.forEach((a, i) => {
          pads[a] = given[i];
          pads[a + rank] = given[i + axes.length];
        });
      }
      const nhwc = !c.folding && c.layout(0) === 'nhwc';
      const pairs: [number, number][] = Array.from({ length: rank }, (_, a) => [
        pads[a],
        pads[a + rank],
      ]);
      const held = nhwc ? TO_NHWC.map((a) => pairs[a]) : pairs;
      if (held.some(([a, b]) => a < 0 || b < 0))
        throw c.fail(`negative pads [${pads}] are not supported`);
      c.emit({
        inputs: [c.input(0)],
        apply: ([x]) => tf.pad(x, held, value),
        layout: nhwc ? 'nhwc' : 'plain',
        spec: { kind: 'other' },
      });
    },
  },
};

/** ONNX Expand: broadcast `x` against `target` (both ways, as numpy). */
function expand(x: tf.Tensor, target: number[]): tf.Tensor {
  const rank = Math.max(x.rank, target.length);
  const xs = [...new Array(rank - x.rank).fill(1), ...x.shape];
  const ts = [...new Array(rank - target.length).fill(1), ...target];
  const out = xs.map((d, i) => (d === 1 ? ts[i] : d));
  return tf.broadcastTo(x.reshape(xs), out);
}
