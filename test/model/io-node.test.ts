/**
 * Model files on disk through io-node: a save/load round trip keeps the
 * predictions, both formats are recognised, the checksum is stable, and every
 * broken file is a MODEL_LOAD error naming it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/backend/index.js';
import { AdvkitError } from '../../src/errors.js';
import {
  checksumModelFiles,
  fileLoadHandler,
  fileSaveHandler,
  modelFormat,
} from '../../src/model/io-node.js';
import { checksumArtifacts } from '../../src/model/load.js';
import { loadClassifierFromFile } from '../../src/model/load-node.js';

before(async () => {
  await setBackend('cpu');
});

const tmp = () => mkdtempSync(path.join(tmpdir(), 'advkit-io-'));
const modelLoadError = (re: RegExp) => (e: unknown) =>
  e instanceof AdvkitError && e.code === 'MODEL_LOAD' && re.test(e.message);

function smallNet(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [6, 6, 1],
        filters: 2,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
}

async function saved(): Promise<{ dir: string; json: string; net: tf.Sequential }> {
  const net = smallNet();
  const dir = path.join(tmp(), 'nested', 'model');
  await net.save(fileSaveHandler(dir));
  return { dir, json: path.join(dir, 'model.json'), net };
}

test('save then load a layers model: same predictions, only model.json and weights.bin left', async () => {
  const { dir, json, net } = await saved();
  assert.deepEqual(readdirSync(dir).sort(), ['model.json', 'weights.bin']);
  const loaded = await tf.loadLayersModel(fileLoadHandler(json));
  const x = tf.randomUniform([4, 6, 6, 1], 0, 1, 'float32', 3);
  const want = (net.predict(x) as tf.Tensor).arraySync();
  const got = (loaded.predict(x) as tf.Tensor).arraySync();
  assert.deepEqual(got, want);
  // 2·(3·3·1) + 2 conv, 3·(2·2·2) + 3 dense = 20 + 27 = 47 floats = 188 bytes.
  assert.equal(readFileSync(path.join(dir, 'weights.bin')).byteLength, 188);
  assert.equal(modelFormat(JSON.parse(readFileSync(json, 'utf8'))), 'layers-model');
  tf.dispose([x]);
  net.dispose();
  loaded.dispose();
});

test('saving again replaces the files whole; the checksum follows the weights', async () => {
  const { dir, json, net } = await saved();
  const first = await checksumModelFiles(json);
  assert.match(first, /^[0-9a-f]{64}$/);
  assert.equal(await checksumModelFiles(json), first, 'stable');
  const artifacts = await fileLoadHandler(json).load!();
  assert.equal(await checksumArtifacts(artifacts), first, 'the value loaders report');
  net.layers[3].setWeights(net.layers[3].getWeights().map((w) => tf.mul(w, 2)));
  await net.save(fileSaveHandler(dir));
  assert.notEqual(await checksumModelFiles(json), first);
  assert.deepEqual(readdirSync(dir).sort(), ['model.json', 'weights.bin'], 'no temp files left');
  net.dispose();
});

test('modelFormat: format field, layers topologies (tfjs and Keras), graph topologies', () => {
  assert.equal(modelFormat({ format: 'graph-model', modelTopology: {} }), 'graph-model');
  assert.equal(modelFormat({ modelTopology: { node: [], versions: {} } }), 'graph-model');
  assert.equal(modelFormat({ modelTopology: { class_name: 'Sequential' } }), 'layers-model');
  assert.equal(
    modelFormat({ modelTopology: { keras_version: '2.4', model_config: { class_name: 'Model' } } }),
    'layers-model',
  );
  assert.throws(
    () => modelFormat({ name: 'advkit' }, 'package.json'),
    modelLoadError(/package\.json is not a TF\.js model\.json.*keys \[name\]/),
  );
  assert.throws(
    () => modelFormat({ modelTopology: { foo: 1 } }),
    modelLoadError(/expected format 'layers-model' or 'graph-model'/),
  );
});

test('a graph-model model.json loads through fileLoadHandler', async () => {
  // logits = x · W with x [n, 2] and W [[1, 2], [3, 4]], in the graph-model format.
  const dir = tmp();
  writeFileSync(path.join(dir, 'w.bin'), Buffer.from(new Float32Array([1, 2, 3, 4]).buffer));
  const f32 = { type: 'DT_FLOAT' };
  writeFileSync(
    path.join(dir, 'model.json'),
    JSON.stringify({
      format: 'graph-model',
      modelTopology: {
        node: [
          {
            name: 'x',
            op: 'Placeholder',
            attr: { dtype: f32, shape: { shape: { dim: [{ size: '-1' }, { size: '2' }] } } },
          },
          {
            name: 'W',
            op: 'Const',
            attr: {
              dtype: f32,
              value: {
                tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '2' }, { size: '2' }] } },
              },
            },
          },
          { name: 'y', op: 'MatMul', input: ['x', 'W'], attr: { T: f32 } },
        ],
        versions: { producer: 1 },
      },
      weightsManifest: [
        { paths: ['w.bin'], weights: [{ name: 'W', shape: [2, 2], dtype: 'float32' }] },
      ],
    }),
  );
  const g = await tf.loadGraphModel(fileLoadHandler(path.join(dir, 'model.json')));
  const y = g.predict(tf.tensor2d([[1, 1]])) as tf.Tensor;
  assert.deepEqual(y.arraySync(), [[4, 6]]); // [1 + 3, 2 + 4]
  tf.dispose([y]);
});

test('every broken model file is a MODEL_LOAD error naming the file and what was expected', async () => {
  const { dir, json } = await saved();
  const load = (file: string) => fileLoadHandler(file).load!();
  await assert.rejects(
    load(path.join(dir, 'nope.json')),
    modelLoadError(/nope\.json does not exist; expected the path of a TF\.js model\.json/),
  );
  await assert.rejects(
    load(dir),
    modelLoadError(/is a folder; expected the path of its model\.json/),
  );
  await assert.rejects(
    checksumModelFiles(path.join(dir, 'nope.json')),
    modelLoadError(/does not exist/),
  );

  const bad = tmp();
  const badJson = path.join(bad, 'model.json');
  writeFileSync(badJson, '{ not json');
  await assert.rejects(load(badJson), modelLoadError(/model\.json is not valid JSON/));
  writeFileSync(badJson, '{"name": "advkit", "version": "0.1.0"}');
  await assert.rejects(
    load(badJson),
    modelLoadError(/not a TF\.js model\.json.*keys \[name, version\]/),
  );
  writeFileSync(badJson, JSON.stringify({ modelTopology: { class_name: 'Sequential' } }));
  await assert.rejects(load(badJson), modelLoadError(/no valid weightsManifest/));

  const noShard = tmp();
  copyFileSync(json, path.join(noShard, 'model.json'));
  await assert.rejects(
    load(path.join(noShard, 'model.json')),
    modelLoadError(/weight file .*weights\.bin named in .*model\.json does not exist/),
  );

  const short = tmp();
  copyFileSync(json, path.join(short, 'model.json'));
  writeFileSync(
    path.join(short, 'weights.bin'),
    readFileSync(path.join(dir, 'weights.bin')).subarray(0, 10),
  );
  await assert.rejects(
    load(path.join(short, 'model.json')),
    modelLoadError(/weights\.bin hold 10 bytes but the manifest in .* describes 188/),
  );
  assert.ok(existsSync(json), 'the original is untouched');
});

/** A copy of the small net's files in a fresh folder, with its model.json edited by `edit`. */
async function copyWith(
  edit: (json: tf.io.ModelJSON) => void,
): Promise<{ dir: string; json: string }> {
  const { json: src, dir: srcDir, net } = await saved();
  net.dispose();
  const dir = tmp();
  const model = JSON.parse(readFileSync(src, 'utf8')) as tf.io.ModelJSON;
  edit(model);
  copyFileSync(path.join(srcDir, 'weights.bin'), path.join(dir, 'weights.bin'));
  writeFileSync(path.join(dir, 'model.json'), JSON.stringify(model));
  return { dir, json: path.join(dir, 'model.json') };
}

const withPath = (p: string) => (m: tf.io.ModelJSON) => {
  m.weightsManifest[0].paths = [p];
};

test('weight paths stay inside the model folder: ../, absolute, symlinks out, FIFOs, /dev/zero are refused by name', async () => {
  const load = (file: string) => fileLoadHandler(file).load!();
  const refused = (p: string, why: RegExp) =>
    modelLoadError(
      new RegExp(
        `weight path "${p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}" in .*model\\.json ${why.source}; weight files must be regular files inside the model's folder`,
      ),
    );
  // A 188-byte file outside the folder: the size the manifest wants, so only the path check stops it.
  const outside = path.join(tmp(), 'secret.bin');
  writeFileSync(outside, Buffer.alloc(188, 7));

  const up = await copyWith(withPath(`../${path.basename(path.dirname(outside))}/secret.bin`));
  const upErr = await load(up.json).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(upErr instanceof AdvkitError, `../ must be refused; got ${String(upErr)}`);
  assert.match(upErr.message, /leads out of the folder; weight files must be regular files/);
  assert.doesNotMatch(upErr.message, /188/, "the outside file's size is not told");

  const abs = await copyWith(withPath(outside));
  await assert.rejects(load(abs.json), refused(outside, /is absolute/));
  await assert.rejects(
    load((await copyWith(withPath('file:///etc/passwd'))).json),
    refused('file:///etc/passwd', /is absolute/),
  );

  const link = await copyWith(withPath('./w.bin'));
  symlinkSync(outside, path.join(link.dir, 'w.bin'));
  await assert.rejects(
    load(link.json),
    refused('./w.bin', /leads out of the folder through a symbolic link/),
  );

  const zero = await copyWith(withPath('zero.bin'));
  symlinkSync('/dev/zero', path.join(zero.dir, 'zero.bin'));
  await assert.rejects(
    load(zero.json),
    refused('zero.bin', /leads out of the folder through a symbolic link/),
  );
  await assert.rejects(
    load((await copyWith(withPath('/dev/zero'))).json),
    refused('/dev/zero', /is absolute/),
  );

  // A FIFO nobody writes to would block a plain read forever.
  const fifo = await copyWith(withPath('fifo.bin'));
  execFileSync('mkfifo', [path.join(fifo.dir, 'fifo.bin')]);
  await assert.rejects(load(fifo.json), refused('fifo.bin', /is not a regular file/));

  // Inside the folder, a symlink to a regular file there is fine.
  const inner = await copyWith(withPath('alias.bin'));
  symlinkSync('weights.bin', path.join(inner.dir, 'alias.bin'));
  const artifacts = await load(inner.json);
  assert.equal(
    (artifacts.weightData as ArrayBuffer).byteLength,
    188,
    'read through the inner link',
  );
});

test('model.json itself must be a regular file: a FIFO is refused, not read', async () => {
  const dir = tmp();
  const file = path.join(dir, 'model.json');
  execFileSync('mkfifo', [file]);
  await assert.rejects(
    fileLoadHandler(file).load!(),
    modelLoadError(/model file .*model\.json is not a regular file/),
  );
});

test('a topology declaring a huge layer over small weights fails before TF.js allocates it', async () => {
  const huge = await copyWith((m) => {
    const layers = (m.modelTopology as { config: { layers: { config: { units?: number } }[] } })
      .config.layers;
    layers[layers.length - 1].config.units = 50_000_000; // 47·50M floats ≈ 9 GB if built
  });
  const before = tf.memory().numBytes;
  await assert.rejects(
    loadClassifierFromFile(huge.json),
    modelLoadError(
      /layer dense_Dense\d+ \(Dense\) declares kernel \[8, 50000000\] for an input of shape \[8\] but the weightsManifest has dense_Dense\d+\/kernel \[8, 3\]/,
    ),
  );
  assert.equal(tf.memory().numBytes, before, 'nothing allocated');

  // An input declared 10000 × 10000: the Dense after Flatten would be 10⁸ × 3.
  const wide = await copyWith((m) => {
    const layers = (
      m.modelTopology as { config: { layers: { config: { batch_input_shape?: unknown } }[] } }
    ).config.layers;
    layers[0].config.batch_input_shape = [null, 10000, 10000, 1];
  });
  await assert.rejects(
    loadClassifierFromFile(wide.json),
    modelLoadError(
      /layer dense_Dense\d+ \(Dense\) declares kernel \[49980002, 3\] for an input of shape \[49980002\] but the weightsManifest has dense_Dense\d+\/kernel \[8, 3\]/,
    ),
  );
  assert.equal(tf.memory().numBytes, before, 'nothing allocated');

  // Weights under other names: the parameter count alone gives it away.
  const renamed = await copyWith((m) => {
    const layers = (m.modelTopology as { config: { layers: { config: { units?: number } }[] } })
      .config.layers;
    layers[layers.length - 1].config.units = 50_000_000;
    for (const w of m.weightsManifest[0].weights) w.name = `other/${w.name.split('/')[1]}`;
  });
  await assert.rejects(
    loadClassifierFromFile(renamed.json),
    modelLoadError(/need at least 400000018 parameters but the weightsManifest holds 47/),
  );
  assert.equal(tf.memory().numBytes, before, 'nothing allocated');
});

test('a manifest declaring more bytes than its files hold fails before any file is read', async () => {
  const big = await copyWith((m) => {
    m.weightsManifest[0].weights.push({ name: 'extra', shape: [100_000_000], dtype: 'float32' });
  });
  await assert.rejects(
    fileLoadHandler(big.json).load!(),
    modelLoadError(/hold 188 bytes but the manifest in .* describes 400000188/),
  );
  const negative = await copyWith((m) => {
    m.weightsManifest[0].weights[0].shape = [-1, 3];
  });
  await assert.rejects(
    fileLoadHandler(negative.json).load!(),
    modelLoadError(/no valid weightsManifest/),
  );
});

test('models of every layer kind the shape check follows load as before (no false refusal)', async () => {
  const L = tf.layers;
  const nets = [
    [
      L.conv2d({ inputShape: [13, 11, 3], filters: 4, kernelSize: 3, strides: 2, padding: 'same' }),
      L.batchNormalization(),
      L.reLU(),
      L.depthwiseConv2d({ kernelSize: [3, 2], depthMultiplier: 2, padding: 'valid' }),
      L.separableConv2d({ filters: 5, kernelSize: 2, dilationRate: 1 }),
      L.zeroPadding2d({
        padding: [
          [1, 2],
          [0, 3],
        ],
      }),
      L.averagePooling2d({ poolSize: 2, strides: 1 }),
      L.maxPooling2d({ poolSize: 3, padding: 'same' }),
      L.conv2d({ filters: 3, kernelSize: 2, dilationRate: 2, padding: 'same' }),
      L.flatten(),
      L.dropout({ rate: 0.1 }),
      L.dense({ units: 6 }),
      L.reshape({ targetShape: [2, 3] }),
      L.dense({ units: 4, useBias: false }),
      L.flatten(),
      L.dense({ units: 3 }),
    ],
    [
      L.zeroPadding2d({ inputShape: [9, 9, 1], padding: 2 }),
      L.conv2d({ filters: 2, kernelSize: 4, strides: 3 }),
      L.globalAveragePooling2d({}),
      L.dense({ units: 3, activation: 'softmax' }),
    ],
    [L.dense({ inputShape: [4, 5], units: 2 }), L.flatten(), L.dense({ units: 3 })],
  ];
  for (const [i, layers] of nets.entries()) {
    const net = tf.sequential({ layers });
    const dir = path.join(tmp(), `kind-${i}`);
    await net.save(fileSaveHandler(dir));
    const loaded = await tf.loadLayersModel(fileLoadHandler(path.join(dir, 'model.json')));
    assert.equal(loaded.countParams(), net.countParams(), `net ${i}: the same weights`);
    net.dispose();
    loaded.dispose();
  }
});
