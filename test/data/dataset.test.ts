import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import sharp from 'sharp';
import {
  batches,
  type Dataset,
  datasetTensor4D,
  encodePng,
  loadImageFolder,
  setBackend,
  sliceDataset,
  toTensor4D,
  writePng,
} from '../../src/node.js';
import { coded, tmp } from './helpers.js';

const tiny = (n: number): Dataset => ({
  images: Float32Array.from({ length: n * 4 }, (_, i) => i),
  labels: Int32Array.from({ length: n }, (_, i) => i % 2),
  shape: [2, 2, 1],
  numClasses: 2,
  classNames: ['a', 'b'],
  source: 'test',
});

test('batches: in order, last batch smaller, one fresh tensor per batch', async () => {
  await setBackend('cpu');
  const ds = tiny(5);
  const before = tf.memory().numTensors;
  const seen: { offset: number; shape: number[]; labels: number[]; first: number }[] = [];
  for (const { x, labels, offset } of batches(ds, 2)) {
    seen.push({ offset, shape: x.shape, labels: Array.from(labels), first: x.dataSync()[0] });
    x.dispose();
  }
  assert.deepEqual(seen, [
    { offset: 0, shape: [2, 2, 2, 1], labels: [0, 1], first: 0 },
    { offset: 2, shape: [2, 2, 2, 1], labels: [0, 1], first: 8 },
    { offset: 4, shape: [1, 2, 2, 1], labels: [0], first: 16 },
  ]);
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
  assert.throws(() => batches(ds, 0).next(), coded('INVALID_OPTION', /batchSize.*received 0/));
});

test('toTensor4D and datasetTensor4D shape images; a partial image is an error', async () => {
  await setBackend('cpu');
  const ds = tiny(3);
  const all = datasetTensor4D(ds);
  assert.deepEqual(all.shape, [3, 2, 2, 1]);
  const part = datasetTensor4D(ds, 1, 2);
  assert.deepEqual(Array.from(part.dataSync()), [4, 5, 6, 7]);
  assert.deepEqual(sliceDataset(ds, 1, 3).shape, [2, 2, 2, 1]);
  tf.dispose([all, part]);
  assert.throws(
    () => toTensor4D(new Float32Array(5), [2, 2, 1]),
    coded('INVALID_SHAPE', /5 values are not a whole number of \[2,2,1\] images/),
  );
});

test('PNG round trip: gray [0, 255] exact, RGB [0, 1] through loadImageFolder', async () => {
  const dir = tmp('png');
  const px = Float32Array.from({ length: 12 }, (_, i) => (i * 255) / 11);
  const file = path.join(dir, 'a.png');
  writePng(file, px, [3, 4, 1], [0, 255]);
  const back = PNG.sync.read(readFileSync(file));
  assert.equal(back.width, 4);
  assert.equal(back.height, 3);
  assert.equal((await sharp(file).metadata()).channels, 1, 'stored as a gray PNG');
  for (let i = 0; i < 12; i++) {
    assert.equal(back.data[i * 4], Math.round(px[i]));
    assert.equal(back.data[i * 4 + 2], Math.round(px[i]), 'gray: R = G = B');
  }

  const rgb = Float32Array.from({ length: 5 * 6 * 3 }, (_, i) => (i % 256) / 255);
  writePng(path.join(dir, 'cls', 'b.png'), rgb, [5, 6, 3], [0, 1]);
  const ds = await loadImageFolder(dir, { shape: [5, 6, 3] });
  assert.deepEqual(ds.conversions, [
    'pixels scaled from 0–255 to [0, 1]',
    'class folders → labels: cls → 0',
  ]);
  for (let i = 0; i < rgb.length; i++)
    assert.ok(Math.abs(ds.images[i] - rgb[i]) < 1e-6, 'Math.abs(ds.images[i] - rgb[i]) < 1e-6');

  assert.throws(
    () => encodePng(new Float32Array(10), [3, 4, 1], [0, 1]),
    coded('INVALID_SHAPE', /10 pixel values; received \[3,4,1\]/),
  );
  assert.throws(() => encodePng(px, [3, 4, 1], [1, 1]), coded('INVALID_OPTION', /bounds/));
});
