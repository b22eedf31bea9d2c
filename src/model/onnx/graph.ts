/**
 * An ONNX graph after translation: what runs at attack time. Everything that
 * does not depend on the input image — initializers, Constant nodes, the
 * Shape/Gather/Concat arithmetic exporters emit around Reshape and Expand,
 * a BatchNormalization folded into the Conv before it — was evaluated at
 * load and is gone; what is left are the nodes that read the image.
 *
 * Runtime values are numbered: value 0 is the image (NHWC), every node
 * writes one new value, and nodes are listed in an order where each node's
 * inputs are written before it. A 4-D value whose ONNX meaning is NCHW is
 * held as NHWC (`layout: 'nhwc'`), so convolutions and pools run on TF.js's
 * native layout; values of other ranks (tokens, logits) keep ONNX's order.
 * Where ONNX reads an NHWC-held value in NCHW order (a Reshape of a feature
 * map, a Transpose), the translator inserts a `transpose` node, so a graph
 * walker never has to think about layouts: each node's `apply` consumes and
 * produces values exactly as they are held.
 *
 * `spec` says what a node computes in terms a fast gradient step can use
 * (constants already in NHWC/HWIO order); `{ kind: 'other' }` is a node to
 * differentiate with autodiff through `apply`.
 */
import type * as tf from '@tensorflow/tfjs';

/** [top, bottom, left, right] */
export type Pads2D = [number, number, number, number];

export type NodeSpec =
  | {
      kind: 'conv';
      /** HWIO ([kh, kw, cin/groups, cout]); for depthwise, [kh, kw, c, multiplier]. */
      filter: tf.Tensor4D;
      bias?: tf.Tensor1D;
      strides: [number, number];
      pads: Pads2D;
      dilations: [number, number];
      groups: number;
      /** groups == input channels: `filter` is in tf.depthwiseConv2d's layout. */
      depthwise: boolean;
    }
  | {
      /** x · kernel + bias on the last axis (Gemm, or MatMul with a constant right side). */
      kind: 'dense';
      kernel: tf.Tensor2D;
      bias?: tf.Tensor1D;
    }
  | {
      kind: 'maxpool' | 'avgpool';
      kernel: [number, number];
      strides: [number, number];
      pads: Pads2D;
      ceilMode: boolean;
      /** AveragePool's count_include_pad (false for maxpool). */
      countIncludePad: boolean;
    }
  | { kind: 'global-avgpool' }
  /** y = x · scale + offset per channel (last axis): an unfolded BatchNormalization. */
  | { kind: 'affine'; scale: tf.Tensor1D; offset: tf.Tensor1D }
  | { kind: 'relu' | 'sigmoid' | 'hardswish' | 'tanh' | 'erf' | 'sqrt' | 'identity' }
  | { kind: 'clip'; min: number; max: number }
  | { kind: 'hardsigmoid'; alpha: number; beta: number }
  | { kind: 'leakyrelu'; alpha: number }
  | { kind: 'gelu'; approximate: 'none' | 'tanh' }
  | { kind: 'pow'; exponent: number }
  /**
   * Elementwise binary op with broadcasting. With two runtime inputs both are
   * in `inputs`; with a constant operand, `inputs` has the runtime one and
   * `constant` (already in the runtime operand's layout) is the other, on
   * the side `constantFirst` says.
   */
  | {
      kind: 'add' | 'mul' | 'sub' | 'div';
      constant?: tf.Tensor;
      constantFirst?: boolean;
    }
  /** Batched matrix product of two runtime values (attention). */
  | { kind: 'matmul' }
  | { kind: 'softmax' | 'logsoftmax'; axis: number }
  /** Mean over `axes` of the held value (already remapped to its layout). */
  | { kind: 'reduce-mean'; axes: number[]; keepDims: boolean }
  | { kind: 'layernorm'; axis: number; epsilon: number; scale?: tf.Tensor; bias?: tf.Tensor }
  | { kind: 'concat'; axis: number }
  | { kind: 'transpose'; perm: number[] }
  /** Reshape to a fixed shape; -1 stands for the batch-dependent dimension when there is one. */
  | { kind: 'reshape'; shape: number[] }
  | { kind: 'other' };

export interface TranslatedNode {
  /** The ONNX node's name (or `op_index` when it had none); inserted transposes add a suffix. */
  name: string;
  /** The ONNX op type, or 'Transpose' for an inserted layout change. */
  op: string;
  /** Runtime value numbers read, in the op's order. */
  inputs: number[];
  /** Runtime value number written. */
  output: number;
  /** The differentiable forward with TF.js ops, on values as they are held. */
  apply(xs: tf.Tensor[]): tf.Tensor;
  spec: NodeSpec;
}

export interface ValueInfo {
  /** Shape as held at the translation batch (`batch` below), NHWC for 'nhwc'. */
  shape: number[];
  layout: 'nhwc' | 'plain';
}

export interface TranslatedGraph {
  nodes: TranslatedNode[];
  /** Value number of the graph output (the model's logits or probabilities). */
  output: number;
  /** Per value number: its shape at translation time and how it is held. */
  values: ValueInfo[];
  /** The batch size `values` shapes were recorded at. */
  batch: number;
  /**
   * When the file fixes the batch size and bakes it into reshapes (a
   * PyTorch export without dynamic_axes), the graph runs only at that
   * batch size; `forward` splits larger batches into chunks of this size.
   */
  fixedBatch?: number;
  /** Frees the constants every node holds. */
  dispose(): void;
}
