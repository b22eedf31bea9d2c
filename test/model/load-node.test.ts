/**
 * Loading models from disk: both TF.js formats, a stable checksum, and a
 * coded error for every way a model folder can be broken.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import {
  AdvkitError,
  FGSM,
  loadClassifierFromFile,
  saveModelFiles,
  setBackend,
} from '../../src/node.js';

before(async () => {
  await setBackend();
});

const tmp = () => mkdtempSync(path.join(tmpdir(), 'advkit-model-'));
const modelLoadError = (re: RegExp) => (e: unknown) =>
  e instanceof AdvkitError && e.code === 'MODEL_LOAD' && re.test(e.message);

async function savedLayersModel(): Promise<{ dir: string; net: tf.Sequential }> {
  const net = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [6, 6, 1],
        filters: 2,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  const dir = tmp();
  await saveModelFiles(net, dir);
  return { dir, net };
}

test('a saved layers model loads with the same predictions and a stable checksum', async () => {
  const { dir, net } = await savedLayersModel();
  const a = await loadClassifierFromFile(path.join(dir, 'model.json'));
  const b = await loadClassifierFromFile(path.join(dir, 'model.json'));
  assert.equal(a.format, 'layers-model');
  assert.match(a.checksum, /^[0-9a-f]{64}$/);
  assert.equal(a.checksum, b.checksum);
  const x = tf.randomUniform([4, 6, 6, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
  const want = (net.predict(x) as tf.Tensor).arraySync();
  const got = a.model.logits(x).arraySync();
  assert.deepEqual(got, want);
  tf.dispose([x]);
});

test('a graph-model model.json loads and can be attacked', async () => {
  // logits = reshape(x, [-1, 4]) · W, written by hand in the graph-model format.
  const dir = tmp();
  const W = new Float32Array([1, -1, 0.5, -0.5, 2, 0, 0, 1, -1, 1, 1, 0]);
  const shape = new Int32Array([-1, 4]);
  writeFileSync(
    path.join(dir, 'group1-shard1of1.bin'),
    Buffer.concat([Buffer.from(W.buffer), Buffer.from(shape.buffer)]),
  );
  const node = (name: string, op: string, input: string[] = [], attr: object = {}) => ({
    name,
    op,
    input,
    attr,
  });
  writeFileSync(
    path.join(dir, 'model.json'),
    JSON.stringify({
      format: 'graph-model',
      generatedBy: 'hand',
      convertedBy: 'advkit test',
      modelTopology: {
        node: [
          node('x', 'Placeholder', [], {
            dtype: { type: 'DT_FLOAT' },
            shape: {
              shape: { dim: [{ size: '-1' }, { size: '2' }, { size: '2' }, { size: '1' }] },
            },
          }),
          node('W', 'Const', [], {
            dtype: { type: 'DT_FLOAT' },
            value: {
              tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '4' }, { size: '3' }] } },
            },
          }),
          node('shape', 'Const', [], {
            dtype: { type: 'DT_INT32' },
            value: { tensor: { dtype: 'DT_INT32', tensorShape: { dim: [{ size: '2' }] } } },
          }),
          node('flat', 'Reshape', ['x', 'shape'], { T: { type: 'DT_FLOAT' } }),
          node('logits', 'MatMul', ['flat', 'W'], {
            T: { type: 'DT_FLOAT' },
            transpose_a: { b: false },
            transpose_b: { b: false },
          }),
        ],
        library: {},
        versions: { producer: 1 },
      },
      weightsManifest: [
        {
          paths: ['group1-shard1of1.bin'],
          weights: [
            { name: 'W', shape: [4, 3], dtype: 'float32' },
            { name: 'shape', shape: [2], dtype: 'int32' },
          ],
        },
      ],
    }),
  );
  const { model, format } = await loadClassifierFromFile(path.join(dir, 'model.json'));
  assert.equal(format, 'graph-model');
  assert.deepEqual(model.inputShape, [2, 2, 1]);
  assert.equal(model.numClasses, 3);
  const x = tf.tensor4d([0.5, 0.25, 0.75, 1], [1, 2, 2, 1]);
  // W's rows are [1, −1, 0.5], [−0.5, 2, 0], [0, 1, −1], [1, 1, 0]:
  // [0.5, 0.25, 0.75, 1] · W = [0.5 − 0.125 + 0 + 1, −0.5 + 0.5 + 0.75 + 1, 0.25 + 0 − 0.75 + 0]
  const z = model.logits(x).arraySync()[0];
  const want = [1.375, 1.75, -0.5];
  z.forEach((v, i) => {
    assert.ok(Math.abs(v - want[i]) < 1e-6, `logit ${i}: ${v} vs ${want[i]}`);
  });
  const [r] = await new FGSM().run(model, { x, labels: [1] }, [0.1]);
  assert.ok(r.distance[0] <= 0.1 + 1e-6, 'r.distance[0] <= 0.1 + 1e-6');
  tf.dispose([x, r.xAdv]);
});

// Every broken-file case of the reader is tested in io-node.test.ts; here,
// that its errors reach the caller, and the one error only loading can find.
test('broken model folders are coded errors naming the problem', async () => {
  const { dir } = await savedLayersModel();
  await assert.rejects(
    loadClassifierFromFile(path.join(dir, 'nope.json')),
    modelLoadError(/does not exist/),
  );
  const wrongTopology = tmp();
  writeFileSync(
    path.join(wrongTopology, 'model.json'),
    JSON.stringify({ modelTopology: { class_name: 'Nonsense' }, weightsManifest: [] }),
  );
  await assert.rejects(
    loadClassifierFromFile(path.join(wrongTopology, 'model.json')),
    modelLoadError(/not a loadable TF.js layers-model/),
  );
});
