/**
 * A TF.js graph model written from a LayersModel's weights, node for node as
 * the converter writes a Keras `conv → relu → flatten → dense(activation)`
 * classifier: … → MatMul → BiasAdd → Softmax (or Sigmoid) → Identity.
 */
import * as tf from '@tensorflow/tfjs';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const ints = (v: number[]) => ({ list: { i: v.map(String) } });
const T = { T: { type: 'DT_FLOAT' } };

export interface GraphFixture {
  layers: tf.Sequential;
  artifacts: tf.io.ModelArtifacts;
  graph: tf.GraphModel;
}

/**
 * `size`×`size`×1 input, conv 3×3 'valid' with 3 filters, dense to `units`
 * with `activation`; `auxOutput` adds a second graph output (the conv
 * features), as multi-head models have.
 */
export async function convGraph(
  units: number,
  activation: 'softmax' | 'sigmoid' | 'linear',
  size = 6,
  auxOutput = false,
): Promise<GraphFixture> {
  const layers = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [size, size, 1],
        filters: 3,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }),
        biasInitializer: tf.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: 8 }),
      }),
      tf.layers.flatten(),
      tf.layers.dense({
        units,
        activation,
        // Wide weights make some examples confident, where log(softmax) would saturate.
        kernelInitializer: tf.initializers.randomUniform({ minval: -2, maxval: 2, seed: 9 }),
        biasInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: 10 }),
      }),
    ],
  });
  const flat = (size - 2) * (size - 2) * 3;
  const [k1, b1, w2, b2] = layers.getWeights();
  const shape = tf.tensor1d([-1, flat], 'int32');
  const weights: { name: string; tensor: tf.Tensor }[] = [
    { name: 'conv/kernel', tensor: k1 },
    { name: 'conv/bias', tensor: b1 },
    { name: 'dense/kernel', tensor: w2 },
    { name: 'dense/bias', tensor: b2 },
    { name: 'flatten/shape', tensor: shape },
  ];
  const dt = (t: tf.Tensor) => (t.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT');
  const head =
    activation === 'linear'
      ? [{ name: 'Identity', op: 'Identity', input: ['dense/BiasAdd'], attr: T }]
      : [
          {
            name: `dense/${activation === 'softmax' ? 'Softmax' : 'Sigmoid'}`,
            op: activation === 'softmax' ? 'Softmax' : 'Sigmoid',
            input: ['dense/BiasAdd'],
            attr: T,
          },
          {
            name: 'Identity',
            op: 'Identity',
            input: [`dense/${activation === 'softmax' ? 'Softmax' : 'Sigmoid'}`],
            attr: T,
          },
        ];
  const node = [
    {
      name: 'input',
      op: 'Placeholder',
      attr: {
        dtype: { type: 'DT_FLOAT' },
        shape: { shape: { dim: [-1, size, size, 1].map((d) => ({ size: String(d) })) } },
      },
    },
    ...weights.map(({ name, tensor }) => ({
      name,
      op: 'Const',
      attr: {
        dtype: { type: dt(tensor) },
        value: {
          tensor: {
            dtype: dt(tensor),
            tensorShape: { dim: tensor.shape.map((d) => ({ size: String(d) })) },
          },
        },
      },
    })),
    {
      name: 'conv/Conv2D',
      op: 'Conv2D',
      input: ['input', 'conv/kernel'],
      attr: {
        ...T,
        strides: ints([1, 1, 1, 1]),
        padding: { s: b64('VALID') },
        data_format: { s: b64('NHWC') },
        dilations: ints([1, 1, 1, 1]),
      },
    },
    {
      name: 'conv/BiasAdd',
      op: 'BiasAdd',
      input: ['conv/Conv2D', 'conv/bias'],
      attr: { ...T, data_format: { s: b64('NHWC') } },
    },
    { name: 'conv/Relu', op: 'Relu', input: ['conv/BiasAdd'], attr: T },
    {
      name: 'flatten/Reshape',
      op: 'Reshape',
      input: ['conv/Relu', 'flatten/shape'],
      attr: T,
    },
    {
      name: 'dense/MatMul',
      op: 'MatMul',
      input: ['flatten/Reshape', 'dense/kernel'],
      attr: { ...T, transpose_a: { b: false }, transpose_b: { b: false } },
    },
    {
      name: 'dense/BiasAdd',
      op: 'BiasAdd',
      input: ['dense/MatMul', 'dense/bias'],
      attr: { ...T, data_format: { s: b64('NHWC') } },
    },
    ...head,
    ...(auxOutput ? [{ name: 'aux', op: 'Identity', input: ['conv/Relu'], attr: T }] : []),
  ];
  const { data, specs } = await tf.io.encodeWeights(weights);
  shape.dispose();
  const artifacts: tf.io.ModelArtifacts = {
    format: 'graph-model',
    generatedBy: 'advkit test',
    convertedBy: 'advkit test (graph-fixture.ts)',
    modelTopology: { node, library: {}, versions: { producer: 1 } },
    weightSpecs: specs,
    weightData: data,
  };
  const graph = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
  return { layers, artifacts, graph };
}
